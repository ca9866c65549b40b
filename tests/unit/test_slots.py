from datetime import datetime

import pytest

from voicebot.nlu.slots import numbers, rating, when, yes_no

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 24, 10, 0)  # a Tuesday morning


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("yes that's me", "en", True),
        ("no it's not", "en", False),
        ("maybe", "en", None),
        ("是的", "zh", True),
        ("不是", "zh", False),
        ("不需要", "zh", False),
        ("嗯对", "zh", True),
        ("I'm not sure", "en", None),
        ("我说不好", "zh", None),
        ("不知道", "zh", None),
    ],
)
def test_yes_no(text: str, language: str, expected: bool | None) -> None:
    assert yes_no(text, language) is expected


@pytest.mark.parametrize(
    ("text", "language", "scale", "expected"),
    [
        ("I would give it a four", "en", (1, 5), 4),
        ("5 out of 5", "en", (1, 5), 5),
        ("eight", "en", (1, 10), 8),
        ("twelve", "en", (1, 10), None),
        ("给五分", "zh", (1, 5), 5),
        ("三分吧", "zh", (1, 5), 3),
        ("非常满意", "zh", (1, 5), 5),
        ("no idea", "en", (1, 5), None),
        # a number that counts something else is no score
        ("麻烦您再讲一遍好吗", "zh", (1, 5), None),
        ("我都打过来三次了", "zh", (1, 5), None),
        ("过两天再说吧", "zh", (1, 5), None),
        ("给我五分钟", "zh", (1, 5), None),
        ("四点以后再打", "zh", (1, 5), None),
        ("第二个问题是什么", "zh", (1, 5), None),
        ("给个四分吧", "zh", (1, 5), 4),
        ("不太满意，两分。", "zh", (1, 5), 2),
    ],
)
def test_rating(text: str, language: str, scale: tuple[int, int], expected: int | None) -> None:
    assert rating(text, language, *scale) == expected


def test_numbers() -> None:
    assert numbers("twenty five and 3", "en") == [25.0, 3.0]
    assert numbers("二十五个", "zh") == [25.0]


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("next Tuesday at 3 pm", "en", datetime(2026, 12, 1, 15, 0)),
        ("tomorrow morning", "en", datetime(2026, 11, 25, 10, 0)),
        ("call me in two hours", "en", datetime(2026, 11, 24, 12, 0)),
        ("on friday at 4:30 pm", "en", datetime(2026, 11, 27, 16, 30)),
        # a spoken hour takes the same words as a digit one: "after six" is six, not evening
        ("any time after six tonight", "en", datetime(2026, 11, 24, 18, 0)),
        ("by nine tomorrow morning", "en", datetime(2026, 11, 25, 9, 0)),
        ("friday, eleven o'clock", "en", datetime(2026, 11, 27, 11, 0)),
        ("明天下午三点", "zh", datetime(2026, 11, 25, 15, 0)),
        ("下周二上午十点", "zh", datetime(2026, 12, 1, 10, 0)),
        ("周五下午三点半", "zh", datetime(2026, 11, 27, 15, 30)),
        ("两个小时后", "zh", datetime(2026, 11, 24, 12, 0)),
    ],
)
def test_when(text: str, language: str, expected: datetime) -> None:
    assert when(text, language, NOW) == expected


def test_when_without_a_time_is_none() -> None:
    assert when("I like turtles", "en", NOW) is None
    assert when("我不知道", "zh", NOW) is None


def test_a_callback_absurdly_far_ahead_is_no_booking() -> None:
    from datetime import datetime

    from voicebot.nlu.slots import when

    now = datetime(2026, 12, 1, 10, 0)
    assert when("call me in 999999999 days", "en", now) is None
    assert when("call me back in 5000 weeks", "en", now) is None
    assert when("9999999天后再打给我", "zh", now) is None
    assert when("call me in two days", "en", now) == datetime(2026, 12, 3, 10, 0)
