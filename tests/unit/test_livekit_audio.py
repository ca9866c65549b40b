"""The caller's LiveKit audio cut into the engine's 20 ms frames at the line rate, stamped on
the call clock: a late burst keeps its true times, the count never runs ahead of the clock, a
gap re-anchors it, other rates are resampled as a stream."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("livekit.rtc")

from livekit import rtc

from voicebot.audio.frames import AudioFrame
from voicebot.core.clock import VirtualClock
from voicebot.livekit.audio import Framer

pytestmark = pytest.mark.unit


def frame(samples: int, rate: int = 8000) -> rtc.AudioFrame:
    pcm = (np.arange(samples) % 100).astype(np.int16)
    return rtc.AudioFrame(pcm.tobytes(), rate, 1, samples)


def starts(frames: list[AudioFrame]) -> list[float]:
    return [round(f.t, 3) for f in frames]


def test_frames_arriving_on_time_and_in_a_late_burst_keep_their_place_in_the_audio() -> None:
    clock = VirtualClock()
    framer = Framer(clock)
    out = []
    for _ in range(3):
        clock.advance(0.02)
        out += framer.push(frame(160))
    clock.advance(0.1)  # the loop stalled: five frames at once
    for _ in range(5):
        out += framer.push(frame(160))
    assert starts(out) == [0.0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.12, 0.14]
    assert all(f.rate == 8000 and len(f.pcm) == 160 for f in out)
    assert all(f.t + f.duration <= clock.now() + 1e-9 for f in out)


def test_part_frames_are_joined_and_audio_never_ends_after_it_arrived() -> None:
    clock = VirtualClock()
    framer = Framer(clock)
    clock.advance(0.5)
    assert framer.push(frame(80)) == []  # 10 ms: not a whole frame yet
    joined = framer.push(frame(240))  # both arrived by 0.5 s: they cover 0.46-0.5
    assert starts(joined) == [0.46, 0.48]
    assert np.array_equal(joined[0].pcm[:80], (np.arange(80) % 100).astype(np.int16))


def test_a_gap_in_the_input_moves_the_count_up_to_the_clock() -> None:
    clock = VirtualClock()
    framer = Framer(clock, max_lag_s=1.0)
    clock.advance(0.02)
    framer.push(frame(160))
    clock.advance(3.0)
    late = framer.push(frame(160))
    assert starts(late) == [3.0]


@pytest.mark.parametrize("rate", [16000, 24000, 48000])
def test_room_audio_at_other_rates_comes_out_at_the_line_rate(rate: int) -> None:
    clock = VirtualClock()
    framer = Framer(clock)
    t = np.arange(rate) / rate  # one second of a 440 Hz tone, in 10 ms frames
    tone = (8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    out: list[AudioFrame] = []
    for i in range(100):
        clock.advance(0.01)
        chunk = tone[i * rate // 100 : (i + 1) * rate // 100]
        out += framer.push(rtc.AudioFrame(chunk.tobytes(), rate, 1, len(chunk)))
    assert all(f.rate == 8000 and len(f.pcm) == 160 for f in out)
    assert 45 <= len(out) <= 50  # a streaming resampler holds back a few milliseconds
    pcm = np.concatenate([f.pcm for f in out])[800:]
    peak = np.argmax(np.abs(np.fft.rfft(pcm))) * 8000 / len(pcm)
    assert abs(peak - 440) < 10 and np.abs(pcm).max() > 6000
