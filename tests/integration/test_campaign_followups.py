"""What the standard phrases leave for the campaign: follow-up tasks in the caller's words in
the export and the report, and the answered-call abandonment rate with its 3 % warning."""

from __future__ import annotations

import asyncio
import csv
import json
from datetime import datetime
from pathlib import Path

import pytest

from voicebot.campaign.config import DAYS, CallingWindow, CampaignConfig
from voicebot.campaign.contacts import import_contacts
from voicebot.campaign.dialer import CallResult, Dial, Dialer, WallClock
from voicebot.campaign.report import daily_report, export
from voicebot.campaign.store import Store
from voicebot.core.clock import VirtualClock
from voicebot.core.outcomes import Outcome
from voicebot.metrics.report import BotLine, CallReport

pytestmark = pytest.mark.integration
START = datetime(2026, 11, 23, 6, 0)
ALWAYS = CallingWindow(start="00:00", end="23:59:59", days=list(DAYS))
COMPLAINT = "the technician never turned up on Monday"


def line(node: str, first_audio_at: float | None) -> BotLine:
    return BotLine(
        node=node,
        text="...",
        queued_at=0.0,
        first_audio_at=first_audio_at,
        ended_at=None,
        interrupted=False,
    )


class Calls:
    """A placer whose calls are written as call reports, then read as the dialer reads them."""

    def __init__(self, slow: set[str]) -> None:
        self.slow = slow

    async def place(self, dial: Dial) -> CallResult:
        report = CallReport(
            call_id=dial.phone[-4:],
            script="survey_en",
            script_path="",
            language="en",
            transport="test",
            outcome=Outcome.COMPLETED,
            hello_end_at=0.8,
        )
        # the greeting's first audio 0.5 s after the hello, or 2.6 s for a slow one
        report.bot_lines = [line("greet", 3.4 if dial.phone in self.slow else 1.3)]
        if dial.phone.endswith("0000"):
            report.records = {"followup.complaint": COMPLAINT, "survey.quality": 2}
        return CallResult.of(report)


def test_followups_are_exported_and_counted_and_abandonment_is_warned_over_3_percent(
    tmp_path: Path,
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    store.create("f", "prompts/survey_en.yaml", CampaignConfig(window=ALWAYS))
    phones = [f"+1 212 555 {i:04d}" for i in range(20)]
    with (tmp_path / "c.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["phone"])
        writer.writeheader()
        writer.writerows({"phone": p} for p in phones)
    import_contacts(store, "f", tmp_path / "c.csv")
    vc = VirtualClock()
    clock = WallClock(vc, START)
    dialer = Dialer(store, "f", Calls({"+12125550001"}), clock, poll_s=None)
    assert asyncio.run(vc.run(dialer.run())) == "done"

    rows = json.loads(export(store, "f", "json", tmp_path / "out.json").read_text())
    [task] = [r for r in rows if r["followups"]]
    assert task["followups"] == {"followup.complaint": COMPLAINT}
    exported_csv = export(store, "f", "csv", tmp_path / "out.csv").read_text(encoding="utf-8")
    assert COMPLAINT in exported_csv and "followups" in exported_csv.splitlines()[0]

    daily_report(store, "f", tmp_path / "report")
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert summary["followups"] == {"followup.complaint": 1}
    assert "answers_followup_complaint.png" not in (tmp_path / "report" / "report.html").read_text()
    # one of 20 answered calls greeted 2.6 s after the hello: 5 %, over the cap
    assert (summary["abandonment_rate"], summary["abandonment_judged"]) == (0.05, 20)
    assert summary["abandonment_warning"] is True
    md = (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
    assert "Abandonment rate 5.0% of 20 answered calls" in md and "WARNING" in md
    assert "Follow-up tasks: 1, complaint 1" in md
    assert COMPLAINT not in md  # the caller's words stay in the export (PII)
