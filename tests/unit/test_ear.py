"""The caller's-ear detector on synthetic two-sided calls: tones and silence with known gaps."""

import numpy as np
import pytest

from voicebot.metrics.ear import EarMeter, ear_gaps, frame_dbfs

RATE = 8000


def track(*parts: tuple[float, float]) -> np.ndarray:
    """(seconds, amplitude) pieces: a 300 Hz tone at that amplitude, 0 for silence."""
    out = []
    for seconds, amp in parts:
        t = np.arange(int(seconds * RATE)) / RATE
        out.append((amp * np.sin(2 * np.pi * 300 * t)).astype(np.int16))
    return np.concatenate(out)


def levels(pcm: np.ndarray) -> np.ndarray:
    return frame_dbfs(pcm, RATE)


def test_greeting_and_reply_gaps_are_measured_from_audible_edges() -> None:
    # callee: hello 0.5-0.9 s, answer 3.0-4.0 s; bot: greeting 1.6-2.8 s, reply 4.35-5.0 s
    caller = track((0.5, 0), (0.4, 8000), (2.1, 0), (1.0, 8000), (1.0, 0))
    bot = track((1.6, 0), (1.2, 8000), (1.55, 0), (0.65, 8000), (0.0, 0))
    bot = np.concatenate([bot, np.zeros(len(caller) - len(bot), np.int16)])
    gaps = ear_gaps(levels(caller), levels(bot))
    assert gaps.greeting_ms == pytest.approx(700, abs=10)
    assert gaps.replies_ms == [pytest.approx(350, abs=10)]
    assert gaps.cutoffs == 0 and gaps.bot_onsets == 2


def test_leading_sub_threshold_audio_does_not_count_as_the_reply() -> None:
    # the bot's reply starts with 200 ms far below -40 dBFS (dead air), then speech
    caller = track((0.5, 8000), (2.0, 0))
    bot = track((0.6, 0), (0.2, 50), (0.5, 8000), (1.2, 0))
    gaps = ear_gaps(levels(caller), levels(bot))
    assert gaps.greeting_ms == pytest.approx(300, abs=10)  # from 0.5 s to 0.8 s, not 0.6 s


def test_bot_starting_in_a_short_caller_pause_is_a_cutoff_not_a_reply() -> None:
    # caller pauses 300 ms mid-sentence; the bot starts 200 ms into the pause
    caller = track((0.6, 8000), (0.3, 0), (0.6, 8000), (2.0, 0))
    bot = track((0.8, 0), (1.0, 8000), (1.7, 0))
    gaps = ear_gaps(levels(caller), levels(bot))
    assert gaps.cutoffs == 1
    assert gaps.replies_ms == []


def test_caller_finishing_over_the_bot_is_not_a_reply_sample() -> None:
    # greeting, then the caller talks over the bot's second line and the bot goes on
    caller = track((1.5, 0), (0.5, 8000), (2.0, 0))
    bot = track((0.2, 0), (2.5, 8000), (1.3, 0))
    gaps = ear_gaps(levels(caller), levels(bot))
    assert gaps.replies_ms == [] and gaps.greeting_ms is None


def test_meter_collects_frames_as_the_call_runs() -> None:
    caller = track((0.4, 8000), (1.0, 0))
    bot = track((0.7, 0), (0.6, 8000), (0.1, 0))
    meter = EarMeter(RATE)
    for i in range(0, len(caller), 160):
        meter.push(caller[i : i + 160], bot[i : i + 160])
    assert meter.gaps().greeting_ms == pytest.approx(300, abs=10)
