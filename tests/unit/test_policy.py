"""The script policy driven in text, without audio or models (intents given directly)."""

from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT
from voicebot.policy.actions import (
    HandoffResult,
    HangUp,
    Heard,
    MarkDnc,
    Say,
    ScheduleCallback,
    SetGrade,
    Silence,
    Transfer,
)
from voicebot.policy.engine import Policy
from voicebot.policy.lint import _lines as script_lines
from voicebot.policy.lint import check_file
from voicebot.policy.schema import load_script, text_of

pytestmark = pytest.mark.unit
SURVEY = ROOT / "prompts" / "survey_en.yaml"
CONTACT = {"name": "Ann Lee", "company": "Acme Home", "agent_name": "Sam", "visit_date": "Monday"}
NOW = datetime(2026, 11, 24, 10, 0)


def heard(text: str, intent: str = "other", confidence: float = 0.9) -> Heard:
    return Heard(text, intent, confidence, NOW)


def run(events: list, script_path: Path = SURVEY):  # type: ignore[no-untyped-def]
    policy = Policy(load_script(script_path))
    state, actions = policy.start(CONTACT)
    for event in events:
        state, more = policy.step(state, event)
        actions += more
    return state, actions


def test_example_script_passes_the_linter() -> None:
    assert check_file(SURVEY) == []


