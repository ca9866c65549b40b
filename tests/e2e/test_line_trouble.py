"""A bad line through the real pipeline in virtual time: a caller too far from the phone is
asked to speak up and then completes; a caller on a line that loses a third of its frames gets a
callback booked, never a transfer.

Neither outcome hinges on a borderline model score: the quiet caller's turns are measured at
about -47 dBFS against the -42 dBFS threshold, and whatever the recogniser makes of them (right
words, low confidence, no words) the bot asks to speak up; the broken line is judged by the
frames that never arrived (35 % on average, the threshold 20 % for two turns in a row)."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import ROOT
from voicebot.core.clock import VirtualClock
from voicebot.core.outcomes import Outcome
from voicebot.metrics.report import CallReport
from voicebot.sim.persona import load_persona
from voicebot.sim.trial import Trial

pytestmark = pytest.mark.e2e


def call(trial: Trial, persona: str) -> CallReport:
    clock = VirtualClock()
    return asyncio.run(clock.run(trial.call(load_persona(persona), clock, 1))).report


def story(report: CallReport) -> str:
    turns = [
        f"{t.node}: {t.speech_dbfs} dBFS loss {t.line_loss} -> {t.intent}" for t in report.turns
    ]
    return "\n".join([f"outcome {report.outcome}", *turns, f"said {said(report)}"])


def said(report: CallReport) -> list[str]:
    return [line.node for line in report.bot_lines]


@pytest.fixture(scope="module")
def survey(store) -> Trial:  # type: ignore[no-untyped-def]
    return Trial(ROOT / "prompts" / "survey_en.yaml", store)


@pytest.fixture(scope="module")
def followup(store) -> Trial:  # type: ignore[no-untyped-def]
    return Trial(ROOT / "prompts" / "followup_zh.yaml", store)


def test_a_quiet_caller_is_asked_to_speak_up_and_then_completes(survey: Trial) -> None:
    report = call(survey, "quiet_caller")
    assert report.error is None
    lines = said(report)
    assert "speak_up" in lines and "transfer" not in lines, story(report)
    assert report.outcome == Outcome.COMPLETED, story(report)
    quiet = [t for t in report.turns if t.speech_dbfs is not None and t.speech_dbfs < -42]
    loud = [t for t in report.turns if t.speech_dbfs is not None and t.speech_dbfs > -30]
    assert len(quiet) <= 2 and len(loud) >= 3, story(report)  # louder once asked


@pytest.mark.parametrize("script", ["survey", "followup"])
def test_a_breaking_line_books_a_callback_not_a_transfer(
    script: str, request: pytest.FixtureRequest
) -> None:
    report = call(request.getfixturevalue(script), "breaking_line")
    assert report.error is None
    lines = said(report)
    assert lines[-1] == "line_unstable" and "transfer" not in lines, story(report)
    assert report.outcome == Outcome.CALLBACK and report.callback_requested, story(report)
    assert all(t.line_loss >= 0.2 for t in report.turns[-2:]), story(report)
