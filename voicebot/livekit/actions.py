"""The ActionSink of a LiveKit call. Answers, grade, callback and do-not-call go into the call
report as on every transport (`ReportActions`); lines, the hand-off and the hang-up are kept for
the agent to deliver: lines as the session's speech, the other two as tool calls."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from voicebot.livekit.record import CallRecord
from voicebot.policy.actions import Action, HangUp, Say, Transfer, carry_out
from voicebot.session.actions import ReportActions


@dataclass
class Reply:
    """What the agent delivers for a batch of actions."""

    lines: list[Say] = field(default_factory=list)
    tools: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (name, arguments)

    @property
    def text(self) -> str:
        return " ".join(line.text for line in self.lines)


class ScriptActions(ReportActions):
    """`await sink.run(actions)` carries them out and returns what is left to deliver."""

    def __init__(self, record: CallRecord) -> None:  # the call's report and timeline
        super().__init__(record.report, record.event)
        self._reply = Reply()

    async def run(self, actions: Iterable[Action]) -> Reply:
        self._reply = Reply()
        await carry_out(actions, self)
        return self._reply

    async def say(self, action: Say) -> None:
        self._reply.lines.append(action)

    async def transfer(self, action: Transfer) -> None:
        self.report.transfer = {"reason": action.reason, "summary": action.summary}
        self._reply.tools.append(("transfer_to_agent", {"reason": action.reason}))

    async def hang_up(self, action: HangUp) -> None:
        self._reply.tools.append(("end_call", {"outcome": str(action.outcome)}))
