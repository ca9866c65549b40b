"""The dialer: claims due contacts, places calls through any transport, records what came of
each, and schedules retries. Crash-safe: a contact is claimed and its attempt written in one
transaction *before* the call is placed, and a restart closes attempts left open as
`interrupted` (a retry, never the same dial again)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from voicebot.campaign.config import CampaignConfig
from voicebot.campaign.models import Attempt, Campaign, Contact
from voicebot.campaign.schedule import after_attempt, failed_rule, in_window, next_slot
from voicebot.campaign.store import Store
from voicebot.core.clock import Clock, RealClock
from voicebot.core.outcomes import Outcome
from voicebot.metrics.report import CallReport

log = logging.getLogger(__name__)


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

    @property
    def contact(self) -> dict[str, Any]:
        """The script variables of this call, the contact's name among them."""
        return {**self.variables, "name": self.name} if self.name else dict(self.variables)


@dataclass
class CallResult:
    outcome: Outcome
    duration_s: float = 0.0
    answers: dict[str, Any] = field(default_factory=dict)
    grade: str | None = None
    dnc: bool = False
    transferred: bool = False
    callback_at: datetime | None = None
    latency_ms: dict[str, Any] = field(default_factory=dict)
    report_path: str | None = None
    recording_path: str | None = None

    @classmethod
    def of(cls, report: CallReport, report_path: Path | None = None) -> CallResult:
        """What a call report means for the campaign (every conversing trunk uses this)."""
        callback = None
        if report.callback_at:
            callback = datetime.fromisoformat(report.callback_at).replace(tzinfo=None)
        e2e = sorted(report.latencies_ms("end_to_end"))
        latency = {"end_to_end_p50": e2e[len(e2e) // 2]} if e2e else {}
        transferred = bool(report.transfer and report.transfer.get("connected"))
        return cls(
            outcome=report.outcome,
            duration_s=report.duration_s,
            answers=dict(report.records),
            grade=report.lead_grade,
            dnc=report.dnc,
            transferred=transferred,
            callback_at=callback,
            latency_ms=latency,
            report_path=str(report_path) if report_path else None,
        )


class CallPlacer(Protocol):
    async def place(self, dial: Dial) -> CallResult: ...


class Dialer:
    """Runs one campaign until nothing is left to call (or it is paused / stopped)."""

    def __init__(self, store: Store, campaign: str, placer: CallPlacer, clock: CampaignClock,
                 on_result: Callable[[Dial, CallResult], None] | None = None,
                 poll_s: float | None = 1.0) -> None:  # fmt: skip
        """`poll_s`: how often (clock seconds) to look for pause / stop from another process
        while every line is busy; None for simulated runs nobody pauses."""
        self.store, self.name, self.placer, self.clock = store, campaign, placer, clock
        self.on_result, self.poll_s = on_result, poll_s
        with store.session() as s:
            row = store.campaign(s, campaign)
            self.campaign_id = row.id
            self.config = CampaignConfig.model_validate(row.config)
        self._stopping = False
        self._next_start = self.clock.now()
        self.placed = 0

    def stop(self) -> None:
        """Graceful: no new calls; the ones in progress finish and are recorded."""
        self._stopping = True

    async def run(self) -> str:
        """Returns why it stopped: done, paused, stopped."""
        self.recover()
        self.store.set_state(self.name, "running")
        calls: set[asyncio.Task[None]] = set()
        reason = "done"
        while True:
            state = self._state()
            if self._stopping or state in ("paused", "stopped"):
                reason = "stopped" if self._stopping else state
                break
            for dial in self._claim(self.config.concurrency - len(calls)):
                await self._pace()
                calls.add(asyncio.ensure_future(self._call(dial)))
            free = len(calls) < self.config.concurrency
            due = self._next_due() if free else None
            if not calls and due is None:
                break
            waits: set[asyncio.Future[None]] = set(calls)
            if due is not None:  # a free line and someone to call later: wake up then
                wait = max(0.02, (due - self.clock.now()).total_seconds())
                waits.add(asyncio.ensure_future(self.clock.sleep(min(wait, self.poll_s or wait))))
            elif self.poll_s:  # lines busy: still look for pause / stop now and then
                waits.add(asyncio.ensure_future(self.clock.sleep(self.poll_s)))
            done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            for timer in pending - calls:
                timer.cancel()
            calls -= done
        if calls:
            await asyncio.gather(*calls)
        if reason == "done" and self._state() == "running":
            self.store.set_state(self.name, "done")
        elif reason == "stopped" and self._state() == "running":
            self.store.set_state(self.name, "ready")
        return reason

    def _state(self) -> str:
        with self.store.session() as s:
            return str(s.get(Campaign, self.campaign_id).state)  # type: ignore[union-attr]

    async def _pace(self) -> None:
        now = self.clock.now()
        start = max(now, self._next_start)
        self._next_start = start + timedelta(seconds=1.0 / self.config.cps)
        if start > now:
            await self.clock.sleep((start - now).total_seconds())

    # --- claiming ------------------------------------------------------------------------------
    def _claim(self, slots: int) -> list[Dial]:
        if slots <= 0:
            return []
        now = self.clock.now()
        dials: list[Dial] = []
        with self.store.session() as s:
            query = (select(Contact).where(Contact.campaign_id == self.campaign_id,
                                           Contact.state == "pending", Contact.next_at <= now)
                     .order_by(Contact.next_at, Contact.id).limit(slots * 4))  # fmt: skip
            if s.bind is not None and s.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            for contact in s.scalars(query):
                if len(dials) < slots and self._ready(s, contact, now):
                    dials.append(self._start(s, contact, now))
        return dials

    def _ready(self, s: Session, contact: Contact, now: datetime) -> bool:
        """Checks at dial time: do-not-call, pre-dial rules, the calling window."""
        if self.store.on_dnc(s, contact.phone, self.campaign_id):
            contact.state, contact.reason, contact.outcome = "skipped", "do-not-call", Outcome.DNC
            return False
        fields = {**contact.variables, "name": contact.name}
        if (reason := failed_rule(self.config.rules, fields, now)) is not None:
            contact.state, contact.reason = "skipped", reason
            return False
        window, aware = self.config.window, now.replace(tzinfo=UTC)
        preferred = time.fromisoformat(contact.preferred_time) if contact.preferred_time else None
        if in_window(aware, contact.timezone, window) and not self._wait_for_preferred(
            contact, aware, preferred
        ):
            return True
        slot = next_slot(
            aware, contact.timezone, window, preferred if not contact.attempts else None
        )
        if slot is None:
            contact.state, contact.reason = "skipped", "the calling window never opens"
        else:
            contact.next_at = max(slot.replace(tzinfo=None), now + timedelta(seconds=1))
        return False

    @staticmethod
    def _wait_for_preferred(contact: Contact, now: datetime, preferred: time | None) -> bool:
        """A first call waits for the contact's preferred time of day (within half an hour)."""
        if preferred is None or contact.attempts:
            return False
        from zoneinfo import ZoneInfo

        local = now.astimezone(ZoneInfo(contact.timezone))
        target = datetime.combine(local.date(), preferred, local.tzinfo)
        return abs((local - target).total_seconds()) > 1800

    def _start(self, s: Session, contact: Contact, now: datetime) -> Dial:
        contact.state = "dialing"
        contact.attempts += 1
        attempt = Attempt(campaign_id=self.campaign_id, contact_id=contact.id,
                          number=contact.attempts, state="dialing", started_at=now)  # fmt: skip
        s.add(attempt)
        s.flush()
        self.placed += 1
        return Dial(attempt.id, contact.id, contact.phone, contact.name, dict(contact.variables),
                    contact.attempts)  # fmt: skip

    def _next_due(self) -> datetime | None:
        with self.store.session() as s:
            return s.scalar(select(func.min(Contact.next_at)).where(
                Contact.campaign_id == self.campaign_id, Contact.state == "pending"))  # fmt: skip

    # --- results -----------------------------------------------------------------------------
    async def _call(self, dial: Dial) -> None:
        try:
            result = await self.placer.place(dial)
        except Exception as e:  # a transport error is the call's outcome, not the dialer's end
            # the type only: transport errors can quote the dialled number
            log.error("attempt %s failed: %s", dial.attempt_id, type(e).__name__)
            result = CallResult(outcome=Outcome.FAILED)
        self.record(dial.attempt_id, result)
        if self.on_result is not None:
            self.on_result(dial, result)

    def record(self, attempt_id: int, result: CallResult) -> None:
        now = self.clock.now()
        with self.store.session() as s:
            attempt = s.get(Attempt, attempt_id)
            contact = s.get(Contact, attempt.contact_id) if attempt else None
            if attempt is None or contact is None or attempt.state != "dialing":
                return  # already closed (recovered after a crash)
            attempt.state, attempt.ended_at, attempt.outcome = "ended", now, result.outcome
            attempt.duration_s, attempt.answers = result.duration_s, result.answers
            attempt.lead_grade, attempt.dnc = result.grade, result.dnc
            attempt.transferred, attempt.callback_at = result.transferred, result.callback_at
            attempt.latency_ms, attempt.report_path = result.latency_ms, result.report_path
            attempt.recording_path = result.recording_path
            self._follow_up(s, contact, result, now)

    def _follow_up(self, s: Session, contact: Contact, result: CallResult, now: datetime) -> None:
        contact.outcome = result.outcome
        if result.dnc:
            self.store.add_dnc(s, contact.phone, None, "asked during a call")
            contact.state, contact.next_at = "done", None
            return
        same = s.scalar(select(func.count(Attempt.id)).where(
            Attempt.contact_id == contact.id, Attempt.outcome == result.outcome,
            Attempt.state == "ended")) or 0  # fmt: skip
        plan = after_attempt(result.outcome, contact.attempts, same - 1, self.config, now,
                             result.callback_at)  # fmt: skip
        contact.state, contact.next_at = plan.state, plan.next_at

    def recover(self) -> int:
        """Close attempts a crash left open: the call's fate is unknown, so it counts as a dial
        (`interrupted`) and the contact follows the retry rules. Returns how many."""
        with self.store.session() as s:
            open_ids = list(s.scalars(select(Attempt.id).where(
                Attempt.campaign_id == self.campaign_id, Attempt.state == "dialing")))  # fmt: skip
        for attempt_id in open_ids:
            self.record(attempt_id, CallResult(outcome=Outcome.INTERRUPTED))
        return len(open_ids)
