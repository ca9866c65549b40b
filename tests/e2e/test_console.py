"""`voicebot console` headless: a recorded caller as the microphone, the speaker into a WAV file;
and the sounddevice path opened on ALSA's null device (no sound card here)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT
from voicebot.app.console import run_console
from voicebot.audio.resample import resample
from voicebot.audio.wav import read_wav

pytestmark = pytest.mark.e2e
CALLS = ROOT / "benchmarks" / "data" / "calls"


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def test_a_recorded_caller_completes_the_survey_on_the_console(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    expected = json.loads((CALLS / "cooperative.json").read_text())
    shown: list[str] = []
    speaker = tmp_path / "heard.wav"
    report = run_console(
        ROOT / "prompts" / "survey_en.yaml",
        store,
        {},
        mic=CALLS / "cooperative.wav",
        speaker=speaker,
        write=shown.append,
    )
    assert report.outcome == "completed"
    assert {k: report.records[k] for k in expected["records"]} == expected["records"]
    # shown live, in the order it happened: greeting, the caller's answer, the next question
    bot = [i for i, s in enumerate(shown) if s.startswith("bot  [")]
    you = [i for i, s in enumerate(shown) if s.startswith("you  ")]
    assert shown[bot[0]].startswith("bot  [greet] Hello, this is Sam")
    assert bot[0] < you[0] < bot[2] and len(you) == len(report.turns)
    assert "-> affirm" in shown[you[1]]  # "yes, sure" to "is now a good time?"
    assert shown[-3].startswith("call ended: completed")
    assert "survey.recommend=9" in shown[-2]
    # the speaker got the bot's lines: the greeting transcribes to its words
    pcm, rate = read_wav(speaker)
    assert rate == 8000 and len(pcm) / rate == pytest.approx(report.duration_s, abs=0.5)
    ended = report.bot_lines[0].ended_at
    assert ended is not None
    first = pcm[: int((ended + 0.5) * rate)]  # the whole greeting: no cut-off last word
    said = store.asr("en").transcribe(resample(first, 8000, 16000)).text
    greet = report.bot_lines[0].text
    assert len(words(greet) & words(said)) >= 0.6 * len(words(greet)), said


def test_the_sound_device_path_runs_on_alsa_null(tmp_path: Path) -> None:
    (tmp_path / ".asoundrc").write_text("pcm.!default { type null }\n")
    probe = """
import time
import numpy as np
from voicebot.telephony.local import SoundDevice, list_devices
print("default" in list_devices())
device = SoundDevice(rate=8000, device="default", device_rate=16000)
tone = (np.sin(np.arange(160) * 0.3) * 8000).astype(np.int16)
for _ in range(50):
    device.play(tone)
time.sleep(0.3)
frames = []
for _ in range(500):  # the null device may run faster than real time: frames never run out
    if (frame := device.capture()) is None:
        break
    frames.append(frame)
device.close()
print(len(frames) > 0, {len(f) for f in frames}, device.queued)
"""
    env = {**os.environ, "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # devices listed, 20 ms frames at the line rate from the microphone, the speaker drained
    assert done.stdout.split("\n")[:2] == ["True", "True {160} 0"]


def test_the_console_without_portaudio_says_what_to_install(tmp_path: Path) -> None:
    # a machine without libportaudio2: sounddevice's import fails with OSError
    probe = """
import builtins
real = builtins.__import__
def fake(name, *a, **k):
    if name == "sounddevice":
        raise OSError("PortAudio library not found")
    return real(name, *a, **k)
builtins.__import__ = fake
from voicebot.telephony.local import SoundDevice
try:
    SoundDevice()
except RuntimeError as e:
    print(e)
"""
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert "apt install libportaudio2" in done.stdout, done.stderr


def test_silence_ends_in_the_no_input_close(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    silent = tmp_path / "silent.wav"
    from voicebot.audio.wav import write_wav

    write_wav(silent, np.zeros(8000, np.int16), 8000)
    shown: list[str] = []
    report = run_console(
        ROOT / "prompts" / "survey_en.yaml", store, {}, mic=silent, write=shown.append
    )
    assert report.outcome == "no_input"
    assert any(s.startswith("     (no_input") for s in shown)
