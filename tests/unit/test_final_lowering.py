"""The prosodic turn cue measured in benchmarks/smart_turn.py (`--cue pitch`): final lowering."""

from __future__ import annotations

import numpy as np

from benchmarks.smart_turn import final_lowering, pitch_track

RATE = 8000


def _voice(f0: np.ndarray) -> np.ndarray:
    """A buzzy vowel whose pitch follows `f0` (Hz per sample): three harmonics, int16."""
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    x = sum(np.sin(k * phase) / k for k in (1, 2, 3))
    return (0.3 * 32767 * x / 1.84).astype(np.int16)


def test_the_pitch_track_follows_a_steady_voice_and_leaves_silence_unvoiced() -> None:
    pcm = np.concatenate([_voice(np.full(RATE // 2, 160.0)), np.zeros(RATE // 4, np.int16)])
    f0 = pitch_track(pcm)
    voiced = f0[~np.isnan(f0)]
    assert len(voiced) > 30 and abs(float(np.median(voiced)) - 160) < 5
    assert np.isnan(f0[-10:]).all()


def test_a_falling_end_is_lowered_and_a_level_or_rising_end_is_not() -> None:
    steady = np.full(RATE, 180.0)
    falling = np.concatenate([steady, np.linspace(180, 130, RATE // 4)])
    rising = np.concatenate([steady, np.linspace(180, 220, RATE // 4)])
    assert (drop := final_lowering(_voice(falling))) is not None and drop > 3
    assert (level := final_lowering(_voice(steady))) is not None and abs(level) < 1
    assert (rise := final_lowering(_voice(rising))) is not None and rise < 1


def test_too_little_voice_gives_no_cue() -> None:
    assert final_lowering(np.zeros(RATE, np.int16)) is None
