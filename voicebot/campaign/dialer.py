"""The dialer: claims due contacts, places calls through any transport, records what came of
each, and schedules retries and callbacks. Crash-safe: a contact is claimed and its attempt
written in one transaction *before* the call is placed, and attempts a dead dialer left open are
closed as `interrupted` (a retry, never the same dial again).

Several dialers may run one campaign on one PostgreSQL store: each is a *worker* with a lease it
renews with a heartbeat (`workers` table); claims lock the campaign row, so the concurrency and
cps caps hold campaign-wide, and take contacts with `FOR UPDATE SKIP LOCKED`; only the attempts of
workers whose lease expired (or whose process is gone, on the same host) are recovered. SQLite
runs one dialer per campaign and refuses a second one."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from voicebot.campaign.config import CampaignConfig
from voicebot.campaign.models import Attempt, Campaign, Contact, Worker
from voicebot.campaign.safeguards import DialPolicy, refusal
from voicebot.campaign.schedule import (
    after_attempt,
    callback_slot,
    failed_rule,
    in_all_windows,
    next_common_slot,
)
from voicebot.campaign.store import CampaignError, Store, utcnow
from voicebot.core.clock import Clock, RealClock
from voicebot.core.outcomes import ANSWERED, Outcome
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
    timezone: str = "UTC"  # the contact's zone: the call's wall time is local time there
    not_before: datetime | None = None  # campaign-wide pacing: dial at this moment (naive UTC)

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


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """This dialer as a worker of the campaign."""

    worker_id: str = ""  # default: host-pid-random
    lease_s: float = 30.0  # a worker silent this long is taken for dead
    heartbeat_s: float = 5.0
    drain_s: float | None = None  # after stop(): live calls get this long, then are cut
    until_idle: bool = False  # exit when nothing is due now (instead of waiting for windows)
    lines: int | None = None  # this worker's own calls at once (its trunk); None: the campaign cap


HOST = socket.gethostname()
PRIORITY_CALLBACK = 10  # warm leads whose hand-off found no agent: called back first


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Dialer:
    """Runs one campaign until nothing is left to call (or it is paused / stopped), as one
    worker among any number on the same store (PostgreSQL) or the only one (SQLite)."""

    def __init__(
        self,
        store: Store,
        campaign: str,
        placer: CallPlacer,
        clock: CampaignClock,
        on_result: Callable[[Dial, CallResult], None] | None = None,
        poll_s: float | None = 1.0,
        worker: WorkerSettings | None = None,
        on_wait: Callable[[datetime, str], None] | None = None,
        liveness: Callable[[], datetime] = utcnow,
        dial: DialPolicy | None = None,
    ) -> None:
        """`poll_s`: how often (clock seconds) to look for pause / stop from another process
        while every line is busy; None for simulated runs nobody pauses. `liveness`: the real
        time leases and heartbeats are kept in (naive UTC), whatever the campaign clock is.
        `on_wait(at, zone)`: nothing to do until `at` (naive UTC), the next contact's zone."""
        self.store, self.name, self.placer, self.clock = store, campaign, placer, clock
        self.on_result, self.poll_s, self.on_wait = on_result, poll_s, on_wait
        self.worker = worker or WorkerSettings()
        self.worker_id = self.worker.worker_id or f"{HOST}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.liveness = liveness
        self.dial = dial or DialPolicy()
        with store.session() as s:
            row = store.campaign(s, campaign)
            self.campaign_id = row.id
            self.config = CampaignConfig.model_validate(row.config)
        self.postgres = store.engine.dialect.name == "postgresql"
        self.lines = min(self.config.concurrency, self.worker.lines or self.config.concurrency)
        self._stopping = False
        self._forced = False
        self._calls: set[asyncio.Task[None]] = set()
        self._beat_at: datetime | None = None
        self._registered = False
        self._waiting_for: datetime | None = None
        self.placed = 0
        self.recovered = 0

    # --- control -------------------------------------------------------------------------------
    def stop(self) -> None:
        """Graceful (drain): no new calls; the ones in progress run to their end (bounded by
        `drain_s`) and are recorded. A second stop() forces: live calls are cut now."""
        if self._stopping:
            self.force()
            return
        self._stopping = True
        log.info(
            "worker %s draining: %d calls in progress (stop again to force)",
            self.worker_id,
            len(self._calls),
        )

    def force(self) -> None:
        """Cut the calls in progress now; they are recorded as `interrupted` (retried)."""
        self._stopping = self._forced = True
        for task in self._calls:
            task.cancel()

    @property
    def in_progress(self) -> int:
        return len(self._calls)

    @property
    def draining(self) -> bool:
        return self._stopping

    async def run(self) -> str:
        """Returns why it stopped: done, idle (`until_idle`), paused, stopped, forced."""
        self.register()
        self.recover()
        self.store.set_state(self.name, "running")
        calls = self._calls
        reason = "done"
        try:
            while True:
                self._heartbeat()
                state = self._state()
                if self._stopping or state in ("paused", "stopped"):
                    reason = "stopped" if self._stopping else state
                    break
                for dial in self._claim(self.lines - len(calls)):
                    calls.add(asyncio.ensure_future(self._call(dial)))
                free = len(calls) < self.lines
                due = self.next_due() if free else None
                now = self.clock.now()
                if not calls and (due is None or (self.worker.until_idle and due > now)):
                    if self._others_dialing():
                        due = now + timedelta(seconds=self.poll_s or 1.0)
                    else:
                        reason = "done" if due is None else "idle"
                        break
                waits: set[asyncio.Future[None]] = set(calls)
                if due is not None:  # a free line and someone to call later: wake up then
                    wait = max(0.02, (due - now).total_seconds())
                    if not calls:
                        self._announce_wait(due)
                    waits.add(
                        asyncio.ensure_future(self.clock.sleep(min(wait, self.poll_s or wait)))
                    )
                elif self.poll_s:  # lines busy: still look for pause / stop now and then
                    waits.add(asyncio.ensure_future(self.clock.sleep(self.poll_s)))
                done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                for timer in pending - calls:
                    timer.cancel()
                calls -= done
            await self._drain()
        finally:
            self._end_worker()
        if self._forced:
            reason = "forced"
        if reason == "done" and self._state() == "running" and not self._live_workers():
            self.store.set_state(self.name, "done")
        elif (
            reason in ("stopped", "forced", "idle")
            and self._state() == "running"
            and (not self._live_workers())
        ):
            self.store.set_state(self.name, "ready")
        return reason

    async def _drain(self) -> None:
        calls = self._calls
        if not calls:
            return
        if self.worker.drain_s is None or self._forced:
            await asyncio.gather(*calls, return_exceptions=True)
        else:
            _, late = await asyncio.wait(calls, timeout=self.worker.drain_s)
            if late:
                log.warning(
                    "worker %s: drain grace over, cutting %d calls", self.worker_id, len(late)
                )
                self.force()
                await asyncio.gather(*late, return_exceptions=True)
        calls.clear()

    def _announce_wait(self, due: datetime) -> None:
        if self.on_wait is None or due == self._waiting_for:
            return
        if (due - self.clock.now()).total_seconds() < 60:
            return
        self._waiting_for = due
        with self.store.session() as s:
            zone = s.scalar(
                select(Contact.timezone)
                .where(
                    Contact.campaign_id == self.campaign_id,
                    Contact.state == "pending",
                    Contact.next_at == due,
                )
                .limit(1)
            )
        self.on_wait(due, zone or self.config.window.default_timezone)

    def _state(self) -> str:
        with self.store.session() as s:
            return str(s.get(Campaign, self.campaign_id).state)  # type: ignore[union-attr]

    # --- workers -------------------------------------------------------------------------------
    def register(self) -> None:
        """Join the campaign as a worker. SQLite: refused while another worker of the campaign
        is alive. A worker id still held by a live process is refused everywhere."""
        now = self.liveness()
        with self.store.session() as s:
            self._lock_campaign(s)
            workers = list(
                s.scalars(
                    select(Worker).where(
                        Worker.campaign_id == self.campaign_id, Worker.state != "ended"
                    )
                )
            )
            live = [w for w in workers if self._alive(w, now)]
            others = [w for w in live if w.id != self.worker_id]
            same = [w for w in live if w.id == self.worker_id and not self._registered]
            if same:
                w = same[0]
                raise CampaignError(
                    f"worker id {w.id!r} is held by a live dialer (pid {w.pid} on {w.host}, "
                    f"lease until {w.lease_until:%H:%M:%S} UTC): choose another --worker-id"
                )
            if others and not self.postgres:
                w = others[0]
                raise CampaignError(
                    f"campaign {self.name!r} already has a live dialer (worker {w.id}, pid "
                    f"{w.pid} on {w.host}); a SQLite store runs one dialer per campaign: stop it "
                    "first, or use PostgreSQL (--db postgresql+psycopg://...) to run several"
                )
            row = s.get(Worker, self.worker_id)
            if row is None:
                row = Worker(id=self.worker_id, campaign_id=self.campaign_id, started_at=now)
                s.add(row)
            elif not self._registered:
                self._close_attempts_of(s, [row.id])  # our own earlier run died
            row.host, row.pid, row.state, row.started_at = HOST, os.getpid(), "running", now
            row.heartbeat_at, row.lease_until = now, now + timedelta(seconds=self.worker.lease_s)
            row.in_progress, row.placed = 0, 0
        self._beat_at, self._registered = now, True

    def _alive(self, w: Worker, now: datetime) -> bool:
        if w.state == "ended" or w.lease_until < now:
            return False
        return not (w.host == HOST and w.pid != os.getpid() and not _pid_alive(w.pid))

    def _heartbeat(self, force: bool = False) -> None:
        now = self.liveness()
        if (
            not force
            and self._beat_at is not None
            and ((now - self._beat_at).total_seconds() < self.worker.heartbeat_s)
        ):
            return
        self._beat_at = now
        with self.store.session() as s:
            row = s.get(Worker, self.worker_id)
            if row is None:
                return
            if row.state == "lost":
                log.warning(
                    "worker %s: the lease had expired and others recovered its calls",
                    self.worker_id,
                )
            row.state = "draining" if self._stopping else "running"
            row.heartbeat_at, row.lease_until = now, now + timedelta(seconds=self.worker.lease_s)
            row.in_progress, row.placed = len(self._calls), self.placed
        self.recover()

    def _end_worker(self) -> None:
        now = self.liveness()
        with self.store.session() as s:
            row = s.get(Worker, self.worker_id)
            if row is not None:
                row.state, row.lease_until, row.heartbeat_at = "ended", now, now
                row.in_progress, row.placed = 0, self.placed

    def _live_workers(self) -> list[str]:
        now = self.liveness()
        with self.store.session() as s:
            workers = s.scalars(
                select(Worker).where(
                    Worker.campaign_id == self.campaign_id, Worker.state != "ended"
                )
            )
            return [w.id for w in workers if w.id != self.worker_id and self._alive(w, now)]

    def _others_dialing(self) -> bool:
        with self.store.session() as s:
            return (
                s.scalar(
                    select(Attempt.id)
                    .where(Attempt.campaign_id == self.campaign_id, Attempt.state == "dialing")
                    .limit(1)
                )
                is not None
            )

    def _lock_campaign(self, s: Session) -> Campaign:
        """The campaign row, locked on PostgreSQL: claims and registrations of all workers
        take turns, which is what makes the concurrency and cps caps campaign-wide."""
        query = select(Campaign).where(Campaign.id == self.campaign_id)
        if self.postgres:
            query = query.with_for_update()
        campaign = s.scalar(query)
        assert campaign is not None
        return campaign

    # --- claiming ------------------------------------------------------------------------------
    def _claim(self, slots: int) -> list[Dial]:
        if slots <= 0 or self._stopping:
            return []
        now = self.clock.now()
        dials: list[Dial] = []
        with self.store.session() as s:
            campaign = self._lock_campaign(s)
            open_calls = s.scalar(
                select(func.count(Attempt.id)).where(
                    Attempt.campaign_id == self.campaign_id, Attempt.state == "dialing"
                )
            )
            slots = min(slots, self.config.concurrency - (open_calls or 0))
            if slots <= 0:
                return []
            query = (
                select(Contact)
                .where(
                    Contact.campaign_id == self.campaign_id,
                    Contact.state == "pending",
                    Contact.next_at <= now,
                )
                .order_by(Contact.priority.desc(), Contact.next_at, Contact.id)
                .limit(slots * 4)
            )
            if self.postgres:
                query = query.with_for_update(skip_locked=True)
            gap = timedelta(seconds=1.0 / self.config.cps)
            at = campaign.next_dial_at or now
            if at < now or at > now + timedelta(seconds=60):  # idle, or another clock's mark
                at = now
            for contact in s.scalars(query):
                if len(dials) < slots and self._ready(s, contact, at):
                    dials.append(self._start(s, contact, at))
                    at += gap
            campaign.next_dial_at = at
        return dials

    def _ready(self, s: Session, contact: Contact, now: datetime) -> bool:
        """Checks at dial time: do-not-call, pre-dial rules, the calling window (in every zone
        the contact may be in)."""
        if (refused := refusal(contact.phone, self.config.region, self.dial)) is not None:
            contact.state, contact.reason = "skipped", refused
            return False
        if self.store.on_dnc(s, contact.phone, self.campaign_id):
            contact.state, contact.reason, contact.outcome = "skipped", "do-not-call", Outcome.DNC
            return False
        if (tomorrow := self._over_cap(s, contact, now)) is not None:
            contact.next_at = tomorrow  # the window logic picks the hour then
            return False
        fields = {**contact.variables, "name": contact.name}
        if (reason := failed_rule(self.config.rules, fields, now)) is not None:
            contact.state, contact.reason = "skipped", reason
            return False
        window, aware = self.config.window, now.replace(tzinfo=UTC)
        zones = zones_of(contact)
        preferred = time.fromisoformat(contact.preferred_time) if contact.preferred_time else None
        if in_all_windows(aware, zones, window) and not self._wait_for_preferred(
            contact, aware, preferred
        ):
            return True
        slot = next_common_slot(aware, zones, window, preferred if not contact.attempts else None)
        if slot is None:
            contact.state, contact.reason = "skipped", "the calling window never opens"
        else:
            contact.next_at = max(slot.replace(tzinfo=None), now + timedelta(seconds=1))
        return False

    def _over_cap(self, s: Session, contact: Contact, now: datetime) -> datetime | None:
        """The per-number caps across all campaigns of the store (dials and answered calls
        today in the contact's zone, and in the last 7 days; a requested callback is held only
        by the dial caps): None, or when the next local day starts (naive UTC)."""
        zone = ZoneInfo(contact.timezone)
        local = now.replace(tzinfo=UTC).astimezone(zone)
        midnight = datetime.combine(local.date(), time(0), zone)
        day_start = midnight.astimezone(UTC).replace(tzinfo=None)
        rows = s.execute(
            select(Attempt.started_at, Attempt.outcome)
            .join(Contact, Attempt.contact_id == Contact.id)
            .where(Contact.phone == contact.phone, Attempt.started_at >= now - timedelta(days=7))
        ).all()
        today = [outcome for started, outcome in rows if started >= day_start]
        week = [outcome for _, outcome in rows]
        policy = self.dial
        # a callback the person asked for (or the bot promised) is not an unsolicited call:
        # only the dial caps hold for it
        asked = contact.outcome == Outcome.CALLBACK
        if (
            len(today) < policy.max_attempts_per_day
            and len(week) < policy.max_attempts_per_week
            and (asked or sum(o in ANSWERED for o in today) < policy.max_answered_per_day)
            and (asked or sum(o in ANSWERED for o in week) < policy.max_answered_per_week)
        ):
            return None
        tomorrow = datetime.combine(local.date() + timedelta(days=1), time(0), zone)
        return tomorrow.astimezone(UTC).replace(tzinfo=None)

    @staticmethod
    def _wait_for_preferred(contact: Contact, now: datetime, preferred: time | None) -> bool:
        """A first call waits for the contact's preferred time of day (within half an hour)."""
        if preferred is None or contact.attempts:
            return False
        local = now.astimezone(ZoneInfo(contact.timezone))
        target = datetime.combine(local.date(), preferred, local.tzinfo)
        return abs((local - target).total_seconds()) > 1800

    def _start(self, s: Session, contact: Contact, at: datetime) -> Dial:
        contact.state = "dialing"
        contact.attempts += 1
        attempt = Attempt(
            campaign_id=self.campaign_id,
            contact_id=contact.id,
            number=contact.attempts,
            state="dialing",
            started_at=at,
            worker_id=self.worker_id,
        )
        s.add(attempt)
        s.flush()
        self.placed += 1
        return Dial(
            attempt.id,
            contact.id,
            contact.phone,
            contact.name,
            dict(contact.variables),
            contact.attempts,
            contact.timezone,
            at,
        )

    def next_due(self) -> datetime | None:
        """When the next pending contact is due (naive UTC), or None."""
        with self.store.session() as s:
            return s.scalar(
                select(func.min(Contact.next_at)).where(
                    Contact.campaign_id == self.campaign_id, Contact.state == "pending"
                )
            )

    # --- results -----------------------------------------------------------------------------
    async def _call(self, dial: Dial) -> None:
        try:
            if dial.not_before is not None:  # campaign-wide pacing
                wait = (dial.not_before - self.clock.now()).total_seconds()
                if wait > 0:
                    await self.clock.sleep(wait)
            result = await self.placer.place(dial)
        except asyncio.CancelledError:  # forced stop: the call was cut
            self.record(dial.attempt_id, CallResult(outcome=Outcome.INTERRUPTED))
            raise
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
            attempt = s.get(Attempt, attempt_id, with_for_update=self.postgres)
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
        same = (
            s.scalar(
                select(func.count(Attempt.id)).where(
                    Attempt.contact_id == contact.id,
                    Attempt.outcome == result.outcome,
                    Attempt.state == "ended",
                )
            )
            or 0
        )
        plan = after_attempt(
            result.outcome, contact.attempts, same - 1, self.config, now, result.callback_at
        )
        contact.state, contact.next_at = plan.state, plan.next_at
        if result.outcome != Outcome.CALLBACK or plan.state != "pending":
            return
        if result.handoff_failed or result.grade == "A":
            contact.priority = PRIORITY_CALLBACK  # a warm lead: called back first
        window, zones = self.config.window, zones_of(contact)
        if result.callback_at is None:  # no time booked: the `callback` rule
            rule = self.config.retries["callback"]
            slot = callback_slot(now.replace(tzinfo=UTC), zones, window, rule)
            contact.next_at = slot.replace(tzinfo=None) if slot is not None else plan.next_at
            return
        booked = max(result.callback_at, now).replace(tzinfo=UTC)
        if in_all_windows(booked, zones, window):
            return
        slot = next_common_slot(booked, zones, window)
        if slot is None:
            return
        zone = ZoneInfo(contact.timezone)
        contact.next_at = slot.replace(tzinfo=None)
        contact.note = (
            f"callback booked for {booked.astimezone(zone):%Y-%m-%d %H:%M} local "
            f"is outside the window: moved to "
            f"{slot.astimezone(zone):%Y-%m-%d %H:%M}"
        )

    # --- recovery ------------------------------------------------------------------------------
    def recover(self) -> int:
        """Close the attempts of workers that are gone (lease expired, or the process is dead
        on this host), and of dials from before workers existed: the call's fate is unknown, so
        it counts as a dial (`interrupted`) and the contact follows the retry rules. The live
        workers' calls are left alone. Returns how many were closed."""
        now = self.liveness()
        with self.store.session() as s:
            # attempts first: a worker whose attempt is seen here has registered before it
            query = select(Attempt.id, Attempt.worker_id).where(
                Attempt.campaign_id == self.campaign_id, Attempt.state == "dialing"
            )
            open_attempts = [(a, w) for a, w in s.execute(query)]
            workers = list(s.scalars(select(Worker).where(Worker.campaign_id == self.campaign_id)))
            live = {w.id for w in workers if w.id == self.worker_id or self._alive(w, now)}
            for w in workers:
                if w.id not in live and w.state not in ("ended", "lost"):
                    w.state = "lost"
            open_ids = [a for a, worker in open_attempts if worker not in live]
        for attempt_id in open_ids:
            self.record(attempt_id, CallResult(outcome=Outcome.INTERRUPTED))
        self.recovered += len(open_ids)
        if open_ids:
            log.info("worker %s recovered %d interrupted attempts", self.worker_id, len(open_ids))
        return len(open_ids)

    def _close_attempts_of(self, s: Session, worker_ids: list[str]) -> None:
        """Mark the open attempts of these (dead) workers as orphaned: `recover` closes them."""
        for attempt in s.scalars(
            select(Attempt).where(
                Attempt.campaign_id == self.campaign_id,
                Attempt.state == "dialing",
                Attempt.worker_id.in_(worker_ids),
            )
        ):
            attempt.worker_id = None


def zones_of(contact: Contact) -> list[str]:
    """Every zone the contact may be in: its candidates when the number spans several."""
    return list(contact.zone_candidates or []) or [contact.timezone]
