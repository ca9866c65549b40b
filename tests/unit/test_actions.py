"""The one action interpreter: every action reaches its sink method, in order; report actions
land in the call report the same way for every transport."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from voicebot.core.outcomes import Outcome
from voicebot.metrics.report import CallReport
from voicebot.policy.actions import (
    HangUp,
    MarkDnc,
    Record,
    Say,
    ScheduleCallback,
    SetGrade,
    Transfer,
    carry_out,
)
from voicebot.session.actions import ReportActions

pytestmark = pytest.mark.unit


class Recorder(ReportActions):
    def __init__(self) -> None:
        self.events: list[str] = []
        super().__init__(
            CallReport(call_id="c", script="s", script_path="s", language="en", transport="t"),
            self.events.append,
        )
        self.done: list[object] = []

    async def say(self, action: Say) -> None:
        self.done.append(action)

    async def transfer(self, action: Transfer) -> None:
        self.done.append(action)

    async def hang_up(self, action: HangUp) -> None:
        self.done.append(action)


def test_every_action_reaches_the_sink_in_order() -> None:
    sink = Recorder()
    when = datetime(2026, 12, 2, 15, 0)
    actions = [
        Say("q1", "Hello"),
        Record("survey.q1", 4),
        SetGrade("A"),
        ScheduleCallback(when),
        MarkDnc(),
        Transfer("want_human", "summary"),
        HangUp(Outcome.TRANSFERRED),
    ]
    asyncio.run(carry_out(actions, sink))
    assert sink.done == [actions[0], actions[5], actions[6]]
    report = sink.report
    assert report.records == {"survey.q1": 4} and report.lead_grade == "A" and report.dnc
    assert report.callback_requested and report.callback_at == "2026-12-02T15:00:00"
    assert sink.events == ["do_not_call"]


def test_outcomes_say_what_they_mean() -> None:
    assert Outcome.COMPLETED.scripted and Outcome.COMPLETED.answered and Outcome.COMPLETED.final
    assert Outcome.BUSY.retryable and not Outcome.BUSY.answered and not Outcome.BUSY.scripted
    assert Outcome.HUNG_UP.answered and not Outcome.HUNG_UP.scripted
    assert Outcome.VOICEMAIL.scripted and Outcome.VOICEMAIL.retryable
    assert Outcome("interrupted") is Outcome.INTERRUPTED and Outcome.INTERRUPTED.retryable
