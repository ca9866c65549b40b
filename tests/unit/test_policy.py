"""The script policy driven in text, without audio or models (intents given directly)."""

from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import ROOT
from voicebot.policy.actions import (
    HandoffResult,
    HangUp,
    Heard,
    Say,
    ScheduleCallback,
    SetGrade,
    Silence,
    Transfer,
)
from voicebot.policy.engine import Policy
from voicebot.policy.schema import load_script

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


def test_cooperative_survey_records_answers_grades_and_closes() -> None:
    state, actions = run(
        [
            heard("yes speaking", "affirm"),
            heard("sure go ahead", "affirm"),
            heard("I'd say four"),
            heard("five"),
            heard("probably a nine"),
            heard("no that's it", "no_comment"),
        ]
    )
    assert state.ended == "completed"
    rec = state.recorded()
    assert (rec["survey.punctuality"], rec["survey.quality"], rec["survey.recommend"]) == (4, 5, 9)
    assert SetGrade("A") in actions and actions[-1] == HangUp("completed")
    assert actions[0] == Say("greet", actions[0].text, protected=True)
    assert "Ann Lee" in actions[0].text


ANSWERED = [
    heard("yes speaking", "affirm"),
    heard("sure", "affirm"),
    heard("four"),
    heard("five"),
    heard("nine"),
]


@pytest.mark.parametrize(
    "text", ["No, all good.", "Nope, that's it.", "No, but the technician was late."]
)
def test_a_no_to_anything_else_completes_the_survey_even_when_read_as_not_interested(
    text: str,
) -> None:
    state, actions = run([*ANSWERED, heard(text, "not_interested", 0.7)])
    assert state.ended == "completed", actions
    assert state.recorded()["survey.comment"] == text


@pytest.mark.parametrize(
    ("text", "intent", "confidence"),
    [
        ("The technician was very polite and tidy.", "complaint", 0.5),  # dev: read as one
        ("He was lovely, thank you.", "praise", 0.9),
        ("Maybe call a day earlier next time.", "suggestion", 0.7),
    ],
)
def test_feedback_to_anything_else_is_the_comment_in_the_callers_words(
    text: str, intent: str, confidence: float
) -> None:
    state, actions = run([*ANSWERED, heard(text, intent, confidence)])
    assert state.ended == "completed", actions
    assert state.recorded()["survey.comment"] == text
    assert not any(isinstance(a, Transfer) for a in actions)


def test_a_sure_complaint_to_anything_else_still_goes_to_the_complaint_handler() -> None:
    text = "I want to make a complaint about the bill."
    _, actions = run([*ANSWERED, heard(text, "complaint", 0.9)])
    assert any(isinstance(a, Transfer) for a in actions)  # sorry, noted, a colleague
    state, actions = run([*ANSWERED, heard(text, "complaint", 0.5)])
    assert state.recorded()["survey.comment"] == text  # unsure: kept as the comment
    assert not any(isinstance(a, Transfer) for a in actions)


def test_the_ci_run_that_read_every_answer_as_a_global_intent_still_completes() -> None:
    # what the recogniser and classifier made of the unseen test-split caller in one CI run
    turns = [
        ("Yes, this is sheet.", "affirm"),
        ("Sure, ask away.", "affirm"),
        ("Four, I think", "not_interested"),
        ("Five, definitely.", "busy_callback"),
        ("Nine.", "wrong_person"),
        ("No, all good.", "not_interested"),
    ]
    state, _ = run([heard(text, intent, 0.6) for text, intent in turns])
    assert state.ended == "completed"
    rec = state.recorded()
    assert (rec["survey.punctuality"], rec["survey.quality"], rec["survey.recommend"]) == (4, 5, 9)


def test_a_low_score_read_as_an_unsure_complaint_is_the_score() -> None:
    state, actions = run([*ANSWERED[:2], heard("Pretty poor, a two.", "complaint", 0.5)])
    assert state.node == "q2" and state.recorded()["survey.punctuality"] == 2
    assert not any(isinstance(a, Transfer) for a in actions)


