"""Where a line is cut into speakable chunks (pure text logic)."""

import pytest

from voicebot.tts.voices import split_sentences

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("line", "chunks"),
    [
        ("Thanks. Goodbye!", ["Thanks. Goodbye!"]),
        (
            "On a scale of one to five, how satisfied were you?",
            ["On a scale of one to five,", "how satisfied were you?"],
        ),
        (
            "I will ask a colleague to call you back tomorrow.",
            ["I will ask a colleague", "to call you back tomorrow."],
        ),
        (
            "Could you please confirm your date of birth for me?",
            ["Could you please confirm your date of birth for me?"],
        ),
        (
            "Hello there. I will ask a colleague to call you back tomorrow.",
            ["Hello there.", "I will ask a colleague to call you back tomorrow."],
        ),
        (
            "您好，我是中国移动的客服。请问是机主本人吗？",
            ["您好，我是中国移动的客服。", "请问是机主本人吗？"],
        ),
    ],
)
def test_lines_split_at_clauses_and_a_long_first_phrase(line: str, chunks: list[str]) -> None:
    assert split_sentences(line) == chunks
