"""Answering-machine detection on recorded greetings, English and Mandarin, through the real
pipeline (virtual time): a person's hello gets the script's greeting at once; a machine gets the
script's voicemail handling, its message starting only after the beep."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import FIXTURES, ROOT
from voicebot.app.stages import ScriptStages
from voicebot.audio.wav import read_wav
from voicebot.bench.replay import Recording, replay_one
from voicebot.core.clock import VirtualClock
from voicebot.metrics.report import CallReport
from voicebot.session.amd import BeepDetector
from voicebot.sim.trial import Trial

pytestmark = pytest.mark.e2e
GREETINGS = FIXTURES / "audio" / "greetings"
# loaded voicemail runs: one in CI; `./dev bench voicemail` sets 20 (in a row, -x)
LOADED_RUNS = int(os.environ.get("VOICEBOT_LOADED_RUNS", "1"))


@pytest.fixture(scope="module")
def trials(store):  # type: ignore[no-untyped-def]
    @cache
    def trial(name: str) -> Trial:
        return Trial(ROOT / "prompts" / f"{name}.yaml", store)

    return trial


def answer(trial: Trial, greeting: str) -> CallReport:
    pcm, _ = read_wav(GREETINGS / f"{greeting}.wav", rate=8000)
    clock = VirtualClock()
    return asyncio.run(clock.run(replay_one(trial, Recording(Path(greeting), pcm), clock)))


@contextmanager
def cpu_burners(seconds: float = 40.0) -> Iterator[None]:
    """A busy process on every core, each ending by itself after `seconds` at most."""
    code = f"import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end: pass"
    burners = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(os.cpu_count() or 2)]
    try:
        yield
    finally:
        for burner in burners:
            burner.kill()
        for burner in burners:
            burner.wait(timeout=10)


def beep_end(greeting: str) -> float:
    pcm, _ = read_wav(GREETINGS / f"{greeting}.wav", rate=8000)
    beeps = BeepDetector(8000)
    ends = [
        e for i in range(0, len(pcm) - 159, 160) if (e := beeps.push(pcm[i : i + 160], i / 8000))
    ]
    assert len(ends) == 1
    return ends[0]


def speech_end(greeting: str) -> float:
    pcm, _ = read_wav(GREETINGS / f"{greeting}.wav", rate=8000)
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > 1000)
    return float(loud[-1]) / 8000


def events(report: CallReport) -> list[str]:
    return [e.kind for e in report.timeline]


@pytest.mark.parametrize(
    ("script", "greeting"), [("survey_en", "en_human"), ("upgrade_zh", "zh_human")]
)
def test_a_person_saying_hello_is_greeted_promptly(trials, script: str, greeting: str) -> None:  # type: ignore[no-untyped-def]
    report = answer(trials(script), greeting)
    assert "answering_machine" not in events(report) and "answered_by_voice" in events(report)
    first = report.bot_lines[0]
    assert first.node == "greet"
    # not over the hello, and not long after it: the answer pause plus the endpoint
    assert speech_end(greeting) < first.queued_at < speech_end(greeting) + 1.5, report.timeline


@pytest.mark.parametrize(
    ("script", "greeting"), [("survey_en", "en_machine"), ("upgrade_zh", "zh_machine")]
)
def test_a_machine_is_hung_up_on_when_the_script_leaves_no_message(
    trials,
    script: str,
    greeting: str,  # type: ignore[no-untyped-def]
) -> None:
    report = answer(trials(script), greeting)
    assert report.outcome == "voicemail" and report.ended_by == "bot"
    assert report.bot_lines == [] and "answering_machine" in events(report)


@pytest.mark.parametrize(
    ("script", "greeting", "reason"),
    [
        ("reminder_en", "en_machine", ""),
        ("reminder_en", "en_machine_beep_only", "beep"),
        ("followup_zh", "zh_machine", ""),
    ],
)
def test_the_voicemail_message_starts_after_the_beep(
    trials,
    script: str,
    greeting: str,
    reason: str,  # type: ignore[no-untyped-def]
) -> None:
    trial = trials(script)
    report = answer(trial, greeting)
    detected = next(e for e in report.timeline if e.kind == "answering_machine")
    assert detected.detail.startswith(reason), detected
    assert report.outcome == "voicemail" and "voicemail_message" in events(report)
    [message] = report.bot_lines
    assert message.node == "voicemail" and not message.interrupted
    assert message.first_audio_at is not None and message.first_audio_at >= beep_end(greeting)
    assert trial.script.example_contact["name"] in message.text


@pytest.mark.parametrize("run", range(LOADED_RUNS))
def test_the_voicemail_message_is_ready_with_the_machine_loaded(trials, run: int) -> None:  # type: ignore[no-untyped-def]
    """Under CPU load the zh voice renders slower than real time; the message is rendered
    while the number rings, so it still starts after the beep, never lost to a late render."""
    trial = trials("followup_zh")
    contact = trial.script.example_contact
    ScriptStages.ended(trial, contact)  # a trial keeps its example contact's lines: none yet
    named = [line for line in trial.first_lines(contact) if contact["name"] in line]
    assert named and not any(trial.tts.ready(line) for line in named)
    with cpu_burners():
        report = answer(trial, "zh_machine")
    assert report.outcome == "voicemail" and "voicemail_message" in events(report)
    [message] = report.bot_lines
    assert message.first_audio_at is not None and message.first_audio_at >= beep_end("zh_machine")
    assert not message.interrupted
    assert message.text in trial.first_lines(contact)  # rendered while the number rang
