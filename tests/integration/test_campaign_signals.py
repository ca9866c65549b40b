"""Stopping a running `voicebot campaign run` process: the first SIGTERM drains (no new dials,
the calls in progress run on), the second forces (they are cut now and recorded as
`interrupted`, to be retried); the process exits cleanly and nothing is left open."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.integration.test_campaign import ALWAYS, numbers, write_csv
from voicebot.campaign.config import CampaignConfig, RetryRule
from voicebot.campaign.contacts import import_contacts
from voicebot.campaign.models import Attempt, Contact
from voicebot.campaign.store import Store

pytestmark = pytest.mark.integration


def _wait(predicate, what: str, proc: subprocess.Popen[str], timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert proc.poll() is None, f"the dialer ended while waiting for {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_sigterm_drains_and_a_second_sigterm_cuts_the_calls_and_records_them(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    store = Store(url)
    config = CampaignConfig(
        window=ALWAYS, concurrency=3, cps=50, retries={"interrupted": RetryRule(max=1, after_min=0)}
    )
    store.create("stop", "prompts/survey_en.yaml", config)
    rows = [{"phone": p} for p in numbers(12, seed=5)]
    assert import_contacts(store, "stop", write_csv(tmp_path / "c.csv", rows)).imported == 12
    out = (tmp_path / "run.out").open("w+")
    command = [sys.executable, "-m", "voicebot.cli", "campaign", "--db", url, "run", "stop"]
    # speed 0.2: every simulated call rings and talks for well over a minute
    proc = subprocess.Popen(
        [*command, "--speed", "0.2", "--until-idle"],
        stdout=out,
        stderr=subprocess.STDOUT,
        text=True,
    )

    def open_calls() -> int:
        with store.session() as s:
            return int(s.scalar(select(func.count(Attempt.id)).where(Attempt.state == "dialing")))

    def printed(word: str) -> bool:
        return word in (tmp_path / "run.out").read_text()

    try:
        _wait(lambda: open_calls() == 3, "three calls in progress", proc)
        proc.send_signal(signal.SIGTERM)
        _wait(lambda: printed("draining"), "the drain message", proc)
        time.sleep(1.0)
        assert proc.poll() is None  # draining: the calls run on, the process waits for them
        assert open_calls() == 3  # and no new call was placed
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    text = (tmp_path / "run.out").read_text()
    assert proc.returncode == 0 and "forced" in text, text[-2000:]
    with store.session() as s:
        attempts = list(s.scalars(select(Attempt)))
        contacts = list(s.scalars(select(Contact)))
    assert len(attempts) == 3 and all(a.state == "ended" for a in attempts)
    assert {a.outcome for a in attempts} == {"interrupted"}
    cut = {a.contact_id for a in attempts}
    assert all(c.state == "pending" for c in contacts)  # the cut ones are due again, none lost
    assert all(c.attempts == 1 for c in contacts if c.id in cut)
