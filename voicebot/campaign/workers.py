"""A dialer as a *worker* of its campaign: the lease it holds and renews with a heartbeat
(`workers` table), who else is alive, and which open attempts belong to workers that are gone.

Several dialers may run one campaign on one PostgreSQL store; claims and registrations lock the
campaign row, so caps hold campaign-wide. SQLite runs one dialer per campaign and refuses a
second one. Only the attempts of workers whose lease expired (or whose process is gone, on the
same host) are taken for orphaned."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from voicebot.campaign.models import Attempt, Campaign, Worker
from voicebot.campaign.store import CampaignError, Store

log = logging.getLogger(__name__)
HOST = socket.gethostname()


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """This dialer as a worker of the campaign."""

    worker_id: str = ""  # default: host-pid-random
    lease_s: float = 30.0  # a worker silent this long is taken for dead
    heartbeat_s: float = 5.0
    drain_s: float | None = None  # after stop(): live calls get this long, then are cut
    until_idle: bool = False  # exit when nothing is due now (instead of waiting for windows)
    lines: int | None = None  # this worker's own calls at once (its trunk); None: the campaign cap
    # back-pressure: no new call while this process's recogniser lags this far behind (final
    # decodes waiting for the CPU); None: lines alone decide
    max_asr_lag_s: float | None = 1.0


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Lease:
    """One worker's registration, heartbeat and view of the others (times in `liveness`, the
    real naive-UTC time, whatever the campaign clock is)."""

    def __init__(
        self,
        store: Store,
        campaign_id: int,
        name: str,
        worker_id: str,
        settings: WorkerSettings,
        liveness: Callable[[], datetime],
    ) -> None:
        self.store, self.campaign_id, self.name = store, campaign_id, name
        self.worker_id, self.settings, self.liveness = worker_id, settings, liveness
        self.postgres = store.engine.dialect.name == "postgresql"
        self.beat_at: datetime | None = None
        self.registered = False

    def register(self) -> None:
        """Join the campaign as a worker. SQLite: refused while another worker of the campaign
        is alive. A worker id still held by a live process is refused everywhere."""
        now = self.liveness()
        with self.store.session() as s:
            self.lock_campaign(s)
            workers = list(
                s.scalars(
                    select(Worker).where(
                        Worker.campaign_id == self.campaign_id, Worker.state != "ended"
                    )
                )
            )
            live = [w for w in workers if self.alive(w, now)]
            others = [w for w in live if w.id != self.worker_id]
            same = [w for w in live if w.id == self.worker_id and not self.registered]
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
            elif not self.registered:
                self.orphan_attempts_of(s, [row.id])  # our own earlier run died
            row.host, row.pid, row.state, row.started_at = HOST, os.getpid(), "running", now
            row.heartbeat_at, row.lease_until = now, now + timedelta(seconds=self.settings.lease_s)
            row.in_progress, row.placed = 0, 0
        self.beat_at, self.registered = now, True

    def alive(self, w: Worker, now: datetime) -> bool:
        if w.state == "ended" or w.lease_until < now:
            return False
        return not (w.host == HOST and w.pid != os.getpid() and not pid_alive(w.pid))

    def heartbeat(self, in_progress: int, placed: int, draining: bool, force: bool = False) -> bool:
        """Renew the lease (every `heartbeat_s`); True when it was renewed now."""
        now = self.liveness()
        if (
            not force
            and self.beat_at is not None
            and ((now - self.beat_at).total_seconds() < self.settings.heartbeat_s)
        ):
            return False
        with self.store.session() as s:
            row = s.get(Worker, self.worker_id)
            if row is None:
                return False
            if row.state == "lost":
                log.warning(
                    "worker %s: the lease had expired and others recovered its calls",
                    self.worker_id,
                )
            row.state = "draining" if draining else "running"
            row.heartbeat_at, row.lease_until = now, now + timedelta(seconds=self.settings.lease_s)
            row.in_progress, row.placed = in_progress, placed
        self.beat_at = now  # only once written: a failed beat is tried again next turn
        return True

    def end(self, placed: int) -> None:
        now = self.liveness()
        with self.store.session() as s:
            row = s.get(Worker, self.worker_id)
            if row is not None:
                row.state, row.lease_until, row.heartbeat_at = "ended", now, now
                row.in_progress, row.placed = 0, placed

    def live_others(self) -> list[str]:
        now = self.liveness()
        with self.store.session() as s:
            workers = s.scalars(
                select(Worker).where(
                    Worker.campaign_id == self.campaign_id, Worker.state != "ended"
                )
            )
            return [w.id for w in workers if w.id != self.worker_id and self.alive(w, now)]

    def others_dialing(self) -> bool:
        with self.store.session() as s:
            return (
                s.scalar(
                    select(Attempt.id)
                    .where(Attempt.campaign_id == self.campaign_id, Attempt.state == "dialing")
                    .limit(1)
                )
                is not None
            )

    def lock_campaign(self, s: Session) -> Campaign:
        """The campaign row, locked on PostgreSQL: claims and registrations of all workers
        take turns, which is what makes the concurrency and cps caps campaign-wide."""
        query = select(Campaign).where(Campaign.id == self.campaign_id)
        if self.postgres:
            query = query.with_for_update()
        campaign = s.scalar(query)
        assert campaign is not None
        return campaign

    def orphaned(self) -> list[int]:
        """The open attempts of workers that are gone (lease expired, or the process is dead
        on this host), and of dials from before workers existed; marks those workers `lost`.
        The live workers' calls are left alone."""
        now = self.liveness()
        with self.store.session() as s:
            # attempts first: a worker whose attempt is seen here has registered before it
            query = select(Attempt.id, Attempt.worker_id).where(
                Attempt.campaign_id == self.campaign_id, Attempt.state == "dialing"
            )
            open_attempts = [(a, w) for a, w in s.execute(query)]
            workers = list(s.scalars(select(Worker).where(Worker.campaign_id == self.campaign_id)))
            live = {w.id for w in workers if w.id == self.worker_id or self.alive(w, now)}
            for w in workers:
                if w.id not in live and w.state not in ("ended", "lost"):
                    w.state = "lost"
            return [a for a, worker in open_attempts if worker not in live]

    def orphan_attempts_of(self, s: Session, worker_ids: list[str]) -> None:
        """Mark the open attempts of these (dead) workers as orphaned: `orphaned` finds them."""
        for attempt in s.scalars(
            select(Attempt).where(
                Attempt.campaign_id == self.campaign_id,
                Attempt.state == "dialing",
                Attempt.worker_id.in_(worker_ids),
            )
        ):
            attempt.worker_id = None
