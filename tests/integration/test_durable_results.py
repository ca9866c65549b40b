"""Nothing lost, nobody called twice: a campaign on the persona trunk (real conversations in
virtual time) while the SQLite store is first locked by another connection (BEGIN EXCLUSIVE) for
20 s and then fails every write as a full disk does (the DB-API connection under the store
raises SQLite's own "database or disk is full"). The dialer retries, journals, stops claiming,
is stopped while the disk is still full, and is started again on a healthy store: every finished
call's result and the do-not-call request are in the store, no contact was dialled twice, and
nothing was dialled while results could not be recorded. Replaying the journal twice changes
nothing."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import stat
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import ROOT
from tests.integration.test_campaign import write_csv
from voicebot.app.trunks import PersonaTrunk, SimulatedTrunk
from voicebot.campaign.config import DAYS, CallingWindow, CampaignConfig
from voicebot.campaign.contacts import import_contacts
from voicebot.campaign.dialer import CallResult, Dial, Dialer, WallClock
from voicebot.campaign.journal import ResultJournal, journal_dir
from voicebot.campaign.models import Attempt, Contact, DncEntry
from voicebot.campaign.store import Store, utcnow
from voicebot.core.clock import VirtualClock
from voicebot.core.outcomes import Outcome
from voicebot.session.call import CallOptions
from voicebot.sim.trial import Trial

pytestmark = pytest.mark.integration
START = datetime(2026, 11, 23, 14, 0)  # naive UTC: Monday 09:00 in New York
WINDOW = CallingWindow(start="08:00", end="20:00", days=list(DAYS), default_timezone="UTC")
STOPPER = """name: stopper
hello: {en: "Hello?"}
replies:
  en: {identity: "Yes, that's me.", default: "Please stop calling me."}
