"""Text clean-up of whisper output (no model needed)."""

import pytest

from voicebot.asr.whisper import _looping, _undouble

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("9 9", "9"),
        ("Yes, sure. Yes, sure.", "Yes, sure."),
        ("好的好的", "好的"),
        ("Yes. Yes. Yes.", "Yes."),
        ("Yes? Yes", "Yes?"),
        ("好的，好的。", "好的"),
        ("谢谢", "谢谢"),
        ("11", "11"),
        ("Yes, sure.", "Yes, sure."),
        # the last clause said again: the later copy goes
        ("Yes, hello, it's me. Hello, it's me.", "Yes, hello, it's me."),
        (
            "No, not now. Can I take a message? Can I take a message?",
            "No, not now. Can I take a message?",
        ),
        ("我再考虑考虑", "我再考虑考虑"),
        ("她不在家，你晚点再打吧。晚点再打吧。", "她不在家，你晚点再打吧。"),
        ("No, no, I said no.", "No, no, I said no."),
    ],
)
def test_a_turn_said_twice_by_the_decoder_is_kept_once(raw: str, clean: str) -> None:
    assert _undouble(raw) == clean


def test_a_decoder_loop_is_detected() -> None:
    assert _looping("thank you thank you thank you thank you")
    assert not _looping("thank you very much")


def test_tones_are_told_from_speech_like_signals() -> None:
    import numpy as np

    from voicebot.asr.whisper import SAMPLE_RATE, is_tone

    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    assert is_tone(0.3 * np.sin(2 * np.pi * 440 * t))
    assert is_tone(
        0.3 * np.sin(2 * np.pi * 1000 * t) + 0.01 * np.random.default_rng(1).normal(size=len(t))
    )
    pitch = 2 * np.pi * np.cumsum(np.linspace(120, 180, len(t))) / SAMPLE_RATE  # a rising voice
    harmonics = sum(np.sin(k * pitch) for k in range(1, 12))
    assert not is_tone(harmonics)
    assert not is_tone(np.random.default_rng(2).normal(0, 0.1, len(t)))
