"""A clear yes is evidence for affirm, not a verdict: it lifts an unsure classifier, a classifier
sure of something else keeps its reading (issue 14)."""

import pytest

from tests.conftest import ROOT
from voicebot.policy.schema import load_script
from voicebot.session.dialogue import script_classifier

pytestmark = pytest.mark.integration


def test_a_clear_yes_lifts_affirm_but_never_overrides_a_sure_classifier(store) -> None:
    script = load_script(ROOT / "prompts" / "survey_en.yaml")
    clf = script_classifier(script, "en", store.encoder("en"))
    # unlike every exemplar, yet plainly a yes
    assert clf.classify("Yeah, you've reached the right house?").intent == "affirm"
    assert clf.classify("Okay, shoot.").intent == "affirm"
    # a yes-word opening something else
    assert clf.classify("Yes, stop calling me.").intent == "stop_calling"
    assert clf.classify("Yeah, no, I'm not interested.").intent == "not_interested"
    assert clf.classify("Sure, but who are you?").intent != "affirm"
