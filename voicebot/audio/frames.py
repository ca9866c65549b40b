"""PCM audio frames: the unit that moves through a call (mono int16, 20 ms by default)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

FRAME_MS = 20


@dataclass(frozen=True, slots=True)
class AudioFrame:
    """A short block of mono int16 PCM starting at `t` seconds on the call clock."""

    pcm: np.ndarray
    rate: int
    t: float = 0.0

    @property
    def duration(self) -> float:
        return len(self.pcm) / self.rate


def samples_per_frame(rate: int, frame_ms: int = FRAME_MS) -> int:
    return rate * frame_ms // 1000


def split_frames(
    pcm: np.ndarray, rate: int, frame_ms: int = FRAME_MS, t0: float = 0.0
) -> Iterator[AudioFrame]:
    """Cut PCM into whole frames; the last partial frame is padded with silence."""
    n = samples_per_frame(rate, frame_ms)
    pcm = as_int16(pcm)
    for i in range(0, len(pcm), n):
        chunk = pcm[i : i + n]
        if len(chunk) < n:
            chunk = np.concatenate([chunk, np.zeros(n - len(chunk), np.int16)])
        yield AudioFrame(chunk, rate, t0 + i / rate)


def as_int16(pcm: np.ndarray) -> np.ndarray:
    """Float [-1, 1] or int16 PCM to int16."""
    if pcm.dtype == np.int16:
        return pcm
    if np.issubdtype(pcm.dtype, np.floating):
        return (np.clip(pcm, -1.0, 1.0) * 32767.0).astype(np.int16)
    raise TypeError(f"unsupported PCM dtype {pcm.dtype}; expected int16 or float")


def as_float32(pcm: np.ndarray) -> np.ndarray:
    """int16 or float PCM to float32 in [-1, 1]."""
    if pcm.dtype == np.int16:
        return pcm.astype(np.float32) / 32768.0
    return pcm.astype(np.float32, copy=False)
