"""The demo as a user runs it (`voicebot -v demo`, debug logging on): its log lines carry no
contact number, name or caller words (the numbers are in the store, so they were there to leak),
and no file it writes is readable by other users."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.e2e


def test_the_demo_keeps_personal_data_private(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "voicebot.cli",
            "-v",
            "demo",
            "--out",
            str(out),
            "--personas",
            "cooperative",
            "wrong_person",
            "--concurrency",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    logs = run.stderr
    assert "DEBUG voicebot.session.call: call " in logs  # debug logging really was on
    with sqlite3.connect(out / "campaign.db") as db:
        phones = [row[0] for row in db.execute("select phone from contacts")]
    assert len(phones) == 2
    digits = re.sub(r"\D", "", logs)
    for phone in phones:
        assert phone not in logs and phone.lstrip("+") not in digits
        assert phone[-7:] not in digits  # nor the local part, however it was formatted
    written = [out, *out.rglob("*")]
    assert len(written) > 10  # the store, reports, recordings, the campaign report
    shared = [str(p.relative_to(out)) for p in written if p.stat().st_mode & 0o077]
    assert shared == []  # nothing the demo writes is readable by other users
    words = ["Ann Lee", "Yes, speaking", "I would say", "wrong number"]
    assert not [w for w in words if w.lower() in logs.lower()]
