"""Erasing a person also erases them from the results journal: a result that waited there for
the store (its number, answers, report and recording) is anonymised in place, byte for byte,
and replaying the journal afterwards neither brings the person back nor calls them again; the
do-not-call request they made in that call still holds, as the number's hash."""

from __future__ import annotations

import asyncio
import stat
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from tests.web.test_erase import NAME, PHONE, WORD, _Recorder
from voicebot.campaign.config import DAYS, CallingWindow, CampaignConfig
from voicebot.campaign.contacts import import_contacts
from voicebot.campaign.dialer import CallResult, Dial, Dialer, WallClock
from voicebot.campaign.erase import erase_contact, expire
from voicebot.campaign.journal import ResultJournal, journal_dir
from voicebot.campaign.models import Attempt, Contact
from voicebot.campaign.store import Store
from voicebot.cli import main

pytestmark = pytest.mark.unit
OTHER = "+14155550123"
SECRETS = (PHONE, PHONE[1:], NAME, WORD)


class _StoreTakesNoResults(Dialer):
    """A dialer whose store takes claims but refuses every result (as a locked or full store
    does): each result goes to the journal, and the run is stopped once both are there."""

    def record(self, attempt_id: int, result: CallResult, now: datetime | None = None) -> None:
        raise OperationalError("UPDATE attempts", {}, Exception("database is locked"))


def _journaled_campaign(tmp_path: Path) -> tuple[Store, Path, Path]:
    """Two people called, both results waiting in the journal; the first asked not to be
    called again. Returns the store, the journal file and the recordings folder."""
    db = tmp_path / "store.db"
    store = Store(f"sqlite:///{db}")
    window = CallingWindow(start="00:00", end="23:59:59", days=list(DAYS))
    config = CampaignConfig(window=window, max_attempts=1, concurrency=2, retention_days=30)
    store.create("spring", "prompts/survey_en.yaml", config)
    csv = tmp_path / "c.csv"
    csv.write_text(f"phone,name,city\n{PHONE},{NAME},{WORD}\n{OTHER},Ann Other,Oslo\n")
    import_contacts(store, "spring", csv)
    recordings = tmp_path / "recordings"
    results: list[Dial] = []

    def stop_when_both(dial: Dial, result: CallResult) -> None:
        results.append(dial)
        if len(results) == 2:
            dialer.stop()

    recorder = _Recorder(tmp_path / "reports", recordings)
    dialer = _StoreTakesNoResults(
        store, "spring", recorder, WallClock(), on_result=stop_when_both, poll_s=None
    )
    dialer.record_retries_s, dialer.store_retry_s = (0.0,), 0.05
    assert asyncio.run(dialer.run()) == "stopped"
    assert dialer.journaled == 2
    return store, dialer.journal.path, recordings


def _contact_id(store: Store, phone: str) -> int:
    with store.session() as s:
        found = s.scalar(select(Contact.id).where(Contact.phone == phone))
    assert found is not None
    return found


def test_erasure_anonymises_the_journal_and_a_replay_brings_nobody_back(tmp_path: Path) -> None:
    store, path, recordings = _journaled_campaign(tmp_path)
    before = path.read_bytes()
    assert PHONE.encode() in before and WORD.encode() in before  # what erasure must reach
    target = _contact_id(store, PHONE)

    done = erase_contact(store, target)

    assert (done.contacts, done.journaled, done.reports, done.recordings) == (1, 1, 1, 1)
    data = path.read_bytes()
    for secret in SECRETS:
        assert secret.encode() not in data, f"{secret} left in the journal"
    assert OTHER.encode() in data and b"fine" in data  # the other person's result is untouched
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary copy left
    for report in (tmp_path / "reports").iterdir():
        if report.name == "call1.json":  # the erased person's call
            assert all(s.encode() not in report.read_bytes() for s in SECRETS)
    assert [p.name for p in recordings.iterdir()] == ["call2.wav"]
    with store.session() as s:
        assert store.on_dnc(s, PHONE, 1)  # asked in the journaled call: holds, as a hash

    replaying = Dialer(store, "spring", _Recorder(tmp_path / "r2", tmp_path / "w2"), WallClock())
    assert replaying.replay() and replaying.replayed == 2 and not path.read_bytes()
    with store.session() as s:
        erased = s.get(Contact, target)
        assert erased is not None and erased.reason == "erased" and erased.next_at is None
        assert erased.phone.startswith("erased-") and erased.state == "skipped"
        attempts = list(s.scalars(select(Attempt).order_by(Attempt.id)))
        assert [a.state for a in attempts] == ["ended", "ended"]
        assert Counter(a.outcome for a in attempts) == Counter({"completed": 2})  # counts stay
        assert [a.answers for a in attempts] == [{}, {"survey.comment": "fine"}]
        assert attempts[0].recording_path is None
        assert store.on_dnc(s, PHONE, 1)
    store.engine.dispose()
    db = tmp_path / "store.db"
    for f in [db, *db.parent.glob("store.db-*")]:
        for secret in SECRETS:
            assert secret.encode() not in f.read_bytes(), f"{secret} left in {f.name}"


def test_retention_and_the_cli_reach_the_journal(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    store, path, _ = _journaled_campaign(tmp_path)
    # waiting in the journal, nobody is done yet in the store: retention erases no one
    assert expire(store, "spring", 30, now=datetime(2100, 1, 1)).journaled == 0
    assert PHONE.encode() in path.read_bytes()
    store.engine.dispose()

    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert main(["campaign", "--db", url, "erase", "--phone", "+1 415 555 0167"]) == 0
    assert "1 journaled results anonymised" in " ".join(capsys.readouterr().out.split())
    assert all(s.encode() not in path.read_bytes() for s in SECRETS)
    assert journal_dir(url) == path.parent
    entries = ResultJournal(path.parent, 1).entries()
    assert [e.get("erased", False) for e in entries] == [True, False]
    assert ResultJournal(path.parent, 1).dnc_numbers().isdisjoint({PHONE})
