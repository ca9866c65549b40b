"""G.711 mu-law and A-law codecs (ITU-T G.711), table driven over numpy arrays."""

from __future__ import annotations

from functools import cache

import numpy as np

_ULAW_BIAS = 0x84
_ULAW_CLIP = 8159
_ULAW_SEG_END = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])
_ALAW_SEG_END = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF])


@cache
def _ulaw_encode_table() -> np.ndarray:
    pcm = np.arange(-32768, 32768, dtype=np.int32) >> 2  # 14-bit, as in the reference coder
    mask = np.where(pcm < 0, 0x7F, 0xFF)
    mag = np.minimum(np.abs(pcm), _ULAW_CLIP) + (_ULAW_BIAS >> 2)
    seg = np.searchsorted(_ULAW_SEG_END, mag)
    uval = (np.minimum(seg, 7) << 4) | ((mag >> (seg + 1)) & 0x0F)
    uval = np.where(seg >= 8, 0x7F, uval)
    return ((uval ^ mask) & 0xFF).astype(np.uint8)


@cache
def _ulaw_decode_table() -> np.ndarray:
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    mag = (((mantissa << 3) + _ULAW_BIAS) << exponent) - _ULAW_BIAS
    return np.where(u & 0x80, -mag, mag).astype(np.int16)


@cache
def _alaw_encode_table() -> np.ndarray:
    pcm = np.arange(-32768, 32768, dtype=np.int32) >> 3
    mask = np.where(pcm >= 0, 0xD5, 0x55)
    mag = np.where(pcm >= 0, pcm, -pcm - 1)
    seg = np.searchsorted(_ALAW_SEG_END, mag)
    shift = np.where(seg < 2, 1, seg)
    aval = (np.minimum(seg, 7) << 4) | ((mag >> shift) & 0x0F)
    aval = np.where(seg >= 8, 0x7F, aval)
    return ((aval ^ mask) & 0xFF).astype(np.uint8)


@cache
def _alaw_decode_table() -> np.ndarray:
    a = np.arange(256, dtype=np.int32) ^ 0x55
    t = (a & 0x0F) << 4
    seg = (a & 0x70) >> 4
    t = np.where(seg == 0, t + 8, t + 0x108)
    t = np.where(seg > 1, t << np.maximum(seg - 1, 0), t)
    return np.where(a & 0x80, t, -t).astype(np.int16)


def ulaw_encode(pcm: np.ndarray) -> np.ndarray:
    return _ulaw_encode_table()[pcm.astype(np.int32) + 32768]


def ulaw_decode(data: np.ndarray | bytes) -> np.ndarray:
    return _ulaw_decode_table()[np.frombuffer(data, np.uint8)]


def alaw_encode(pcm: np.ndarray) -> np.ndarray:
    return _alaw_encode_table()[pcm.astype(np.int32) + 32768]


def alaw_decode(data: np.ndarray | bytes) -> np.ndarray:
    return _alaw_decode_table()[np.frombuffer(data, np.uint8)]


def phone_channel(pcm: np.ndarray, rate: int) -> np.ndarray:
    """What a caller's voice sounds like after a telephone line: 8 kHz mu-law, back to `rate`."""
    from voicebot.audio.frames import as_int16
    from voicebot.audio.resample import resample

    narrow = resample(as_int16(pcm), rate, 8000)
    return resample(ulaw_decode(ulaw_encode(narrow)), 8000, rate)