BROKEN = {
    "undefined_node": ("    goto: {affirm: nowhere}", 5, "undefined node 'nowhere'"),
    "bad_field": ("    sey: hi", 5, "sey: Extra inputs are not permitted"),
    "undefined_var": ("    say: 'Hi {nobody}'", 5, "variable {nobody} is not declared"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_scripts_fail_naming_the_line(tmp_path, case: str) -> None:
    lines = SURVEY.read_text(encoding="utf-8").splitlines()
    at = lines.index("  purpose:") + 1
    edit, _, expected = BROKEN[case]
    if case == "undefined_node":
        lines[at + 2] = edit
    else:
        lines.insert(at + 1, edit)
    path = tmp_path / f"{case}.yaml"
    path.write_text("\n".join(lines), encoding="utf-8")
    problems = check_file(path)
    assert problems, case
    hit = [p for p in problems if expected in p]
    assert hit, problems
    line = int(hit[0].split(":")[1])
    assert at + 1 <= line <= at + 4, (hit, at)


def test_unreachable_node_and_open_loop_are_reported(tmp_path) -> None:
    text = SURVEY.read_text(encoding="utf-8").replace(
        "nodes:\n",
        "nodes:\n  orphan:\n    say: 'Lost.'\n    next: orphan2\n  orphan2:\n"
        "    say: 'Still lost.'\n    next: orphan\n",
        1,
    )
    path = tmp_path / "loop.yaml"
    path.write_text(text, encoding="utf-8")
    problems = "\n".join(check_file(path))
    assert "nodes.orphan: unreachable" in problems
    assert "nodes.orphan2: no path from here reaches a closing" in problems


def test_cooperative_survey_records_answers_grades_and_closes() -> None:
    state, actions = run([
        heard("yes speaking", "affirm"), heard("sure go ahead", "affirm"),
        heard("I'd say four"), heard("five"), heard("probably a nine"),
        heard("no that's it", "no_comment"),
    ])  # fmt: skip
    assert state.ended == "completed"
    rec = state.recorded()
    assert (rec["survey.punctuality"], rec["survey.quality"], rec["survey.recommend"]) == (4, 5, 9)
    assert SetGrade("A") in actions and actions[-1] == HangUp("completed")
    assert actions[0] == Say("greet", actions[0].text, protected=True)
    assert "Ann Lee" in actions[0].text


def test_busy_caller_gets_a_callback_booked_at_the_time_they_said() -> None:
    state, actions = run([heard("yes", "affirm"), heard("no", "deny"), heard("tomorrow at 3 pm")])
    assert state.ended == "callback"
    assert ScheduleCallback(datetime(2026, 11, 25, 15, 0)) in actions
    assert state.recorded()["callback.at"] == "2026-11-25T15:00"


def test_silence_reprompts_then_says_goodbye() -> None:
    state, actions = run([Silence(), Silence(), Silence()])
    says = [a.node for a in actions if isinstance(a, Say)]
    assert says == ["greet", "no_input", "no_input", "no_input"]
    assert state.ended == "no_input" and actions[-1] == HangUp("no_input")


def test_low_confidence_clarifies_once_then_hands_off_and_books_callback_if_no_agent() -> None:
    state, actions = run([heard("mumble", "affirm", 0.1), heard("mumble", "affirm", 0.1)])
    assert [a.node for a in actions if isinstance(a, Say)][1:] == ["clarify", "transfer"]
    assert any(isinstance(a, Transfer) and a.reason == "low confidence" for a in actions)
    state, more = Policy(load_script(SURVEY)).step(state, HandoffResult(connected=False))
    assert ScheduleCallback(None) in more and state.ended == "callback"


def test_abuse_gets_two_warnings_then_polite_end() -> None:
    state, actions = run([heard("idiot", "abuse")] * 3)
    says = [a.node for a in actions if isinstance(a, Say)]
    assert says[1:] == ["abuse_warning", "abuse_warning", "abuse"]
    assert state.ended == "abusive"


def _paths_to_every_node() -> list[list]:  # type: ignore[type-arg]
    yes, no = heard("yes", "affirm"), heard("no", "deny")
    return [
        [yes, yes, heard("four"), heard("five"), heard("ten"), heard("great job", "other")],
        [yes, no, heard("Friday at 4 pm")],
        [no],
        [yes, yes, *(heard(w) for w in ["uh", "um", "er", "hm", "ah", "oh", "fine"])],
    ]


def test_conversations_cover_every_node() -> None:
    visited: set[str] = set()
    for events in _paths_to_every_node():
        state, _ = run(events)
        visited |= set(state.path)
        assert state.ended, events
    unvisited = set(load_script(SURVEY).nodes) - visited
    assert not unvisited, f"unvisited nodes: {sorted(unvisited)}"


def _states_at_every_node():  # type: ignore[no-untyped-def]
    policy = Policy(load_script(SURVEY))
    for events in _paths_to_every_node():
        state, _ = policy.start(CONTACT)
        for event in events:
            if not state.ended:
                yield state
            state, _ = policy.step(state, event)


def test_stop_calling_in_any_node_ends_politely_with_dnc() -> None:
    policy = Policy(load_script(SURVEY))
    for state in _states_at_every_node():
        after, actions = policy.step(state, heard("stop calling me", "stop_calling"))
        assert MarkDnc() in actions and actions[-1] == HangUp("dnc"), state.node
        assert after.ended == "dnc"
        goodbye = [a for a in actions if isinstance(a, Say)][-1]
        assert "won't call" in goodbye.text


def test_manager_request_in_any_node_hands_off() -> None:
    policy = Policy(load_script(SURVEY))
    for state in _states_at_every_node():
        _, actions = policy.step(state, heard("get me your manager", "want_human"))
        transfers = [a for a in actions if isinstance(a, Transfer)]
        assert transfers and "Ann Lee" in transfers[0].summary, state.node


def _approved_lines() -> set[str]:
    script = load_script(SURVEY)
    out = set()
    for _, line in script_lines(script):
        text = text_of(line, "en")
        for key, value in CONTACT.items():
            text = text.replace("{" + key + "}", value)
        out.add(text)
    return out


INTENTS = ["affirm", "deny", "who_are_you", "stop_calling", "want_human", "busy_callback",
           "repeat", "abuse", "other", "no_comment", "ask_question", "cant_hear"]  # fmt: skip
EVENTS = st.one_of(
    st.builds(lambda i, c, t: heard(t, i, c), st.sampled_from(INTENTS),
              st.floats(0.0, 1.0), st.sampled_from(["yes", "no", "three", "", "tomorrow"])),
    st.just(Silence()),
    st.builds(HandoffResult, st.booleans()),
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(EVENTS, min_size=1, max_size=80))
def test_any_sequence_ends_in_bounded_turns_and_says_only_approved_lines(events) -> None:  # type: ignore[no-untyped-def]
    policy = Policy(load_script(SURVEY))
    approved = _approved_lines()
    state, actions = policy.start(CONTACT)
    for event in events:
        state, more = policy.step(state, event)
        actions += more
    while not state.ended:  # the caller goes silent: the script must still close
        state, more = policy.step(state, Silence())
        actions += more
    assert state.turns <= policy.script.settings.max_turns + 1
    assert isinstance(actions[-1], HangUp)
    said = {a.text for a in actions if isinstance(a, Say)}
    assert said <= approved, said - approved


def test_cli_script_check_exit_codes(tmp_path, capsys) -> None:
    from voicebot.cli import main

    assert main(["script", "check", str(SURVEY)]) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nlanguages: [en]\nnodes: {}\n", encoding="utf-8")
    assert main(["script", "check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}:1: lines: Field required" in out and f"{bad}:1: start: Field required" in out
