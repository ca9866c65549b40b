"""No dead air: rendered and cached lines start at their first audible sound, faded in."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from voicebot.metrics.ear import THRESHOLD_DBFS, frame_dbfs
from voicebot.tts.stage import LineCache
from voicebot.tts.trim import RAMP_MS, trim_leading

pytestmark = pytest.mark.unit
RATE = 8000


def rendered(lead_s: float) -> np.ndarray:
    """`lead_s` of faint hiss (-70 dBFS), then 0.5 s of a 250 Hz tone at -12 dBFS."""
    rng = np.random.default_rng(0)
    hiss = rng.normal(0, 10, int(lead_s * RATE))
    t = np.arange(int(0.5 * RATE)) / RATE
    tone = 8000 * np.sin(2 * np.pi * 250 * t)
    return np.concatenate([hiss, tone]).astype(np.int16)


def test_the_first_frame_sent_is_audible_and_starts_without_a_click() -> None:
    pcm = rendered(0.06)
    out = trim_leading(pcm, RATE)
    assert frame_dbfs(out[:160], RATE).max() > THRESHOLD_DBFS  # the first 20 ms frame
    assert len(pcm) - len(out) == pytest.approx(0.06 * RATE - RAMP_MS / 1000 * RATE, abs=40)
    assert abs(int(out[0])) < 100  # faded in from zero
    assert np.array_equal(out[int(RAMP_MS / 1000 * RATE) :], pcm[-len(out) + 40 :])


def test_silence_and_lines_that_start_loud_are_left_alone() -> None:
    quiet = np.zeros(4000, np.int16)
    loud = rendered(0.0)
    assert np.array_equal(trim_leading(quiet, RATE), quiet)
    assert np.array_equal(trim_leading(loud, RATE), loud)


def test_cached_lines_are_trimmed_also_when_persisted_untrimmed(tmp_path: Path) -> None:
    np.save(tmp_path / "old.npy", rendered(0.06))  # written before trimming existed
    cache = LineCache(tmp_path, rate=RATE)
    cache.put("new", rendered(0.06), personal=True)
    for key in ("old", "new"):
        served = cache.get(key)
        assert served is not None and frame_dbfs(served[:160], RATE).max() > THRESHOLD_DBFS
