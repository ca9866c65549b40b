"""No dead air before a line: rendered audio starts at its first audible sound.

Synthesis leaves 10-60 ms of near-silence before the first phoneme; the caller hears that as
extra wait. `trim_leading` cuts it, keeping a short fade-in before the onset so the cut does not
click. Trailing silence stays: it is the pause between sentences."""

from __future__ import annotations

import numpy as np

ONSET_DBFS = -50.0  # a 5 ms window louder than this is sound (below the ear detector's -40)
RAMP_MS = 5.0  # kept before the onset, faded in from zero


def trim_leading(pcm: np.ndarray, rate: int) -> np.ndarray:
    """`pcm` from RAMP_MS before its first window above ONSET_DBFS, with that lead faded in.
    Audio with no such window is returned as it is (a pause is a pause)."""
    n = max(1, int(rate * 0.005))
    whole = len(pcm) // n * n
    if whole == 0:
        return pcm
    windows = pcm[:whole].astype(np.float64).reshape(-1, n)
    loud = np.flatnonzero(np.sqrt(np.mean(windows**2, axis=1)) > 32768 * 10 ** (ONSET_DBFS / 20))
    if len(loud) == 0:
        return pcm
    ramp = int(rate * RAMP_MS / 1000)
    start = max(0, int(loud[0]) * n - ramp)
    if start == 0:
        return pcm
    out = pcm[start:].copy()
    fade = np.linspace(0.0, 1.0, ramp, endpoint=False)
    out[:ramp] = (out[:ramp].astype(np.float64) * fade).astype(pcm.dtype)
    return out
