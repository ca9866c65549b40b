"""WAV reading and writing. Input is converted to mono int16 at the rate asked for, or rejected
with a message naming the file and what is wrong with it."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from voicebot.audio.frames import as_int16
from voicebot.audio.resample import resample
from voicebot.core.errors import AudioFormatError


def read_wav(
    path: str | Path, rate: int | None = None, channel: int | None = None
) -> tuple[np.ndarray, int]:
    """Read a PCM WAV as mono int16. Stereo is mixed down unless `channel` picks one side."""
    path = Path(path)
    try:
        with wave.open(str(path), "rb") as w:
            width, channels, src_rate = w.getsampwidth(), w.getnchannels(), w.getframerate()
            raw = w.readframes(w.getnframes())
    except FileNotFoundError:
        raise AudioFormatError(f"{path}: file not found") from None
    except (wave.Error, EOFError) as e:
        raise AudioFormatError(
            f"{path}: not a PCM WAV file ({e}); convert it, e.g. "
            f"`sox {path.name} -b 16 -e signed-integer out.wav`"
        ) from None
    if not raw:
        raise AudioFormatError(f"{path}: contains no audio samples")
    pcm = _to_int16(raw, width, path)
    pcm = pcm[: len(pcm) - len(pcm) % channels].reshape(-1, channels)
    if channel is not None:
        if not 0 <= channel < channels:
            raise AudioFormatError(f"{path}: has {channels} channel(s); channel {channel} asked")
        mono = pcm[:, channel]
    else:
        mono = pcm.mean(axis=1).astype(np.int16) if channels > 1 else pcm[:, 0]
    if rate is not None and rate != src_rate:
        return resample(mono, src_rate, rate), rate
    return mono, src_rate


def _to_int16(raw: bytes, width: int, path: Path) -> np.ndarray:
    if width == 2:
        return np.frombuffer(raw, "<i2").copy()
    if width == 1:  # unsigned 8-bit
        return ((np.frombuffer(raw, np.uint8).astype(np.int16) - 128) << 8).astype(np.int16)
    if width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3)
        return ((b[:, 2].astype(np.int8).astype(np.int16) << 8) | b[:, 1]).astype(np.int16)
    if width == 4:
        return (np.frombuffer(raw, "<i4") >> 16).astype(np.int16)
    raise AudioFormatError(f"{path}: unsupported sample width {width * 8} bits")


def write_wav(path: str | Path, pcm: np.ndarray, rate: int) -> None:
    """Write int16 (or float) PCM; a 2-D array (n, channels) is written as multi-channel."""
    data = as_int16(pcm)
    channels = 1 if data.ndim == 1 else data.shape[1]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.ascontiguousarray(data).astype("<i2").tobytes())
