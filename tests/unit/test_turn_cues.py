"""Lexical turn cues: complete, still going, or only acknowledging (English and Mandarin)."""

import pytest

from voicebot.vad.completion import Completion, completion, is_backchannel

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("I would say four.", "en"),
        ("Yes, speaking.", "en"),
        ("Yes, go on.", "en"),
        ("Nine.", "en"),
        ("No, that's all", "en"),
        ("我给五分吧。", "zh"),
        ("明天下午三点。", "zh"),
    ],
)
def test_finished_answers_are_complete(text: str, language: str) -> None:
    assert completion(text, language) is Completion.COMPLETE


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("My number is, um", "en"),
        ("I think it was good and", "en"),
        ("It's twenty", "en"),
        ("It's 555, 12", "en"),
        ("five five five one", "en"),
        ("Well, I...", "en"),
        ("我觉得还可以，但是", "zh"),
        ("那个", "zh"),
    ],
)
def test_unfinished_answers_are_incomplete(text: str, language: str) -> None:
    assert completion(text, language) is Completion.INCOMPLETE


def test_no_words_leave_the_hangover_alone() -> None:
    assert (
        completion("", "en") is Completion.UNKNOWN and completion("。", "zh") is Completion.UNKNOWN
    )


@pytest.mark.parametrize(
    ("text", "language", "backchannel"),
    [
        ("Uh-huh.", "en", True),
        ("Okay.", "en", True),
        ("Right.", "en", True),
        ("嗯。", "zh", True),
        ("对对。", "zh", True),
        ("Okay, stop, I'm not interested.", "en", False),
        ("Wait, who is this?", "en", False),
        ("不用了，谢谢。", "zh", False),
    ],
)
def test_backchannels_are_whole_turns_of_acknowledgement(
    text: str, language: str, backchannel: bool
) -> None:
    assert is_backchannel(text, language) is backchannel
