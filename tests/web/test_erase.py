"""Erasing a contact leaves no trace of their number, name or words in the store files, the
call reports or the recordings folder; the campaign's counts and the DNC suppression stay."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from voicebot.campaign.config import DAYS, CallingWindow, CampaignConfig
from voicebot.campaign.contacts import import_contacts
from voicebot.campaign.dialer import CallResult, Dial, Dialer, WallClock
from voicebot.campaign.erase import erase_contact
from voicebot.campaign.models import Attempt, Contact
from voicebot.campaign.report import attempts, summary
from voicebot.campaign.store import CampaignError, Store
from voicebot.metrics.report import CallReport, Turn, TurnLatency

pytestmark = pytest.mark.unit
PHONE, NAME, WORD = "+14155550167", "Quilliam Zebedee", "Zanzibarian"


def _report(folder: Path, call_id: str, contact: dict[str, str], word: str) -> Path:
    latency = TurnLatency(
        speech_start=1,
        speech_end=2,
        endpoint_at=2.2,
        asr_final_at=2.3,
        intent_at=2.31,
        policy_at=2.32,
        first_audio_at=2.6,
    )
    report = CallReport(
        call_id=call_id,
        script="survey",
        script_path="prompts/survey_en.yaml",
        language="en",
        transport="sim",
        contact=contact,
        outcome="completed",
        records={"survey.comment": f"the {word} service"},
        turns=[
            Turn(
                text=f"I live in {word} town",
                asr_confidence=0.9,
                intent="affirm",
                confidence=0.8,
                node="intro",
                latency=latency,
            )
        ],
    )
    path = folder / f"{call_id}.json"
    path.write_text(report.model_dump_json(), encoding="utf-8")
    return path


class _Recorder:
    """A transport whose calls each leave a report and a recording, like the persona trunk."""

    def __init__(self, reports: Path, recordings: Path) -> None:
        self.reports, self.recordings = reports, recordings
        reports.mkdir()
        recordings.mkdir()

    async def place(self, dial: Dial) -> CallResult:
        wav = self.recordings / f"call{dial.attempt_id}.wav"
        wav.write_bytes(b"RIFF" + dial.phone.encode() + dial.name.encode())
        word = WORD if dial.phone == PHONE else "fine"
        path = _report(
            self.reports, f"call{dial.attempt_id}", {"name": dial.name, "phone": dial.phone}, word
        )
        return CallResult(
            outcome="completed",
            duration_s=30,
            answers={"survey.comment": word},
            report_path=str(path),
            recording_path=str(wav),
            dnc=dial.phone == PHONE,
        )


def test_erase_leaves_no_trace_and_keeps_counts(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    store = Store(f"sqlite:///{db}")
    window = CallingWindow(start="00:00", end="23:59:59", days=list(DAYS))
    store.create("spring", "prompts/survey_en.yaml", CampaignConfig(window=window, max_attempts=1))
    csv = tmp_path / "c.csv"
    csv.write_text(f"phone,name,city\n{PHONE},{NAME},{WORD}\n+14155550123,Ann Other,Oslo\n")
    import_contacts(store, "spring", csv)
    reports, recordings = tmp_path / "reports", tmp_path / "recordings"
    asyncio.run(
        Dialer(store, "spring", _Recorder(reports, recordings), WallClock(), poll_s=None).run()
    )
    before = summary(store, "spring", attempts(store, "spring"))
    with store.session() as s:
        target = s.scalar(select(Contact.id).where(Contact.phone == PHONE))
    assert target is not None

    done = erase_contact(store, target)

    assert (done.contacts, done.attempts, done.reports, done.recordings) == (1, 1, 1, 1)
    assert done.dnc_hashed == 1
    for f in [db, *db.parent.glob("store.db-*"), *reports.iterdir(), *recordings.iterdir()]:
        data = f.read_bytes()
        for secret in (PHONE, PHONE[1:], NAME, WORD):
            assert secret.encode() not in data, f"{secret} left in {f.name}"
    assert len(list(recordings.iterdir())) == 1  # the other contact's recording stays
    after = summary(store, "spring", attempts(store, "spring"))
    assert (after["outcomes"], after["attempts"], after["answered"]) == (
        before["outcomes"],
        before["attempts"],
        before["answered"],
    )
    with store.session() as s:
        assert Counter(s.scalars(select(Attempt.outcome))) == Counter({"completed": 2})
        assert store.on_dnc(s, PHONE, 1)  # the hash still suppresses the number
    store.create("autumn", "prompts/survey_en.yaml", CampaignConfig())
    again = import_contacts(store, "autumn", csv)
    assert again.skipped == {"do-not-call": 1}
    with pytest.raises(CampaignError):
        erase_contact(store, target)


def test_erase_on_sqlite_and_postgresql(db_url: str, tmp_path: Path) -> None:
    """The same erasure on both stores (PostgreSQL compacts with VACUUM FULL)."""
    store = Store(db_url)
    window = CallingWindow(start="00:00", end="23:59:59", days=list(DAYS))
    store.create("spring", "prompts/survey_en.yaml", CampaignConfig(window=window, max_attempts=1))
    csv = tmp_path / "c.csv"
    csv.write_text(f"phone,name,city\n{PHONE},{NAME},{WORD}\n")
    import_contacts(store, "spring", csv)
    recorder = _Recorder(tmp_path / "reports", tmp_path / "recordings")
    asyncio.run(Dialer(store, "spring", recorder, WallClock(), poll_s=None).run())
    with store.session() as s:
        target = s.scalar(select(Contact.id).where(Contact.phone == PHONE))
    assert target is not None
    assert erase_contact(store, target).attempts == 1
    with store.session() as s:
        contact = s.get(Contact, target)
        assert contact is not None and (contact.name, contact.variables) == ("", {})
        assert PHONE not in contact.phone and store.on_dnc(s, PHONE, contact.campaign_id)
        assert [a.answers for a in s.scalars(select(Attempt))] == [{}]
    assert not list((tmp_path / "recordings").iterdir())
    assert WORD not in (tmp_path / "reports" / "call1.json").read_text()


def test_retention_erases_people_done_long_ago_and_the_cli_erases_one_number(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from voicebot.cli import main

    db = tmp_path / "store.db"
    url = f"sqlite:///{db}"
    store = Store(url)
    window = CallingWindow(start="00:00", end="23:59:59", days=list(DAYS))
    config = CampaignConfig(window=window, max_attempts=1, retention_days=30)
    store.create("spring", "prompts/survey_en.yaml", config)
    csv = tmp_path / "c.csv"
    rows = f"{PHONE},{NAME},{WORD}\n+14155550123,Ann Other,Oslo\n+14155550124,Bo Third,Rome\n"
    csv.write_text("phone,name,city\n" + rows)
    import_contacts(store, "spring", csv)
    recorder = _Recorder(tmp_path / "reports", tmp_path / "recordings")
    asyncio.run(Dialer(store, "spring", recorder, WallClock(), poll_s=None).run())
    with store.session() as s:  # two of them were called 40 days ago, one is due again
        for contact in s.scalars(select(Contact)):
            if contact.phone == "+14155550124":
                contact.state = "pending"
        for attempt in s.scalars(select(Attempt)):
            attempt.started_at -= timedelta(days=40)
    store.engine.dispose()

    assert main(["campaign", "--db", url, "purge", "spring"]) == 0
    assert "2 people done over 30 days ago erased (1 do-not-call" in capsys.readouterr().out
    with store.session() as s:
        phones = sorted(c.phone for c in s.scalars(select(Contact)))
        assert phones[0] == "+14155550124" and all(p.startswith("erased-") for p in phones[1:])
        assert store.on_dnc(s, PHONE, 1)  # still suppressed, by its hash
        assert Counter(s.scalars(select(Attempt.outcome))) == Counter({"completed": 3})
    for f in [db, *db.parent.glob("store.db-*")]:
        for secret in (PHONE[1:], NAME, WORD, "Ann Other"):
            assert secret.encode() not in f.read_bytes(), f"{secret} left in {f.name}"

    assert main(["campaign", "--db", url, "erase", "--phone", "+1 415 555 0124"]) == 0
    assert "erased 1 contact(s)" in capsys.readouterr().out
    assert main(["campaign", "--db", url, "erase", "--phone", "+1 415 555 0124"]) == 2
    assert b"Bo Third" not in db.read_bytes()
