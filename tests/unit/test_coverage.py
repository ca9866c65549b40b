"""Script coverage from trial calls: nodes, global handlers and reprompts, and per-node drop-off,
from the calls' paths and the lines the bot said; and the `situations` persona set covers every
standard-phrase situation of the call-centre guide."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT
from voicebot.core.outcomes import Outcome
from voicebot.metrics.report import BotLine, CallReport
from voicebot.policy.schema import load_script
from voicebot.sim.coverage import coverage
from voicebot.sim.persona import choose, load_persona, persona_set

pytestmark = pytest.mark.unit
SURVEY = load_script(ROOT / "prompts" / "survey_en.yaml")


def call(path: list[str], lines: list[str], outcome: Outcome) -> CallReport:
    report = CallReport(
        call_id="x", script="survey_en", script_path="", language="en", transport="t"
    )
    report.path, report.outcome = path, outcome
    report.bot_lines = [
        BotLine(node=n, text="", queued_at=0, first_audio_at=0, ended_at=0, interrupted=False)
        for n in lines
    ]
    return report


def test_handlers_reprompts_and_nodes_are_counted_and_drop_off_is_per_node() -> None:
    calls = [
        call(
            ["greet", "purpose", "global.is_scam", "q1", "q2", "q3", "comment", "thanks_close"],
            ["greet", "purpose", "global.is_scam", "purpose", "q1", "q1.reprompt", "q2", "q3"],
            Outcome.COMPLETED,
        ),
        call(["greet", "purpose", "global.not_interested"], ["greet"], Outcome.REFUSED),
        call(["greet", "no_input"], ["greet", "no_input"], Outcome.NO_INPUT),
        call(["greet", "purpose", "q1"], ["greet", "purpose", "q1"], Outcome.HUNG_UP),
    ]
    c = coverage(SURVEY, calls)
    assert (c.nodes.covered, c.nodes.total) == (7, len(SURVEY.nodes))
    assert "when_callback" in c.nodes.missing and "greet" not in c.nodes.missing
    assert (c.handlers.covered, c.handlers.total) == (2, len(SURVEY.globals))
    assert "global.is_scam" not in c.handlers.missing and "global.praise" in c.handlers.missing
    assert c.reprompts.covered == 1 and "q1.reprompt" not in c.reprompts.missing
    drops = {d.node: d for d in c.drop_off}
    assert "thanks_close" not in drops  # a closing node ends calls: no drop-off
    assert (drops["greet"].reached, drops["greet"].ended_here) == (4, 1)
    assert drops["greet"].how == {"no_input": 1}
    assert (drops["purpose"].reached, drops["purpose"].ended_here) == (3, 1)
    assert drops["purpose"].how == {"refused": 1}
    assert drops["q1"].rate == 0.5 and drops["q1"].how == {"hung_up": 1}
    assert c.as_dict()["drop_off"][0]["node"] == "greet"


SITUATIONS = {  # the situations of issue 17 -> the intent or event a persona of the set brings
    "scam question": "Hang on, is this some kind of scam?",
    "agent id": "What's your agent ID?",
    "chit chat": "How old are you",
    "praise": "really helpful",
    "suggestion": "suggestion",
    "when followup": "ring me back",
    "speak slower": "slower",
    "not now": "Not right now",
    "abuse": "idiot",
    "complaint": "complaint",
    "unsure question": "is there a fee",
}


def test_the_situations_set_has_a_persona_for_every_situation() -> None:
    people = persona_set("situations")
    said = [
        str(reply) for p in people for reply in p.replies.get("en", {}).values()
    ]  # every English reply, lists included
    for situation, words in SITUATIONS.items():
        assert any(words in s for s in said), situation
    names = {p.name for p in people}
    assert {"screened_google", "screened_ios", "voicemail_human"} <= names
    assert all(p.replies.get("zh") or p.hello_then.get("zh") for p in people)  # both languages
    assert [p.name for p in choose(["situations"])] == [p.name for p in people]
    assert load_persona("voicemail_human").greeting_beep  # found by name, outside the set too
