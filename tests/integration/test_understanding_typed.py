"""`./dev bench understanding --typed` in small (held-out phrasings as text, through the real
classifier and the policy at the node that asked), and how the benchmark reads what the policy
did."""

from __future__ import annotations

from datetime import datetime

import pytest

from benchmarks.understanding.cases import clips
from benchmarks.understanding.evaluate import Hearing, correct, interpret
from tests.conftest import ROOT
from voicebot.policy.actions import Heard
from voicebot.policy.engine import Policy
from voicebot.policy.schema import load_script
from voicebot.session.dialogue import script_classifier

pytestmark = pytest.mark.integration
NOW = datetime(2026, 12, 1, 10, 0)


def test_a_handler_that_goes_on_where_an_answer_goes_is_that_answer() -> None:
    """ "No, not right now." read as `not_now` at "is now a good time?" asks when to call back,
    as the no does: the benchmark counts it as the no; a yes is still no no."""
    policy = Policy(load_script(ROOT / "prompts" / "survey_en.yaml"))
    state, _ = policy.start(dict(policy.script.example_contact))
    state, _ = policy.step(state, Heard("Yes, speaking.", "affirm", 0.9, NOW))
    assert state.node == "purpose"
    after, actions = policy.step(state, Heard("No, not right now.", "not_now", 0.9, NOW))
    labels = interpret(policy.script, state, after, actions)
    assert after.node == "when_callback" and {"not_now", "deny"} <= labels
    assert correct("deny", (), labels) and not correct("affirm", (), labels)


def test_typed_phrasings_are_read_as_said_at_the_node_that_asked(store) -> None:  # type: ignore[no-untyped-def]
    script = load_script(ROOT / "prompts" / "survey_en.yaml")
    classifier = script_classifier(script, "en", store.encoder("en"))
    hearing = Hearing("en", None, {script.name: classifier}, {script.name: script})
    batch = [c for c in clips("en", "dev", 1, None) if c.voice and c.case.script == script.name]
    ratings = [c for c in batch if c.case.expect.startswith("rating:")][:3]
    assert ratings
    for clip in ratings:
        out = hearing.read(clip)
        assert out.heard == clip.case.text and out.intent
        assert correct(clip.case.expect, clip.case.also, out.labels), (clip.case.text, out.labels)
