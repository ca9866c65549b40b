"""Sample-rate conversion with soxr (VHQ for offline work, HQ for the call path)."""

from __future__ import annotations

import numpy as np
import soxr

from voicebot.audio.frames import as_float32, as_int16


def resample(pcm: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Resample mono PCM, keeping its dtype (int16 in, int16 out; float in, float32 out)."""
    if src_rate == dst_rate:
        return pcm
    out = soxr.resample(as_float32(pcm), src_rate, dst_rate, quality="HQ")
    return as_int16(out) if pcm.dtype == np.int16 else out.astype(np.float32, copy=False)
