"""Several dialers on one campaign: workers with leases on one PostgreSQL (three processes, one
SIGKILLed and one SIGTERMed mid-run), recovery of dead workers' calls only, campaign-wide caps,
and SQLite's one-dialer rule."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, update

from tests.integration.test_campaign import ALWAYS, numbers, write_csv
from voicebot.app.trunks import SimulatedTrunk
from voicebot.campaign.config import CampaignConfig, RetryRule
from voicebot.campaign.contacts import import_contacts
from voicebot.campaign.dialer import Dialer, WallClock, WorkerSettings
from voicebot.campaign.models import Attempt, Contact, Worker
from voicebot.campaign.store import CampaignError, Store, utcnow
from voicebot.core.clock import VirtualClock

pytestmark = pytest.mark.integration
SCRIPT = "prompts/survey_en.yaml"


class OpenCalls(threading.Thread):
    """Samples the campaign's open attempts (calls in progress, all workers) every 50 ms."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.engine = create_engine(url)
        self.samples: list[int] = []
        self.done = threading.Event()

    def run(self) -> None:
        query = select(func.count(Attempt.id)).where(Attempt.state == "dialing")
        while not self.done.is_set():
            with self.engine.connect() as c:
                self.samples.append(int(c.execute(query).scalar() or 0))
            time.sleep(0.05)
        self.engine.dispose()


def dials(log: Path) -> list[tuple[int, int]]:
    if not log.exists():
        return []
    return [tuple(map(int, line.split())) for line in log.read_text().splitlines() if line]  # type: ignore[misc]


def wait_for_dials(log: Path, count: int, procs: list[subprocess.Popen[str]]) -> None:
    deadline = time.monotonic() + 240
    while len(dials(log)) < count:
        assert time.monotonic() < deadline, f"only {len(dials(log))} dials"
        assert any(p.poll() is None for p in procs), "every dialer ended early"
        time.sleep(0.2)


