"""The dialer: claims due contacts, places calls through any transport, records what came of
each, and schedules retries and callbacks. Crash-safe: a contact is claimed and its attempt
written in one transaction *before* the call is placed, and attempts a dead dialer left open are
closed as `interrupted` (a retry, never the same dial again). Nothing is lost: a result the
store will not take (locked, disk full) is retried, then written to the fsynced results journal
(`journal.py`) and replayed on the next start; while the store refuses writes nothing is claimed.

Several dialers may run one campaign on one PostgreSQL store: each is a *worker* with a lease it
renews with a heartbeat (`workers` table); claims lock the campaign row, so the concurrency and
cps caps hold campaign-wide, and take contacts with `FOR UPDATE SKIP LOCKED`; only the attempts of
workers whose lease expired (or whose process is gone, on the same host) are recovered
(`workers.py`). SQLite runs one dialer per campaign and refuses a second one."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from voicebot.campaign.calls import (  # re-exported: the transports import them from here
    CallPlacer,
    CallResult,
    CampaignClock,
    Dial,
    WallClock,
    utc_instant,
)
from voicebot.campaign.config import CampaignConfig
from voicebot.campaign.journal import ResultJournal, journal_dir
from voicebot.campaign.models import Attempt, Campaign, Contact
from voicebot.campaign.safeguards import DialPolicy, refusal
from voicebot.campaign.schedule import (
    after_attempt,
    callback_slot,
    failed_rule,
    in_all_windows,
    next_common_slot,
)
from voicebot.campaign.store import CampaignError, Store, utcnow
from voicebot.campaign.workers import HOST, Lease, WorkerSettings
from voicebot.core.backlog import ASR_BACKLOG, admit
from voicebot.core.outcomes import ANSWERED, Outcome
from voicebot.policy.schema import CONSENT_FIELD

log = logging.getLogger(__name__)
NO_CONSENT = "no consent to future contact"
__all__ = [
    "CallPlacer",
    "CallResult",
    "CampaignClock",
    "Dial",
    "Dialer",
    "WallClock",
    "WorkerSettings",
    "utc_instant",
]


PRIORITY_CALLBACK = 10  # warm leads whose hand-off found no agent: called back first
# waits (clock seconds) between the tries of a result write before it goes to the journal
RECORD_RETRIES_S = (0.5, 1.0, 2.0)
STORE_RETRY_S = 2.0  # the store would not record: look again this often
LAGGING_RECHECK_S = 0.5  # calls held back by the recogniser's lag: look again this often
STORE_DOWN = (OperationalError, InterfaceError)  # locked, disk full, server gone


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
        journal: Path | None = None,
        asr_lag: Callable[[], float] = ASR_BACKLOG.lag_s,
    ) -> None:
        """`poll_s`: how often (clock seconds) to look for pause / stop from another process
        while every line is busy; None for simulated runs nobody pauses. `liveness`: the real
        time leases and heartbeats are kept in (naive UTC), whatever the campaign clock is.
        `on_wait(at, zone)`: nothing to do until `at` (naive UTC), the next contact's zone.
        `journal`: the folder of the results journal (default: the store's data folder).
        `asr_lag`: seconds this process's final decodes wait for the CPU (back-pressure: see
        `WorkerSettings.max_asr_lag_s`)."""
        self.store, self.name, self.placer, self.clock = store, campaign, placer, clock
        self.on_result, self.poll_s, self.on_wait = on_result, poll_s, on_wait
        self.worker = worker or WorkerSettings()
        self.worker_id = self.worker.worker_id or f"{HOST}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.liveness = liveness
        self.asr_lag = asr_lag
        self.dial = dial or DialPolicy()
        with store.session() as s:
            row = store.campaign(s, campaign)
            self.campaign_id = row.id
            self.config = CampaignConfig.model_validate(row.config)
        self.postgres = store.engine.dialect.name == "postgresql"
        self.lease = Lease(store, self.campaign_id, campaign, self.worker_id, self.worker, liveness)
        self.journal = ResultJournal(journal or journal_dir(store.url), self.campaign_id)
        self.record_retries_s: tuple[float, ...] = RECORD_RETRIES_S
        self.store_retry_s = STORE_RETRY_S
        self.lines = min(self.config.concurrency, self.worker.lines or self.config.concurrency)
        self._stopping = False
        self._forced = False
        self._calls: set[asyncio.Task[None]] = set()
        self._waiting_for: datetime | None = None
        self._journal_dnc: set[str] = set()  # do-not-call requests waiting in journals
        self._store_down = False  # the last write was refused: no claims until one works
        self._unrecorded: BaseException | None = None  # neither store nor journal took a result
        self.placed = 0
        self.recovered = 0
        self.journaled = 0  # results that went to the journal
        self.replayed = 0  # journal entries written into the store

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
        """Returns why it stopped: done, idle (`until_idle`), paused, stopped, forced. Results
        a previous run left in the journal are replayed first (before any attempt is taken for
        interrupted); while the store refuses writes nothing is claimed, and the dialer waits
        for it (the calls in progress run on, their results retried, then journaled)."""
        if not self.replay():
            raise CampaignError(
                f"campaign {self.name!r}: the store does not take writes, and "
                f"{len(self.journal.entries())} call results wait in {self.journal.path}: "
                "they are replayed on the next start"
            )
        self.register()
        self.recover()
        self.store.set_state(self.name, "running")
        calls = self._calls
        reason = "done"
        try:
            while True:
                if self._stopping and self._store_down:
                    reason = "stopped"
                    break
                try:
                    turn = self._turn()
                except STORE_DOWN as e:
                    self._went_down(e)
                    turn = self.clock.now() + timedelta(seconds=self.store_retry_s)
                if isinstance(turn, str):
                    reason = turn
                    break
                due, now = turn, self.clock.now()
                waits: set[asyncio.Future[None]] = set(calls)
                if due is not None:  # a free line and someone to call later: wake up then
                    wait = max(0.02, (due - now).total_seconds())
                    if not calls and not self._store_down:
                        self._announce_wait(due)
                    if self._store_down:
                        wait = self.store_retry_s
                    waits.add(
                        asyncio.ensure_future(self.clock.sleep(min(wait, self.poll_s or wait)))
                    )
                elif self.poll_s:  # lines busy: still look for pause / stop now and then
                    waits.add(asyncio.ensure_future(self.clock.sleep(self.poll_s)))
                done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                for timer in pending - calls:
                    timer.cancel()
                calls -= done
                self._collect(done)
            await self._drain()
        finally:
            self._quietly(lambda: self.lease.end(self.placed))
        if self._unrecorded is not None:
            raise CampaignError(
                f"campaign {self.name!r}: a call result could be written neither to the store "
                f"nor to the journal {self.journal.path} ({type(self._unrecorded).__name__}); "
                "dialling stopped"
            ) from None
        if self._forced:
            reason = "forced"
        self._quietly(lambda: self._settle(reason))
        return reason

    def _turn(self) -> str | datetime | None:
        """One look at the store: replay what waits in the journal, beat, claim. Returns why
        the run ends (a str), or when to look again (None: when a call ends)."""
        if not self.replay():
            return self.clock.now() + timedelta(seconds=self.store_retry_s)
        calls = self._calls
        self._heartbeat()
        state = self._state()
        if self._stopping or state in ("paused", "stopped"):
            return "stopped" if self._stopping else state
        free = self.lines - len(calls)
        admitted = admit(free, len(calls), self.asr_lag(), self.worker.max_asr_lag_s)
        for dial in self._claim(admitted):
            calls.add(asyncio.ensure_future(self._call(dial)))
        self._store_down = False  # the claim was written: the store records again
        due = self.next_due() if len(calls) < self.lines else None
        now = self.clock.now()
        if admitted < free and due is not None:  # held back by the lag: look again soon
            due = max(due, now + timedelta(seconds=LAGGING_RECHECK_S))
        if not calls and (due is None or (self.worker.until_idle and due > now)):
            if not self.lease.others_dialing():
                return "done" if due is None else "idle"
            due = now + timedelta(seconds=self.poll_s or 1.0)
        return due

    def _settle(self, reason: str) -> None:
        """The campaign's state after this worker's run."""
        if reason == "done" and self._state() == "running" and not self.lease.live_others():
            self.store.set_state(self.name, "done")
        elif (
            reason in ("stopped", "forced", "idle")
            and self._state() == "running"
            and (not self.lease.live_others())
        ):
            self.store.set_state(self.name, "ready")

    def _went_down(self, error: BaseException) -> None:
        if not self._store_down:  # the error type only: store errors quote row values
            log.warning(
                "worker %s: the store refuses writes (%s): no new calls until it records again",
                self.worker_id,
                type(error).__name__,
            )
        self._store_down = True

    def _quietly(self, step: Callable[[], None]) -> None:
        """A bookkeeping write that may fail while the store is down (nothing is lost)."""
        try:
            step()
        except STORE_DOWN as e:
            self._went_down(e)

    def _collect(self, done: set[asyncio.Future[None]]) -> None:
        """A call task that raised could not record its result anywhere: stop dialling."""
        for task in done:
            if task.cancelled() or task.exception() is None:
                continue
            self._unrecorded = task.exception()
            self._stopping = True

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

    # --- workers (workers.py) -----------------------------------------------------------------
    def register(self) -> None:
        """Join the campaign as a worker (see `Lease.register`)."""
        self.lease.register()

    def _heartbeat(self, force: bool = False) -> None:
        if self.lease.heartbeat(len(self._calls), self.placed, self._stopping, force):
            self.recover()

    # --- claiming ------------------------------------------------------------------------------
    def _claim(self, slots: int) -> list[Dial]:
        if slots <= 0 or self._stopping:
            return []
        now = self.clock.now()
        dials: list[Dial] = []
        self._journal_dnc = self.journal.dnc_numbers()  # once per claim, not per contact
        with self.store.session() as s:
            campaign = self.lease.lock_campaign(s)
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
        if self.store.on_dnc(s, contact.phone, self.campaign_id) or (
            contact.phone in self._journal_dnc  # asked while the store was down
        ):
            contact.state, contact.reason, contact.outcome = "skipped", "do-not-call", Outcome.DNC
            return False
        if self.store.refused_consent(s, contact.phone, self.config.purpose):
            contact.state, contact.reason = "skipped", NO_CONSENT
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
            self._record_or_journal(dial, CallResult(outcome=Outcome.INTERRUPTED), self.clock.now())
            raise
        except Exception as e:  # a transport error is the call's outcome, not the dialer's end
            # the type only: transport errors can quote the dialled number
            log.error("attempt %s failed: %s", dial.attempt_id, type(e).__name__)
            result = CallResult(outcome=Outcome.FAILED)
        await self._record_durably(dial, result)
        if self.on_result is not None:
            self.on_result(dial, result)

    async def _record_durably(self, dial: Dial, result: CallResult) -> None:
        """Write the result, trying again (`record_retries_s`) while the store refuses; then
        journal it (fsynced) for the replay. Raises only when the journal fails too."""
        at = self.clock.now()
        for wait in self.record_retries_s:
            if self.journal.pending:  # the store is known to be down: straight to the journal
                break
            try:
                self.record(dial.attempt_id, result, at)
                return
            except STORE_DOWN as e:
                self._went_down(e)
            await self.clock.sleep(wait)
        self._record_or_journal(dial, result, at)

    def _record_or_journal(self, dial: Dial, result: CallResult, at: datetime) -> None:
        try:
            if not self.journal.pending:
                self.record(dial.attempt_id, result, at)
                return
        except STORE_DOWN as e:
            self._went_down(e)
        entry = {
            "attempt_id": dial.attempt_id,
            "contact_id": dial.contact_id,
            "phone": dial.phone,
            "at": at.isoformat(),
            "result": result.to_record(),
        }
        self.journal.append(entry)
        self.journaled += 1
        log.warning("worker %s: attempt %s journaled", self.worker_id, dial.attempt_id)

    def replay(self) -> bool:
        """Write what waits in the journal into the store (idempotent: an attempt already
        closed keeps its result; a do-not-call request is added once), then empty it. True
        when nothing waits any more; False while the store still refuses."""

        def apply(entries: list[dict[str, Any]]) -> None:
            for entry in entries:
                self.record(
                    int(entry["attempt_id"]),
                    CallResult.from_record(entry["result"]),
                    datetime.fromisoformat(entry["at"]),
                )

        try:
            count = self.journal.replay(apply)
        except STORE_DOWN as e:
            self._went_down(e)
            return False
        if count:
            self.replayed += count
            self._store_down = False
            log.info("worker %s: %d journaled results replayed", self.worker_id, count)
        return True

    def record(self, attempt_id: int, result: CallResult, now: datetime | None = None) -> None:
        """The result onto its open attempt, and what follows for the contact. An attempt
        already closed (recovered) keeps its result, but a do-not-call request always holds."""
        now = now or self.clock.now()
        with self.store.session() as s:
            attempt = s.get(Attempt, attempt_id, with_for_update=self.postgres)
            contact = s.get(Contact, attempt.contact_id) if attempt else None
            if attempt is None or contact is None:
                return
            if contact.reason == "erased":  # erased while its result waited in the journal
                _close_anonymously(attempt, result, now)
                return
            if attempt.state != "dialing":  # already closed (recovered after a crash)
                self._consent(s, contact, result)  # an answer to the consent question holds
                if result.dnc:
                    self.store.add_dnc(s, contact.phone, None, "asked during a call")
                    if contact.state != "dialing":
                        contact.state, contact.next_at = "done", None
                        contact.outcome = Outcome.DNC
                return
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
        if self._consent(s, contact, result) is False:  # no further calls of this purpose
            contact.state, contact.next_at, contact.reason = "done", None, NO_CONSENT
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

    def _consent(self, s: Session, contact: Contact, result: CallResult) -> bool | None:
        """The callee's answer to the script's consent question (`CONSENT_FIELD`), kept on the
        contact and, per number and campaign purpose, in the store: None when not answered."""
        answer = result.answers.get(CONSENT_FIELD)
        if not isinstance(answer, bool):
            return None
        contact.consent = answer
        self.store.set_consent(s, contact.phone, self.config.purpose, answer, self.campaign_id)
        return answer

    # --- recovery ------------------------------------------------------------------------------
    def recover(self) -> int:
        """Close the attempts of workers that are gone (`Lease.orphaned`): the call's fate is
        unknown, so it counts as a dial (`interrupted`) and the contact follows the retry rules.
        Returns how many were closed."""
        open_ids = self.lease.orphaned()
        for attempt_id in open_ids:
            self.record(attempt_id, CallResult(outcome=Outcome.INTERRUPTED))
        self.recovered += len(open_ids)
        if open_ids:
            log.info("worker %s recovered %d interrupted attempts", self.worker_id, len(open_ids))
        return len(open_ids)


def zones_of(contact: Contact) -> list[str]:
    """Every zone the contact may be in: its candidates when the number spans several."""
    return list(contact.zone_candidates or []) or [contact.timezone]


def _close_anonymously(attempt: Attempt, result: CallResult, now: datetime) -> None:
    """The result of an erased person's call: only what erasure keeps of an attempt (the
    outcome, duration, grade and latency: the campaign's counts), the contact left erased
    (its do-not-call request was put on the list as the number's hash when it was erased)."""
    if attempt.state != "dialing":
        return
    attempt.state, attempt.ended_at, attempt.outcome = "ended", now, result.outcome
    attempt.duration_s, attempt.lead_grade, attempt.dnc = (
        result.duration_s,
        result.grade,
        result.dnc,
    )
    attempt.transferred, attempt.latency_ms = result.transferred, result.latency_ms
    attempt.report_path = result.report_path