@pytest.mark.parametrize(
    ("text", "confidence"),
    [
        ("Awful, two. I want to speak to someone about the mess they left.", 0.5),  # not short
        ("Two. Terrible, just terrible.", 0.9),  # a sure complaint
        ("Your people were rude and careless.", 0.5),  # no score
    ],
)
def test_a_complaint_at_a_rating_question_still_goes_to_the_desk(
    text: str, confidence: float
) -> None:
    state, actions = run([*ANSWERED[:2], heard(text, "complaint", confidence)])
    assert any(isinstance(a, Transfer) for a in actions), actions
    assert "survey.punctuality" not in state.recorded()


def test_a_no_that_asks_to_stop_calling_stays_a_do_not_call_request() -> None:
    state, _ = run([*ANSWERED, heard("No, just stop calling me.", "stop_calling", 0.7)])
    assert state.ended == "dnc"


def test_not_interested_before_the_questions_is_still_a_refusal() -> None:
    state, _ = run(
        [heard("yes speaking", "affirm"), heard("No, not interested.", "not_interested", 0.7)]
    )
    assert state.ended == "refused"


def test_busy_caller_gets_a_callback_booked_at_the_time_they_said() -> None:
    state, actions = run([heard("yes", "affirm"), heard("no", "deny"), heard("tomorrow at 3 pm")])
    assert state.ended == "callback"
    assert ScheduleCallback(datetime(2026, 11, 25, 15, 0)) in actions
    assert state.recorded()["callback.at"] == "2026-11-25T15:00"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("No thanks, I'm not interested.", "deny"),  # a loaded CI run's reading, twice over
        ("No.", "other"),
        ("No, don't bother.", "deny"),
    ],
)
def test_a_no_to_when_shall_we_call_back_books_no_callback(text: str, intent: str) -> None:
    state, actions = run([heard("yes", "affirm"), heard(text, "deny", 0.52), heard(text, intent)])
    assert state.ended == "refused", actions
    assert not [a for a in actions if isinstance(a, ScheduleCallback)]
    assert "callback.requested" not in state.recorded()


def test_a_no_with_a_time_is_a_time() -> None:
    state, actions = run(
        [heard("yes", "affirm"), heard("no", "deny"), heard("No, tomorrow at 3 pm.", "deny")]
    )
    assert state.ended == "callback"
    assert ScheduleCallback(datetime(2026, 11, 25, 15, 0)) in actions


def test_the_scripts_ask_for_a_callback_time_only_with_a_way_to_say_no(tmp_path) -> None:
    from voicebot.policy.lint import lint

    source = SURVEY.read_text(encoding="utf-8").replace(
        "goto: {filled: callback_close, deny: decline_close}", "goto: {filled: callback_close}"
    )
    assert source != SURVEY.read_text(encoding="utf-8")
    findings = lint(load_script_text(source, tmp_path), source)
    assert "nodes.when_callback.goto" in [f.where for f in findings], findings
    for path in sorted((ROOT / "prompts").glob("*.yaml")):
        assert lint(load_script(path), path.read_text(encoding="utf-8")) == [], path


def load_script_text(source: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "script.yaml"
    path.write_text(source, encoding="utf-8")
    return load_script(path)


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


def test_abuse_in_three_steps_civility_then_recorded_then_polite_end() -> None:
    state, actions = run([heard("idiot", "abuse")] * 3)
    says = [a for a in actions if isinstance(a, Say)]
    assert [a.node for a in says][1:] == ["abuse_warning", "abuse_recorded", "abuse"]
    assert "recorded" in says[2].text
    assert state.ended == "abusive" and actions[-1] == HangUp("abusive")


def test_abuse_without_a_recorded_line_warns_twice(tmp_path) -> None:
    text = SURVEY.read_text(encoding="utf-8")
    plain = tmp_path / "plain.yaml"
    plain.write_text(
        "\n".join(line for line in text.splitlines() if "abuse_recorded" not in line),
        encoding="utf-8",
    )
    state, actions = run([heard("idiot", "abuse")] * 3, plain)
    says = [a.node for a in actions if isinstance(a, Say)]
    assert says[1:] == ["abuse_warning", "abuse_warning", "abuse"]
    assert state.ended == "abusive"


def test_cli_script_check_exit_codes(tmp_path, capsys) -> None:
    from voicebot.cli import main

    assert main(["script", "check", str(SURVEY)]) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nlanguages: [en]\nnodes: {}\n", encoding="utf-8")
    assert main(["script", "check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}:1: lines: Field required" in out and f"{bad}:1: start: Field required" in out
