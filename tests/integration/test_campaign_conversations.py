"""A campaign on the persona trunk: real conversations through the whole pipeline (TTS, VAD,
ASR, intents, policy) in virtual time. "Stop calling me" lands on the do-not-call list, a
survey's answers land in the store and the export, a callback booked for "tomorrow at three pm"
is dialled again at three in the callee's zone, on a Shanghai and on a New York server alike.
A Russian mobile is called only when the window is open in the contact's zone."""

from __future__ import annotations

import asyncio
import json
import os
import time as systime
import wave
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from tests.conftest import ROOT
from tests.integration.test_campaign import write_csv
from voicebot.app.trunks import PersonaTrunk, SimulatedTrunk
from voicebot.campaign.config import DAYS, CallingWindow, CampaignConfig
from voicebot.campaign.contacts import import_contacts
from voicebot.campaign.dialer import Dialer, WallClock
from voicebot.campaign.models import Attempt, Contact, DncEntry
from voicebot.campaign.report import export
from voicebot.campaign.schedule import in_window
from voicebot.campaign.store import Store
from voicebot.core.clock import VirtualClock
from voicebot.session.call import CallOptions
from voicebot.sim.trial import Trial

pytestmark = pytest.mark.integration
START = datetime(2026, 11, 23, 2, 0)  # naive UTC: Monday 10:00 in Shanghai
WINDOW = CallingWindow(start="09:00", end="20:00", days=list(DAYS), default_timezone="UTC")
STOPPER = """name: stopper
hello: {en: "Hello?"}
replies:
  en: {identity: "Yes, that's me.", default: "Please stop calling me."}
expect: {default: dnc}
"""


@pytest.fixture(params=["Asia/Shanghai", "America/New_York"])
def server_zone(request: pytest.FixtureRequest) -> Iterator[str]:
    old = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    systime.tzset()
    yield request.param
    if old is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old
    systime.tzset()


@pytest.fixture(scope="module")
def survey(store) -> Trial:  # type: ignore[no-untyped-def]
    trial = Trial(ROOT / "prompts" / "survey_en.yaml", store, CallOptions(max_call_s=90))
    trial.prerender()
    return trial


def due_at(store: Store, start: datetime) -> None:
    with store.session() as s:
        s.execute(update(Contact).values(next_at=start))


def test_conversations_reach_the_store_dnc_list_and_a_callback_in_local_time(
    survey: Trial, server_zone: str, tmp_path: Path
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'p.db'}")
    store.create("talk", "prompts/survey_en.yaml", CampaignConfig(window=WINDOW, max_attempts=2))
    stopper = tmp_path / "stopper.yaml"
    stopper.write_text(STOPPER, encoding="utf-8")
    rows = [
        {"phone": "+86 138 0013 8000", "name": "Ann Lee", "persona": "busy"},
        {"phone": "+86 138 0013 8001", "name": "Bo Chen", "persona": "cooperative"},
        {"phone": "+86 138 0013 8002", "name": "Cy Wu", "persona": str(stopper)},
    ]
    import_contacts(store, "talk", write_csv(tmp_path / "c.csv", rows))
    due_at(store, START)
    vc = VirtualClock()
    clock = WallClock(vc, START)
    trunk = PersonaTrunk(survey, vc, tmp_path / "reports", clock)
    dialer = Dialer(store, "talk", trunk, clock, poll_s=None)
    assert asyncio.run(vc.run(dialer.run())) == "done"
    with store.session() as s:
        contacts = {c.variables["persona"]: c for c in s.scalars(select(Contact))}
        attempts = list(s.scalars(select(Attempt).order_by(Attempt.id)))
        dnc = set(s.scalars(select(DncEntry.phone).where(DncEntry.campaign_id.is_(None))))
    by_contact: dict[int, list[Attempt]] = {}
    for a in attempts:
        by_contact.setdefault(a.contact_id, []).append(a)
    outcomes = {p: [a.outcome for a in by_contact[c.id]] for p, c in contacts.items()}
    assert outcomes["cooperative"] == ["completed"], outcomes
    assert outcomes[str(stopper)] == ["dnc"] and contacts[str(stopper)].phone in dnc
    assert outcomes["busy"] == ["callback", "callback"], outcomes  # called back, then max
    first, second = by_contact[contacts["busy"].id]
    shanghai = ZoneInfo("Asia/Shanghai")
    assert first.callback_at == datetime(2026, 11, 24, 7, 0)  # tomorrow 15:00 in Shanghai
    dialled = second.started_at.replace(tzinfo=UTC).astimezone(shanghai)
    assert (dialled.date().isoformat(), dialled.hour) == ("2026-11-24", 15)
    assert dialled - datetime(2026, 11, 24, 15, tzinfo=shanghai) < timedelta(minutes=1)
    answers = by_contact[contacts["cooperative"].id][0].answers
    assert {"survey.punctuality", "survey.quality", "survey.recommend"} <= set(answers)
    rows_out = json.loads(export(store, "talk", "json", tmp_path / "out.json").read_text())
    exported = next(r for r in rows_out if r["outcome"] == "completed")
    assert exported["answers"] == answers and exported["report"]
    report = json.loads(Path(exported["report"]).read_text())
    assert report["started_at"].endswith("+08:00")  # the call's wall clock was Shanghai's
    # the script says "this call is recorded": every call left a stereo WAV, linked
    assert all(r["recording"] for r in rows_out)
    with wave.open(exported["recording"]) as w:
        assert w.getnchannels() == 2 and w.getnframes() > w.getframerate() * 5


def test_a_russian_mobile_in_moscow_is_called_only_in_its_own_window(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    window = CallingWindow(start="09:00", end="20:00", days=list(DAYS))
    store.create("ru", "prompts/survey_en.yaml", CampaignConfig(region="RU", window=window))
    rows = [{"phone": f"+7 912 345 {i:04d}", "timezone": "Europe/Moscow"} for i in range(40)]
    rows += [{"phone": f"+7 913 345 {i:04d}", "timezone": ""} for i in range(40)]
    result = import_contacts(store, "ru", write_csv(tmp_path / "ru.csv", rows))
    assert result.imported == 80 and result.ambiguous_count == 40  # reported, not guessed
    assert "spans 16 time zones" in result.ambiguous[0]
    due_at(store, datetime(2026, 11, 23, 0, 0))  # 03:00 in Moscow
    vc = VirtualClock()
    clock = WallClock(vc, datetime(2026, 11, 23, 0, 0))
    dialer = Dialer(store, "ru", SimulatedTrunk(clock, seed=2), clock, poll_s=None)
    assert asyncio.run(vc.run(dialer.run())) == "done"
    with store.session() as s:
        pairs = list(s.execute(select(Attempt, Contact).join(Contact)))
    assert len(pairs) >= 80
    for attempt, contact in pairs:
        at = attempt.started_at.replace(tzinfo=UTC)
        if contact.timezone_source == "column":
            assert in_window(at, "Europe/Moscow", window)
        else:  # the window was open in every zone the number may be in
            assert contact.zone_candidates and len(contact.zone_candidates) > 5
            assert all(in_window(at, z, window) for z in contact.zone_candidates)
