"""The policy on a bad line, in text: quiet or noisy turns ask the caller to speak up (never a
person for it), a line that keeps losing frames ends with a booked callback instead of a
transfer. Every script, with the intents and the line measures given directly."""

from datetime import datetime

import pytest

from tests.conftest import ROOT
from voicebot.core.outcomes import Outcome
from voicebot.policy.actions import Action, HangUp, Heard, Say, ScheduleCallback, Transfer, Unheard
from voicebot.policy.engine import DialogueState, Policy
from voicebot.policy.schema import load_script, text_of
from voicebot.vad.level import Audibility

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 24, 10, 0)
SCRIPTS = ["survey_en", "reminder_en", "upgrade_zh", "followup_zh"]
QUIET, NOISY, OK = Audibility.QUIET, Audibility.NOISY, Audibility.OK


def start(name: str) -> tuple[Policy, DialogueState]:
    script = load_script(ROOT / "prompts" / f"{name}.yaml")
    policy = Policy(script)
    state, _ = policy.start(script.example_contact)
    return policy, state


def steps(policy: Policy, state: DialogueState, events: list) -> tuple[DialogueState, list]:  # type: ignore[type-arg]
    out: list[Action] = []
    for event in events:
        state, actions = policy.step(state, event)
        out += actions
    return state, out


def said(actions: list[Action]) -> list[str]:
    return [a.node for a in actions if isinstance(a, Say)]


def unclear(audibility: Audibility = OK, loss: float = 0.0) -> Heard:
    return Heard("mm", "other", 0.1, NOW, audibility, loss)


@pytest.mark.parametrize("name", SCRIPTS)
def test_quiet_speech_without_words_asks_to_speak_up_with_the_scripts_line(name: str) -> None:
    policy, state = start(name)
    state, actions = steps(policy, state, [Unheard(1.0, QUIET)])
    line = text_of(policy.script.lines.speak_up, policy.language)  # type: ignore[arg-type]
    assert [a.text for a in actions if isinstance(a, Say)] == [line]
    assert "clarify" not in said(actions) and not state.ended


@pytest.mark.parametrize("audibility", [QUIET, NOISY])
def test_faint_turns_ask_to_speak_up_then_call_back_never_an_agent(audibility: Audibility) -> None:
    policy, state = start("survey_en")
    events = [Unheard(1.0, audibility), unclear(audibility), Unheard(1.0, audibility)]
    state, actions = steps(policy, state, events)
    assert said(actions) == ["speak_up", "speak_up", "line_unstable"]
    assert not any(isinstance(a, Transfer) for a in actions)
    assert ScheduleCallback(None) in actions and actions[-1] == HangUp(Outcome.CALLBACK)


def test_a_quiet_answer_that_was_understood_is_taken_and_the_caller_asked_once() -> None:
    policy, state = start("survey_en")
    yes = Heard("yes speaking", "affirm", 0.9, NOW, QUIET)
    state, actions = steps(policy, state, [yes])
    assert said(actions) == ["speak_up", "purpose"]
    state, actions = steps(policy, state, [Heard("sure", "affirm", 0.9, NOW, QUIET)])
    assert said(actions) == ["q1"]  # asked once in the call, not at every turn


def test_no_speak_up_before_a_goodbye() -> None:
    policy, state = start("survey_en")
    state, actions = steps(
        policy, state, [Heard("not interested", "not_interested", 0.9, NOW, QUIET)]
    )
    assert "speak_up" not in said(actions) and state.ended == Outcome.REFUSED


def test_clear_speech_not_understood_still_clarifies_then_transfers() -> None:
    policy, state = start("survey_en")
    state, actions = steps(policy, state, [unclear(), unclear()])
    assert said(actions) == ["clarify", "transfer"]
    assert any(isinstance(a, Transfer) for a in actions)


@pytest.mark.parametrize("name", SCRIPTS)
def test_a_broken_line_books_a_callback_instead_of_a_transfer(name: str) -> None:
    policy, state = start(name)
    state, actions = steps(policy, state, [unclear(loss=0.3), Unheard(1.0, OK, 0.3)])
    line = text_of(policy.script.lines.line_unstable, policy.language)  # type: ignore[arg-type]
    assert [a.text for a in actions if isinstance(a, Say)][-1] == line
    assert ScheduleCallback(None) in actions and actions[-1] == HangUp(Outcome.CALLBACK)
    assert not any(isinstance(a, Transfer) for a in actions)
    assert state.ended == Outcome.CALLBACK


def test_two_broken_turns_end_the_call_even_when_words_came_through() -> None:
    policy, state = start("survey_en")
    broken = [Heard("yes", "affirm", 0.9, NOW, OK, 0.25), Heard("yes", "affirm", 0.9, NOW, OK, 0.3)]
    state, actions = steps(policy, state, broken)
    assert said(actions)[-1] == "line_unstable" and state.ended == Outcome.CALLBACK


def test_low_confidence_on_a_lossy_line_calls_back_and_one_bad_turn_does_not() -> None:
    policy, state = start("survey_en")
    state, actions = steps(policy, state, [unclear(loss=0.12), unclear(loss=0.12)])
    assert said(actions) == ["clarify", "line_unstable"]
    assert not any(isinstance(a, Transfer) for a in actions)
    policy, state = start("survey_en")
    state, actions = steps(
        policy,
        state,
        [Heard("yes", "affirm", 0.9, NOW, OK, 0.3), Heard("sure", "affirm", 0.9, NOW)],
    )
    assert said(actions) == ["purpose", "q1"] and not state.ended


def test_a_line_that_recovers_is_not_called_back() -> None:
    policy, state = start("survey_en")
    events = [unclear(loss=0.12), Heard("yes speaking", "affirm", 0.9, NOW), unclear()]
    state, actions = steps(policy, state, events)
    assert said(actions) == ["clarify", "purpose", "clarify"] and not state.ended
