"""The Mandarin classifier reads a turn respelled to the script's words: "号码" heard as "好吗"
is still a caller asking how the bot got the number (the real encoder and script)."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT
from voicebot.policy.schema import load_script
from voicebot.session.dialogue import script_classifier

pytestmark = pytest.mark.integration


def test_a_same_sounding_misspelling_keeps_its_intent(store) -> None:  # type: ignore[no-untyped-def]
    script = load_script(ROOT / "prompts" / "upgrade_zh.yaml")
    classifier = script_classifier(script, "zh", store.encoder("zh"))
    heard = classifier.classify("你们怎么会有这个好吗")
    assert heard.intent == "how_got_number" and heard.confidence >= 0.3, heard
    assert classifier.classify("不可以").intent == "deny"  # nothing to respell: as before
    classifier._respeller = None  # the characters alone
    assert classifier.classify("你们怎么会有这个好吗").confidence < heard.confidence
