"""`voicebot dnc import | export`: an existing do-not-call list goes in with row-numbered
rejects, comes out as CSV and back in unchanged, and its numbers are refused at dial time on
every path: a campaign whose contacts were imported before the list, and `voicebot call`."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.integration.test_campaign import START, write_csv
from voicebot.app.trunks import SimulatedTrunk
from voicebot.campaign.config import DAYS, CallingWindow, CampaignConfig
from voicebot.campaign.contacts import import_contacts
from voicebot.campaign.dialer import Dialer, WallClock
from voicebot.campaign.dnc import export_dnc, import_dnc
from voicebot.campaign.models import Attempt, Contact, DncEntry
from voicebot.campaign.store import CampaignError, Store, dnc_hash
from voicebot.cli import main
from voicebot.core.clock import VirtualClock

pytestmark = pytest.mark.integration
ALWAYS = CallingWindow(start="00:00", end="23:59:59", days=list(DAYS))


def lists(store: Store) -> set[tuple[str, int | None]]:
    with store.session() as s:
        return {(d.phone, d.campaign_id) for d in s.scalars(select(DncEntry))}


def test_import_rejects_by_row_and_export_round_trips(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'd.db'}")
    store.create("spring", "prompts/survey_en.yaml", CampaignConfig(window=ALWAYS))
    hashed = dnc_hash("+12125550199")
    rows = [
        {"phone": "(212) 555-0100", "reason": ""},
        {"phone": "not a number", "reason": ""},
        {"phone": "+1 212 555 0100", "reason": ""},  # the same number again
        {"phone": "+44 20 7946 0000", "reason": "asked by letter"},
        {"phone": hashed, "reason": "erased contact"},
        {"phone": "+1 212 555", "reason": ""},
    ]
    source = write_csv(tmp_path / "list.csv", rows)
    rejects = tmp_path / "list.rejected.csv"
    result = import_dnc(store, source, rejects=rejects)
    assert (result.added, result.already, result.rejected_count) == (3, 1, 2)
    assert result.rejected[0].startswith("row 3: phone:")  # header is row 1
    assert result.rejected[1].startswith("row 7: phone:")
    with rejects.open(newline="") as f:
        assert [r["row"] for r in csv.DictReader(f)] == ["3", "7"]
    assert lists(store) == {("+12125550100", None), ("+442079460000", None), (hashed, None)}
    with store.session() as s:
        reasons = {d.phone: d.reason for d in s.scalars(select(DncEntry))}
    assert reasons["+442079460000"] == "asked by letter"
    assert reasons["+12125550100"] == "imported list"

    campaign_list = write_csv(tmp_path / "one.csv", [{"number": "+1 310 555 0100"}])
    assert import_dnc(store, campaign_list, campaign="spring").added == 1
    with pytest.raises(CampaignError, match="no campaign 'autumn'"):
        import_dnc(store, campaign_list, campaign="autumn")

    out = tmp_path / "out" / "dnc.csv"
    assert export_dnc(store, out) == 4
    with out.open(newline="") as f:
        exported = list(csv.DictReader(f))
    assert {r["campaign"] for r in exported} == {"", "spring"}
    fresh = Store(f"sqlite:///{tmp_path / 'fresh.db'}")
    fresh.create("spring", "prompts/survey_en.yaml", CampaignConfig(window=ALWAYS))
    global_only = tmp_path / "global.csv"
    write_csv(global_only, [r for r in exported if not r["campaign"]])
    again = import_dnc(fresh, global_only)
    assert (again.added, again.rejected_count) == (3, 0)
    assert {p for p, c in lists(fresh)} == {p for p, c in lists(store) if c is None}


def test_a_broken_list_imports_nothing(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'b.db'}")
    bad = tmp_path / "bad.csv"
    bad.write_text("phone,phone\n+12125550100,+12125550101\n", encoding="utf-8")
    with pytest.raises(CampaignError, match=r"bad\.csv:1: the column 'phone' is in the header"):
        import_dnc(store, bad, rejects=tmp_path / "bad.rejected.csv")
    assert lists(store) == set() and not (tmp_path / "bad.rejected.csv").exists()
    nested = tmp_path / "deep.json"
    nested.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(CampaignError, match="nested too deeply"):
        import_dnc(store, nested)


def test_imported_numbers_are_refused_at_dial_time(tmp_path: Path) -> None:
    """The contacts were imported before the list: only the dial-time check can stop them."""
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    store.create("late", "prompts/survey_en.yaml", CampaignConfig(window=ALWAYS))
    phones = [f"+1 212 555 {i:04d}" for i in range(100, 110)]
    import_contacts(store, "late", write_csv(tmp_path / "c.csv", [{"phone": p} for p in phones]))
    with store.session() as s:
        for c in s.scalars(select(Contact)):
            c.next_at = START
    listed = tmp_path / "listed.json"
    listed.write_text(json.dumps([{"tel": p} for p in phones[:3]]), encoding="utf-8")
    assert import_dnc(store, listed).added == 3
    vc = VirtualClock()
    clock = WallClock(vc, START)
    dialer = Dialer(store, "late", SimulatedTrunk(clock, seed=4), clock, poll_s=None)
    assert asyncio.run(vc.run(dialer.run())) == "done"
    with store.session() as s:
        dialled = set(s.scalars(select(Contact.phone).join(Attempt)))
        skipped = set(s.scalars(select(Contact.phone).where(Contact.reason == "do-not-call")))
    blocked = {"+1212555" + p[-4:] for p in phones[:3]}
    assert skipped == blocked and not dialled & blocked and len(dialled) == 7


def test_voicebot_call_refuses_a_number_on_the_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'call.db'}"
    listed = write_csv(tmp_path / "l.csv", [{"phone": "+1 212 555 0123"}])
    assert main(["dnc", "--db", db, "import", str(listed)]) == 0
    assert "1 numbers added to the global list" in capsys.readouterr().out
    for target in ("+12125550123", "(212) 555-0123", "sip:+12125550123@127.0.0.1"):
        args = ["call", target, "--script", "prompts/survey_en.yaml", "--db", db]
        code = main([*args, "--trunk", "sip:127.0.0.1:9"])
        assert code == 2
        assert f"not calling {target}: on the do-not-call list" in capsys.readouterr().err
    out = tmp_path / "export.csv"
    assert main(["dnc", "--db", db, "export", str(out)]) == 0
    assert "+12125550123" in out.read_text(encoding="utf-8")
