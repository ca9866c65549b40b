"""The part of carrying out the policy's actions that is the same on every transport: answers,
lead grade, callback and do-not-call go into the call report. The call session (phone lines)
and the LiveKit agent build on it and add speech, transfer and hang-up."""

from __future__ import annotations

from collections.abc import Callable

from voicebot.metrics.report import CallReport
from voicebot.policy.actions import MarkDnc, Record, ScheduleCallback, SetGrade, SlowDown


class ReportActions:
    """`report`: the call's report; `note(kind)`: puts an event on the call's timeline now."""

    def __init__(self, report: CallReport, note: Callable[[str], None]) -> None:
        self.report, self.note = report, note

    async def record(self, action: Record) -> None:
        self.report.records[action.field] = action.value

    async def set_grade(self, action: SetGrade) -> None:
        self.report.lead_grade = action.grade

    async def schedule_callback(self, action: ScheduleCallback) -> None:
        self.report.callback_requested = True
        self.report.callback_at = action.when.isoformat() if action.when else None

    async def mark_dnc(self, action: MarkDnc) -> None:
        self.report.dnc = True
        self.note("do_not_call")

    async def slow_down(self, action: SlowDown) -> None:
        """Noted on the timeline; a sink with a voice (the call session) also slows it."""
        self.note("slower_speech")
