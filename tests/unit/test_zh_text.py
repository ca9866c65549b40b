"""The Mandarin text normaliser writes numbers out as a speaker says them."""

from __future__ import annotations

import pytest

from voicebot.tts.zh_text import cardinal, normalize

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("n", "spoken"),
    [
        (0, "零"),
        (10, "十"),
        (15, "十五"),
        (110, "一百一十"),
        (1005, "一千零五"),
        (1010, "一千零一十"),
        (1280, "一千二百八十"),
        (2000, "两千"),
        (10005, "一万零五"),
        (12000, "一万两千"),
        (110000, "十一万"),
        (120000000, "一亿两千万"),
        (100010000, "一亿零一万"),
    ],
)
def test_integers_are_read_as_cardinals(n: int, spoken: str) -> None:
    assert cardinal(n) == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("¥1,280.50", "一千二百八十元五角"),
        ("1280元", "一千二百八十元"),
        ("￥12.05元", "十二元零五分"),
        ("0.05元", "五分"),
        ("每期¥399", "每期三百九十九元"),
        ("1.5万元", "一点五万元"),
    ],
)
def test_money_is_read_in_yuan_jiao_and_fen(text: str, spoken: str) -> None:
    assert normalize(text) == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("2026年12月1日", "二零二六年十二月一日"),
        ("2026-12-01", "二零二六年十二月一日"),
        ("12/1", "十二月一日"),
        ("2月2号", "二月二号"),
        ("下午3点30分", "下午三点三十分"),
        ("下午2点", "下午两点"),
        ("9点05分", "九点零五分"),
        ("15:05", "十五点零五分"),
        ("3:00", "三点"),
        ("3点半", "三点半"),
    ],
)
def test_dates_and_times_are_read_as_spoken(text: str, spoken: str) -> None:
    assert normalize(text) == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("请拨打13812345678", "请拨打幺三八，幺二三四，五六七八"),
        ("+86 138 1234 5678", "加八六，幺三八，幺二三四，五六七八"),
        ("400-800-1234", "四零零，八零零，幺二三四"),
        ("010-12345678", "零幺零，幺二三四五六七八"),
        ("客服热线95588", "客服热线九五五八八"),
        ("拨打10086", "拨打幺零零八六"),
    ],
)
def test_phone_numbers_are_read_digit_by_digit_with_one_as_yao(text: str, spoken: str) -> None:
    assert normalize(text) == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("增长了15%", "增长了百分之十五"),
        ("3.5％的利率", "百分之三点五的利率"),
        ("3-5个工作日", "三到五个工作日"),
        ("2个问题", "两个问题"),
        ("第2个", "第二个"),
        ("１２3", "一百二十三"),
        ("3.14", "三点一四"),
        ("只有三个问题，很快的。", "只有三个问题，很快的。"),
    ],
)
def test_percentages_ranges_and_plain_numbers(text: str, spoken: str) -> None:
    assert normalize(text) == spoken


def test_no_digit_survives_a_line_full_of_numbers() -> None:
    line = "您于2026年11月24日办理的套餐，月费¥129.90，流量20GB的85%已用，详询10086或400-820-1234。"
    assert not any(c.isdigit() for c in normalize(line))
