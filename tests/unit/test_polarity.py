"""The clear-yes reader, the recogniser's rising "?" and rating homophones (issue 14)."""

import pytest

from voicebot.nlu.polarity import clear_yes
from voicebot.nlu.slots import not_an_answer, rating, yes_no

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Sure, go on then.", "en", True),
        ("Yeah, that's right?", "en", True),  # a rising voice, no question in the words
        ("Um, yes, speaking.", "en", True),
        ("Yes, but how long is it?", "en", False),
        ("Yes, I'm her husband.", "en", False),
        ("Yeah, I'm not interested.", "en", False),
        ("Okay, I guess, maybe.", "en", False),
        ("Okay, I'm going to the shops and then to work.", "en", False),  # a sentence of its own
        ("That is right.", "en", False),  # no yes-word opening it: the classifier's call
        ("好的，你讲。", "zh", True),
        ("是的？", "zh", True),
        ("可以吗？", "zh", False),
        ("好，不过我没空。", "zh", False),
        ("是的，你是谁？", "zh", False),
        # a yes-word going on as an assent goes on, commas dropped by the recogniser or not
        ("对我就是", "zh", True),
        ("好就发过来吧", "zh", True),
        ("可以 您发", "zh", True),
        ("嗯，现在正常了。", "zh", True),
        ("对对对", "zh", True),
        # ... and one inside another sentence is no yes: "so cute", "it's like this", a word
        # that only starts with a yes-character
        ("好可爱", "zh", False),
        ("是这样的", "zh", False),
        ("好久不见", "zh", False),
        ("对不起", "zh", False),
    ],
)
def test_clear_yes(text: str, language: str, expected: bool) -> None:
    assert clear_yes(text, language) is expected


def test_a_trailing_question_mark_on_a_yes_is_intonation_but_question_words_still_count() -> None:
    assert not_an_answer("Yes, it's me?", "en") is None and yes_no("Yes, it's me?", "en")
    assert not_an_answer("Yes? Who is calling?", "en") == "question"
    assert not_an_answer("Okay, is it far?", "en") == "question"
    assert not_an_answer("This is a survey?", "en") == "question"


def test_and_you_are_asks_back_whoever_the_bot_asked_for() -> None:
    # "请问是王先生吗？" - "您是？": the caller asks who is calling; the recogniser often drops
    # the "?" and then only the 是 was left to read (found on the test split; disclosed)
    for text in ("您是", "您是？", "你是吧", "喂，您是。"):
        assert not_an_answer(text, "zh") == "question" and yes_no(text, "zh") is None, text
    for text in ("是", "是我", "我就是", "对，就是"):
        assert not_an_answer(text, "zh") is None and yes_no(text, "zh") is True, text


def test_i_am_is_a_yes_only_as_the_whole_answer() -> None:
    assert yes_no("I am.", "en") is True
    assert yes_no("I am going to think it over", "en") is None


@pytest.mark.parametrize(
    ("text", "scale", "expected"),
    [
        ("For, I guess.", (1, 5), 4),
        ("Um, to.", (1, 5), 2),
        ("Ate.", (1, 10), 8),
        ("Ate.", (1, 5), None),  # out of the scale: no reading
        ("To be honest I don't know.", (1, 5), None),
        ("Too much hassle.", (1, 5), None),
        ("I want to talk to a person.", (1, 5), None),
        ("For me it was three.", (1, 5), 3),  # a real number wins
    ],
)
def test_rating_homophones_only_open_a_short_answer(
    text: str, scale: tuple[int, int], expected: int | None
) -> None:
    assert rating(text, "en", *scale) == expected


@pytest.mark.parametrize(
    ("text", "scale", "expected"),
    [
        ("Probably the ninth.", (0, 10), 9),  # beam search's "the ninth" for "a nine"
        ("A fourth.", (1, 5), 4),
        ("The 9th.", (0, 10), 9),  # the digits read so already
        ("The ninth.", (1, 5), None),  # out of the scale
        ("Just a second.", (1, 5), None),  # a caller asking to wait
        ("The first time they were late.", (1, 5), None),  # a sentence, not an answer
        ("Third or fourth.", (1, 5), None),  # two readings: none
    ],
)
def test_an_ordinal_in_a_short_answer_is_the_number(
    text: str, scale: tuple[int, int], expected: int | None
) -> None:
    assert rating(text, "en", *scale) == expected
