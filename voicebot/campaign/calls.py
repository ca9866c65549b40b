"""What the dialer and the transports exchange: the `Dial` to place, the `CallResult` that came
of it (`CallResult.of(report)` for every conversing trunk; `to_record` / `from_record` for the
results journal), the campaign clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from voicebot.core.clock import Clock, RealClock
from voicebot.core.outcomes import Outcome
from voicebot.metrics.report import CallReport


class CampaignClock(Protocol):
    """Wall time (naive UTC) and a sleep on the same base: real, or virtual for trial runs."""

    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...


class WallClock:
    """Campaign time on a call clock: `start` plus the clock's seconds (virtual or real)."""

    def __init__(self, base: Clock | None = None, start: datetime | None = None) -> None:
        self.base = base or RealClock()
        self.start = (start or datetime.now(UTC)).replace(tzinfo=None) - timedelta(
            seconds=self.base.now()
        )

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.base.now())

    async def sleep(self, seconds: float) -> None:
        await self.base.sleep(seconds)


@dataclass(frozen=True, slots=True)
class Dial:
    """One call to place, as the transport sees it."""

    attempt_id: int
    contact_id: int
    phone: str
    name: str
    variables: dict[str, Any]
    number: int  # this contact's nth dial
    timezone: str = "UTC"  # the contact's zone: the call's wall time is local time there
    not_before: datetime | None = None  # campaign-wide pacing: dial at this moment (naive UTC)
    on_answer: Callable[[], None] | None = field(default=None, compare=False, repr=False)

    def answered(self) -> None:
        """The transport says the callee picked up (ringing ends, the call is in progress)."""
        if self.on_answer is not None:
            self.on_answer()

    @property
    def contact(self) -> dict[str, Any]:
        """The script variables of this call, the contact's name among them."""
        return {**self.variables, "name": self.name} if self.name else dict(self.variables)

    def local_time(self, now_utc: datetime) -> datetime:
        """`now_utc` (naive UTC, campaign time) as an aware time in the contact's zone: what a
        call's wall clock is, so that "tomorrow at three" means three o'clock there."""
        return now_utc.replace(tzinfo=UTC).astimezone(ZoneInfo(self.timezone))


@dataclass
class CallResult:
    outcome: Outcome
    duration_s: float = 0.0
    answers: dict[str, Any] = field(default_factory=dict)
    grade: str | None = None
    dnc: bool = False
    transferred: bool = False
    callback_at: datetime | None = None  # naive UTC
    latency_ms: dict[str, Any] = field(default_factory=dict)
    report_path: str | None = None
    recording_path: str | None = None
    handoff_failed: bool = False  # a hand-off was tried and no agent took the call

    def to_record(self) -> dict[str, Any]:
        """As JSON values (the results journal)."""
        return {
            "outcome": str(self.outcome),
            "duration_s": self.duration_s,
            "answers": self.answers,
            "grade": self.grade,
            "dnc": self.dnc,
            "transferred": self.transferred,
            "callback_at": self.callback_at.isoformat() if self.callback_at else None,
            "latency_ms": self.latency_ms,
            "report_path": self.report_path,
            "recording_path": self.recording_path,
            "handoff_failed": self.handoff_failed,
        }

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> CallResult:
        callback = data.get("callback_at")
        return cls(
            **{
                **data,
                "outcome": Outcome(data["outcome"]),
                "callback_at": datetime.fromisoformat(callback) if callback else None,
            }
        )

    @classmethod
    def of(
        cls, report: CallReport, report_path: Path | None = None, recording_path: Path | None = None
    ) -> CallResult:
        """What a call report means for the campaign (every conversing trunk uses this)."""
        e2e = sorted(report.latencies_ms("end_to_end"))
        latency: dict[str, Any] = {"end_to_end_p50": e2e[len(e2e) // 2]} if e2e else {}
        if (abandoned := report.abandoned()) is not None:  # answered: the abandonment verdict
            latency["abandoned"] = abandoned
        transferred = bool(report.transfer and report.transfer.get("connected"))
        return cls(
            outcome=report.outcome,
            duration_s=report.duration_s,
            answers=dict(report.records),
            grade=report.lead_grade,
            dnc=report.dnc,
            transferred=transferred,
            callback_at=utc_instant(report.callback_at),
            latency_ms=latency,
            report_path=str(report_path) if report_path else None,
            recording_path=str(recording_path) if recording_path else None,
            handoff_failed=bool(report.transfer) and not transferred,
        )


def utc_instant(text: str | None) -> datetime | None:
    """An ISO time from a call report as naive UTC (the store's convention). Aware times are
    converted; a naive one is taken as UTC already."""
    if not text:
        return None
    at = datetime.fromisoformat(text)
    return at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at


class CallPlacer(Protocol):
    async def place(self, dial: Dial) -> CallResult: ...
