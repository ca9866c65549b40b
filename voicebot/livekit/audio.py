"""LiveKit audio frames to and from voicebot's: int16 mono PCM, and the caller's audio cut into
the engine's 20 ms frames, stamped on the call clock as they arrive."""

from __future__ import annotations

import numpy as np

from voicebot.livekit import require

require("livekit.rtc")

from livekit import rtc  # noqa: E402

from voicebot.audio.frames import AudioFrame, samples_per_frame  # noqa: E402
from voicebot.core.clock import Clock  # noqa: E402

LINE_RATE = 8000  # the phone band the engine's listener runs at on every transport


def mono16(frame: rtc.AudioFrame) -> np.ndarray:
    """The first channel of a LiveKit frame as int16 PCM."""
    pcm = np.frombuffer(frame.data, np.int16)
    if frame.num_channels > 1:
        pcm = pcm.reshape(-1, frame.num_channels)[:, 0]
    return pcm.copy()


def to_frame(pcm: np.ndarray, rate: int) -> rtc.AudioFrame:
    return rtc.AudioFrame(pcm.astype(np.int16).tobytes(), rate, 1, len(pcm))


class Framer:
    """LiveKit frames of any size and rate in, whole 20 ms engine frames out at the line rate
    (resampled as a stream, so the listener decides as on a phone line). A frame's `t` is
    when it started on the call clock, counted in samples (as a phone line's RTP timestamps
    are), so a late burst of frames keeps its true times. The count never runs ahead of the
    clock (audio cannot end after it arrived: the count is moved back), and a gap in the
    input longer than `max_lag_s` (no frames at all) moves it up to the clock."""

    def __init__(self, clock: Clock, rate: int = LINE_RATE, max_lag_s: float = 1.0) -> None:
        self.clock, self.rate, self.max_lag_s = clock, rate, max_lag_s
        self._resampler: tuple[int, rtc.AudioResampler] | None = None
        self._buffer = np.zeros(0, np.int16)
        self._next_t: float | None = None  # where the next frame starts

    def push(self, frame: rtc.AudioFrame) -> list[AudioFrame]:
        pcm = self._at_rate(frame)
        held = len(self._buffer) / self.rate  # a part frame, from the last push
        starts = self.clock.now() - len(pcm) / self.rate  # the new audio, if it ends now
        if self._next_t is None or starts - (self._next_t + held) > self.max_lag_s:
            self._next_t = starts - held
        self._next_t = min(self._next_t, starts - held)
        self._buffer = np.concatenate([self._buffer, pcm])
        n = samples_per_frame(self.rate)
        out = []
        while len(self._buffer) >= n:
            out.append(AudioFrame(self._buffer[:n], self.rate, self._next_t))
            self._buffer = self._buffer[n:]
            self._next_t += n / self.rate
        return out

    def _at_rate(self, frame: rtc.AudioFrame) -> np.ndarray:
        pcm, rate = mono16(frame), frame.sample_rate
        if rate == self.rate:
            return pcm
        if self._resampler is None or self._resampler[0] != rate:
            quality = rtc.AudioResamplerQuality.HIGH
            self._resampler = (rate, rtc.AudioResampler(rate, self.rate, quality=quality))
        out = self._resampler[1].push(to_frame(pcm, rate))
        return np.concatenate([mono16(f) for f in out]) if out else np.zeros(0, np.int16)
