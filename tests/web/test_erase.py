"""Erasing a contact leaves no trace of their number, name or words in the store files, the
call reports or the recordings folder; the campaign's counts and the DNC suppression stay."""

from __future__ import annotations

import asyncio
from collections import Counter
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
