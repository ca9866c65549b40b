"""Text clean-up of whisper output (no model needed)."""

import pytest

from voicebot.asr.whisper import _looping, _undouble

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("9 9", "9"), ("Yes, sure. Yes, sure.", "Yes, sure."), ("好的好的", "好的"),
     ("Yes. Yes. Yes.", "Yes."), ("谢谢", "谢谢"), ("11", "11"), ("Yes, sure.", "Yes, sure.")],
)  # fmt: skip
def test_a_turn_said_twice_by_the_decoder_is_kept_once(raw: str, clean: str) -> None:
    assert _undouble(raw) == clean


def test_a_decoder_loop_is_detected() -> None:
    assert _looping("thank you thank you thank you thank you")
    assert not _looping("thank you very much")