def test_three_dialers_on_one_postgresql_lose_nobody_and_dial_nobody_twice(
    postgres_server, tmp_path: Path
) -> None:
    url = postgres_server.new_database()
    store = Store(url)
    cap = 24
    retries = {
        "no_answer": RetryRule(max=1, after_min=0),
        "busy": RetryRule(max=1, after_min=0),
        "interrupted": RetryRule(max=1, after_min=0),
    }
    store.create(
        "scale", SCRIPT, CampaignConfig(window=ALWAYS, retries=retries, concurrency=cap, cps=150)
    )
    rows = [{"phone": p} for p in numbers(1500, seed=11)]
    assert import_contacts(store, "scale", write_csv(tmp_path / "c.csv", rows)).imported == 1500
    log = tmp_path / "dials.log"

    def command(worker: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "voicebot.cli",
            "campaign",
            "--db",
            url,
            "run",
            "scale",
            "--speed",
            "300",
            "--dial-log",
            str(log),
            "--worker-id",
            worker,
            "--lease-s",
            "5",
            "--lines",
            "12",
            "--until-idle",
        ]

    sampler = OpenCalls(url)
    sampler.start()
    outs = [(tmp_path / f"w{i}.out").open("w+") for i in range(3)]  # a full pipe would block
    procs = [
        subprocess.Popen(command(f"w{i}"), stdout=outs[i], stderr=subprocess.STDOUT, text=True)
        for i in range(3)
    ]
    try:
        wait_for_dials(log, 300, procs)
        procs[0].send_signal(signal.SIGKILL)
        procs[0].wait(10)
        wait_for_dials(log, 600, procs)
        procs[1].send_signal(signal.SIGTERM)
        procs[1].wait(120)
        procs[2].wait(400)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(10)
        sampler.done.set()
        sampler.join(5)
    out1, out2 = ((tmp_path / f"w{i}.out").read_text() for i in (1, 2))
    assert procs[1].returncode == 0 and "draining" in out1 and "stopped" in out1, out1[-2000:]
    assert procs[2].returncode == 0 and "idle" in out2, out2[-2000:]
    # callbacks booked for tomorrow are left: a last run in virtual time dials them
    done = subprocess.run(
        [*command("w3")[:-1], "--virtual"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]

    placed = dials(log)
    with store.session() as s:
        contacts = list(s.scalars(select(Contact)))
        attempts = {a.id: a for a in s.scalars(select(Attempt))}
        workers = {w.id: w for w in s.scalars(select(Worker))}
    ids = [a for a, _ in placed]
    assert len(ids) == len(set(ids)), "an attempt was dialled twice"
    assert all(a in attempts and attempts[a].contact_id == c for a, c in placed)
    assert {c.state for c in contacts} <= {"done", "skipped"}, "a contact was lost"
    assert len(contacts) == 1500 and all(a.state == "ended" for a in attempts.values())
    by_worker = Counter(a.worker_id for a in attempts.values())
    assert all(by_worker[w] > 0 for w in ("w0", "w1", "w2")), by_worker
    assert {w.state for w in workers.values()} <= {"ended", "lost"}
    assert workers["w0"].state == "lost"
    interrupted = [a for a in attempts.values() if a.outcome == "interrupted"]
    assert interrupted and {a.worker_id for a in interrupted} == {"w0"}, "only the dead one's"
    per_contact: dict[int, list[Attempt]] = {}
    for a in sorted(attempts.values(), key=lambda a: a.number):
        per_contact.setdefault(a.contact_id, []).append(a)
    for a in interrupted:  # retried once, by a live worker
        later = [b for b in per_contact[a.contact_id] if b.number == a.number + 1]
        assert len(later) == 1 and later[0].worker_id != "w0"
    assert max(sampler.samples) <= cap, "the campaign-wide cap was broken"
    assert max(sampler.samples) > cap // 2, "the dialers never got busy"


def _dialer(store: Store, name: str, worker: str, clock: WallClock, now=utcnow) -> Dialer:  # type: ignore[no-untyped-def]
    trunk = SimulatedTrunk(clock)
    settings = WorkerSettings(worker_id=worker, lease_s=10)
    return Dialer(store, name, trunk, clock, poll_s=None, worker=settings, liveness=now)


def test_recovery_closes_only_the_calls_of_workers_whose_lease_expired(
    db_url: str, tmp_path: Path
) -> None:
    store = Store(db_url)
    store.create("lease", SCRIPT, CampaignConfig(window=ALWAYS, concurrency=6))
    import_contacts(
        store, "lease", write_csv(tmp_path / "l.csv", [{"phone": p} for p in numbers(20, seed=3)])
    )
    clock = WallClock(VirtualClock(), utcnow() + timedelta(seconds=1))  # contacts are due
    first = _dialer(store, "lease", "first", clock)
    first.register()
    claimed = first._claim(4)
    assert len(claimed) == 4
    if db_url.startswith("sqlite"):  # one dialer per campaign on SQLite, refused clearly
        with pytest.raises(CampaignError, match=r"SQLite store runs one dialer per campaign"):
            _dialer(store, "lease", "second", clock).register()
        later = _dialer(store, "lease", "second", clock, lambda: utcnow() + timedelta(seconds=30))
        later.register()  # the first one's lease is over: taken for dead
        assert later.recover() == 4
        return
    with pytest.raises(CampaignError, match=r"worker id 'first' is held by a live dialer"):
        _dialer(store, "lease", "first", clock).register()
    second = _dialer(store, "lease", "second", clock)
    second.register()
    assert second.recover() == 0, "a live worker's calls are left alone"
    more = second._claim(6)
    assert len(more) == 2, "the concurrency cap is campaign-wide"
    with store.session() as s:
        open_ids = set(s.scalars(select(Attempt.id).where(Attempt.state == "dialing")))
    assert open_ids == {d.attempt_id for d in claimed + more}
    expired = _dialer(store, "lease", "third", clock, lambda: utcnow() + timedelta(seconds=30))
    expired.register()
    assert expired.recover() == 6  # both leases ran out: both workers' calls are interrupted
    with store.session() as s:
        outcomes = Counter(s.scalars(select(Attempt.outcome)))
        states = {w.id: w.state for w in s.scalars(select(Worker))}
    assert outcomes == {"interrupted": 6}
    assert states == {"first": "lost", "second": "lost", "third": "running"}
    asyncio.run(clock.base.run(expired.run()))  # type: ignore[attr-defined]


def test_a_stop_drains_live_calls_and_a_second_stop_forces(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'drain.db'}")
    store.create("drain", SCRIPT, CampaignConfig(window=ALWAYS, concurrency=3, cps=100))
    import_contacts(
        store, "drain", write_csv(tmp_path / "d.csv", [{"phone": p} for p in numbers(10, seed=5)])
    )
    clock = WallClock()  # real time: the simulated calls last minutes

    async def scenario(drain_s: float | None, stops: int) -> tuple[str, bool]:
        trunk = SimulatedTrunk(clock, speed=0.05)
        dialer = Dialer(
            store, "drain", trunk, clock, poll_s=0.05, worker=WorkerSettings(drain_s=drain_s)
        )
        run = asyncio.ensure_future(dialer.run())
        await asyncio.sleep(0.5)
        assert dialer.in_progress == 3
        dialer.stop()
        await asyncio.sleep(0.5)
        draining = not run.done()  # live calls run on after the stop
        for _ in range(stops - 1):
            dialer.stop()
        return await asyncio.wait_for(run, 10), draining

    assert asyncio.run(scenario(None, 2)) == ("forced", True)
    with store.session() as s:
        assert Counter(s.scalars(select(Attempt.outcome))) == {"interrupted": 3}
        assert not list(s.scalars(select(Attempt).where(Attempt.state == "dialing")))
    assert asyncio.run(scenario(1.0, 1)) == ("forced", True)  # the grace ran out
    with store.session() as s:
        assert Counter(s.scalars(select(Attempt.outcome))) == {"interrupted": 6}


def test_warm_leads_are_called_back_first_and_late_bookings_move_into_the_window(
    tmp_path: Path,
) -> None:
    from datetime import datetime

    from voicebot.campaign.config import CallingWindow
    from voicebot.campaign.dialer import CallResult
    from voicebot.core.outcomes import Outcome

    store = Store(f"sqlite:///{tmp_path / 'warm.db'}")
    window = CallingWindow(start="09:00", end="20:00", days=list(ALWAYS.days))
    retries = {"callback": RetryRule(max=2, after_min=0)}
    store.create("warm", SCRIPT, CampaignConfig(window=window, retries=retries))
    rows = [{"phone": p, "timezone": "Asia/Shanghai"} for p in numbers(5, seed=9)]
    import_contacts(store, "warm", write_csv(tmp_path / "w.csv", rows))
    start = datetime(2026, 11, 23, 2, 0)  # 10:00 in Shanghai
    with store.session() as s:
        s.execute(update(Contact).values(next_at=start))
    clock = WallClock(VirtualClock(), start + timedelta(minutes=5))
    dialer = _dialer(store, "warm", "one", clock)
    dialer.register()
    lead, late = dialer._claim(2)
    no_agent = CallResult(outcome=Outcome.CALLBACK, grade="A", handoff_failed=True)
    dialer.record(lead.attempt_id, no_agent)
    late_night = datetime(2026, 11, 23, 15, 0)  # 23:00 in Shanghai: the window is closed
    dialer.record(late.attempt_id, CallResult(outcome=Outcome.CALLBACK, callback_at=late_night))
    (first,) = dialer._claim(1)
    assert first.contact_id == lead.contact_id, "the warm lead is called back before the rest"
    with store.session() as s:
        moved = s.get(Contact, late.contact_id)
        assert moved is not None and moved.next_at == datetime(2026, 11, 24, 1, 0)  # 09:00 next day
        assert moved.note and "moved to 2026-11-24 09:00" in moved.note


def test_report_days_are_the_campaigns_and_retention_deletes_old_files(tmp_path: Path) -> None:
    from datetime import datetime

    from voicebot.campaign.config import CallingWindow
    from voicebot.campaign.report import attempts, purge

    store = Store(f"sqlite:///{tmp_path / 'r.db'}")
    window = CallingWindow(
        start="00:00", end="23:59", days=list(ALWAYS.days), default_timezone="Asia/Shanghai"
    )
    store.create("keep", SCRIPT, CampaignConfig(window=window, retention_days=30))
    import_contacts(store, "keep", write_csv(tmp_path / "k.csv", [{"phone": numbers(1)[0]}]))
    files = []
    with store.session() as s:
        contact = s.scalars(select(Contact)).one()
        for i, started in enumerate([datetime(2026, 10, 1, 8), datetime(2026, 11, 23, 17)]):
            rec, rep = tmp_path / f"{i}.wav", tmp_path / f"{i}.json"
            rec.write_bytes(b"RIFF"), rep.write_text("{}")
            files.append((rec, rep))
            s.add(
                Attempt(
                    campaign_id=contact.campaign_id,
                    contact_id=contact.id,
                    number=i + 1,
                    state="ended",
                    started_at=started,
                    outcome="completed",
                    recording_path=str(rec),
                    report_path=str(rep),
                )
            )
    # 17:00 UTC on the 23rd is 01:00 on the 24th in Shanghai: the campaign's day
    assert [r["number"] for r in attempts(store, "keep", datetime(2026, 11, 24).date())] == [2]
    assert attempts(store, "keep", datetime(2026, 11, 23).date()) == []
    assert purge(store, "keep", now=datetime(2026, 11, 24)) == 2  # the October call's two files
    assert not files[0][0].exists() and not files[0][1].exists()
    assert files[1][0].exists() and files[1][1].exists()
    rows = attempts(store, "keep")
    assert (rows[0]["recording"], rows[1]["recording"]) == (None, str(files[1][0]))