expect: {default: dnc}
"""
WRITES = ("insert", "update", "delete", "replace")


class Disk:
    """The disk under the store: `full` makes every write fail as SQLite reports it."""

    def __init__(self) -> None:
        self.full = False


class _Cursor:
    def __init__(self, raw: sqlite3.Cursor, disk: Disk) -> None:
        self._raw, self._disk = raw, disk

    def execute(self, sql: str, *args: Any) -> Any:
        if self._disk.full and sql.lstrip().lower().startswith(WRITES):
            raise sqlite3.OperationalError("database or disk is full")
        return self._raw.execute(sql, *args)

    def executemany(self, sql: str, *args: Any) -> Any:
        if self._disk.full and sql.lstrip().lower().startswith(WRITES):
            raise sqlite3.OperationalError("database or disk is full")
        return self._raw.executemany(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


class _Connection:
    """A real sqlite3 connection whose writes fail while the disk is full."""

    def __init__(self, raw: sqlite3.Connection, disk: Disk) -> None:
        object.__setattr__(self, "_raw", raw)
        object.__setattr__(self, "_disk", disk)

    def cursor(self, *args: Any) -> _Cursor:
        return _Cursor(self._raw.cursor(*args), self._disk)

    def execute(self, sql: str, *args: Any) -> Any:
        return self.cursor().execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._raw, name, value)


def faulty_store(path: Path, disk: Disk) -> Store:
    def connect() -> _Connection:
        return _Connection(sqlite3.connect(path, check_same_thread=False), disk)

    return Store(f"sqlite:///{path}", busy_timeout_ms=20, creator=connect)


class Faults:
    """Lock the store for 20 s (virtual), then fill the disk for 20 s, then stop the dialer."""

    def __init__(self, clock: VirtualClock, path: Path, disk: Disk) -> None:
        self.clock, self.path, self.disk = clock, path, disk
        self.locker: sqlite3.Connection | None = None
        self.dialer: Dialer | None = None
        self.task: asyncio.Future[None] | None = None

    @property
    def active(self) -> bool:
        return self.locker is not None or self.disk.full

    def begin(self) -> None:
        self.locker = sqlite3.connect(self.path, isolation_level=None)
        self.locker.execute("BEGIN EXCLUSIVE")
        self.task = asyncio.ensure_future(self._script())

    async def _script(self) -> None:
        await self.clock.sleep(20)
        assert self.locker is not None
        self.locker.execute("ROLLBACK")
        self.locker.close()
        self.locker = None
        self.disk.full = True
        await self.clock.sleep(20)
        assert self.dialer is not None
        self.dialer.stop()  # stopped while the disk is still full: results wait in the journal


class Watched:
    """The persona trunk, noting each dial (and whether results could be recorded then) and
    each finished call; the faults begin as the call of `trigger` ends."""

    def __init__(self, inner: Any, faults: Faults, trigger: str) -> None:
        self.inner, self.faults, self.trigger = inner, faults, trigger
        self.dials: list[tuple[int, bool]] = []
        self.finished: dict[int, CallResult] = {}
        self.phones: dict[int, str] = {}
        self.contact_of: dict[int, int] = {}

    async def place(self, dial: Dial) -> CallResult:
        self.dials.append((dial.contact_id, self.faults.active))
        self.contact_of[dial.attempt_id] = dial.contact_id
        result = await self.inner.place(dial)
        if dial.variables.get("persona") == self.trigger and self.faults.task is None:
            self.faults.begin()
        self.finished[dial.attempt_id] = result
        self.phones[dial.attempt_id] = dial.phone
        return result


@pytest.fixture(scope="module")
def survey(store) -> Trial:
    trial = Trial(ROOT / "prompts" / "survey_en.yaml", store, CallOptions(max_call_s=90))
    trial.prerender()
    return trial


def dump(store: Store) -> tuple[list[tuple[Any, ...]], ...]:
    with store.session() as s:
        attempts = [
            (a.id, a.contact_id, a.state, a.outcome, a.answers, a.dnc, a.ended_at)
            for a in s.scalars(select(Attempt).order_by(Attempt.id))
        ]
        contacts = [
            (c.id, c.state, c.outcome, c.next_at, c.attempts)
            for c in s.scalars(select(Contact).order_by(Contact.id))
        ]
        dnc = [(d.phone, d.campaign_id) for d in s.scalars(select(DncEntry).order_by(DncEntry.id))]
    return attempts, contacts, dnc


def test_a_locked_then_full_store_loses_no_result_and_dials_nobody_twice(
    survey: Trial, tmp_path: Path
) -> None:
    path = tmp_path / "c.db"
    store = Store(f"sqlite:///{path}")
    store.create("durable", "prompts/survey_en.yaml", CampaignConfig(window=WINDOW, concurrency=2))
    stopper = tmp_path / "stopper.yaml"
    stopper.write_text(STOPPER, encoding="utf-8")
    personas = ["cooperative", str(stopper), "refuses", "cooperative"]
    rows = [
        {"phone": f"+1 212 555 {i:04d}", "name": f"Person {i}", "persona": p}
        for i, p in enumerate(personas)
    ]
    import_contacts(store, "durable", write_csv(tmp_path / "c.csv", rows))
    with store.session() as s:
        for c in s.scalars(select(Contact)):
            c.next_at = START
        stopper_phone = next(
            c.phone for c in s.scalars(select(Contact)) if c.variables["persona"] == str(stopper)
        )

    # the first run: the faults begin as the stopper's call ends
    disk = Disk()
    vc = VirtualClock()
    clock = WallClock(vc, START)
    faults = Faults(vc, path, disk)
    first = Watched(PersonaTrunk(survey, vc, tmp_path / "reports", clock), faults, str(stopper))
    dialer = Dialer(faulty_store(path, disk), "durable", first, clock, poll_s=None)
    faults.dialer = dialer
    assert asyncio.run(vc.run(dialer.run())) == "stopped"
    assert faults.task is not None and faults.task.done() and disk.full
    journal = dialer.journal.path
    assert dialer.journaled >= 1 and dialer.journal.pending, "the faults never reached a result"
    assert stat.S_IMODE(journal.stat().st_mode) == 0o600
    assert stat.S_IMODE(journal.parent.stat().st_mode) == 0o700
    # the stopper's result was written after the lock began: it went to the journal (and with
    # it the do-not-call request, when the conversation ended in one, as it does but for a
    # rare misheard turn on a loaded machine)
    [stopper_call] = [a for a, p in first.phones.items() if p == stopper_phone]
    asked = first.finished[stopper_call].dnc
    assert not asked or stopper_phone in dialer.journal.dnc_numbers()
    kept = tmp_path / "journal-copy.jsonl"
    shutil.copy(journal, kept)

    # the restart (a new process: the old one's lease has run out), on a healthy disk
    disk.full = False
    vc2 = VirtualClock()
    clock2 = WallClock(vc2, START + (clock.now() - START))
    faults2 = Faults(vc2, path, Disk())
    second = Watched(PersonaTrunk(survey, vc2, tmp_path / "reports", clock2), faults2, "none")
    later = lambda: utcnow() + timedelta(minutes=5)  # noqa: E731  (the old lease has run out)
    again = Dialer(
        Store(f"sqlite:///{path}"), "durable", second, clock2, poll_s=None, liveness=later
    )
    assert asyncio.run(vc2.run(again.run())) == "done"
    assert again.replayed == dialer.journaled and not dialer.journal.pending

    finished = {**first.finished, **second.finished}
    dials = first.dials + second.dials
    assert len(finished) == len(dials) >= len(personas)  # every dial ended, and was kept
    assert [d for d in dials if d[1]] == [], "dialled while results could not be recorded"
    assert len({contact for contact, _ in dials}) == len(personas)
    # a contact is dialled again only when its recorded result said so (a retry or a booked
    # callback: a conversation misheard on a loaded machine may end in one), never because a
    # result was lost or a journaled one not yet replayed
    contact_of = {**first.contact_of, **second.contact_of}
    outcomes: dict[int, list[CallResult]] = {}
    for attempt_id in sorted(finished):  # attempts are numbered in the order they were made
        outcomes.setdefault(contact_of[attempt_id], []).append(finished[attempt_id])
    for contact_id, results in outcomes.items():
        for earlier in results[:-1]:
            again_due = earlier.outcome.retryable or earlier.outcome == Outcome.CALLBACK
            assert again_due and not earlier.dnc, ("dialled twice", contact_id, results)
    with store.session() as s:
        attempts = {a.id: a for a in s.scalars(select(Attempt))}
        contacts = {c.id: c for c in s.scalars(select(Contact))}
        dnc = set(s.scalars(select(DncEntry.phone)))
    assert set(attempts) == set(finished)
    for attempt_id, result in finished.items():  # every finished call's result is in the store
        a = attempts[attempt_id]
        assert (a.state, a.outcome, a.answers, a.dnc) == (
            "ended",
            result.outcome,
            result.answers,
            result.dnc,
        )
        assert contacts[a.contact_id].state == "done"
    phones = {**first.phones, **second.phones}
    assert {phones[a] for a, r in finished.items() if r.dnc} <= dnc  # every request is kept
    assert not asked or stopper_phone in dnc
    assert any(r.answers for r in finished.values()), "no survey answers to keep"
    assert Outcome.COMPLETED in {r.outcome for r in finished.values()}

    # replaying the same journal again changes nothing
    before = dump(store)
    shutil.copy(kept, journal)
    assert again.replay() and again.replayed == 2 * dialer.journaled
    assert not again.journal.pending
    assert dump(store) == before


def test_a_do_not_call_waiting_in_a_journal_is_honoured_by_every_campaign(
    tmp_path: Path,
) -> None:
    """A "stop calling me" that only reached the journal (store down) holds for the same
    number in another campaign of the store before it is replayed."""
    store = Store(f"sqlite:///{tmp_path / 'j.db'}")
    for name in ("a", "b"):
        store.create(name, "prompts/survey_en.yaml", CampaignConfig(window=WINDOW))
    phones = [f"+1 212 555 {i:04d}" for i in range(5)]
    import_contacts(store, "b", write_csv(tmp_path / "b.csv", [{"phone": p} for p in phones]))
    with store.session() as s:
        for c in s.scalars(select(Contact)):
            c.next_at = START
        asked = s.scalars(select(Contact.phone).order_by(Contact.id)).first()
    with store.session() as s:
        campaign_a = store.campaign(s, "a").id
    ResultJournal(journal_dir(store.url), campaign_a).append(
        {
            "attempt_id": 999,
            "contact_id": 999,
            "phone": asked,
            "at": START.isoformat(),
            "result": CallResult(outcome=Outcome.DNC, dnc=True).to_record(),
        }
    )
    vc = VirtualClock()
    clock = WallClock(vc, START)
    trunk = SimulatedTrunk(clock, seed=3)
    assert asyncio.run(vc.run(Dialer(store, "b", trunk, clock, poll_s=None).run())) == "done"
    with store.session() as s:
        contact = s.scalar(select(Contact).where(Contact.phone == asked))
        assert contact is not None
        dialled = s.scalars(select(Attempt.contact_id)).all()
    assert (contact.state, contact.reason) == ("skipped", "do-not-call")
    assert contact.id not in dialled and len(set(dialled)) == 4


def test_sqlite_runs_with_full_sync(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
