"""Chinese text normalisation for synthesis: digits and symbols written out as the words a
speaker says, so every Mandarin voice reads them the same way.

Money (¥1,280.50 -> 一千二百八十元五角), percentages (百分之十五), dates (2026年12月1日 ->
二零二六年十二月一日; 12/1 -> 十二月一日), times (15:05 -> 十五点零五分), phone numbers digit by
digit with 1 read 幺 (138 1234 5678 -> 幺三八，幺二三四，五六七八), then any other number
(两 before a measure word). Pure: text in, text out."""

from __future__ import annotations

import re
from collections.abc import Callable

DIGITS = "零一二三四五六七八九"
PHONE_DIGITS = "零幺二三四五六七八九"
_GROUP_UNITS = ("", "万", "亿", "万亿")
_MEASURE = "个位次天点种张件台名家条周岁小千万亿元块项份"  # 2 before these reads 两
_WIDE = str.maketrans("０１２３４５６７８９％", "0123456789%")
_TWO = re.compile(r"(?<![十零百])二(?=[千万亿])")  # 2000 -> 两千, 12000 -> 一万两千


def cardinal(n: int) -> str:
    """An integer as spoken: 10 -> 十, 1005 -> 一千零五, 120000000 -> 一亿二千万."""
    if n < 0:
        return "负" + cardinal(-n)
    if n == 0:
        return "零"
    groups = []
    while n:
        groups.append(n % 10000)
        n //= 10000
    out, gap = "", False
    for i in reversed(range(len(groups))):
        group = groups[i]
        if group == 0:
            gap = bool(out)
            continue
        if out and (gap or group < 1000):
            out += "零"
        out += _section(group) + _GROUP_UNITS[i]
        gap = False
    return _TWO.sub("两", out[1:] if out.startswith("一十") else out)


def _section(n: int) -> str:
    out, zero = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // value % 10
        if digit == 0:
            zero = zero or bool(out)
            continue
        out += ("零" if zero else "") + DIGITS[digit] + unit
        zero = False
    return out


def digits(text: str, one: str = "一") -> str:
    """Digit by digit: 2026 -> 二零二六; `one="幺"` for phone numbers."""
    table = PHONE_DIGITS if one == "幺" else DIGITS
    return "".join(table[int(c)] if c.isdigit() else c for c in text)


def number(text: str) -> str:
    """A written number: integer (cardinal), decimal (三点一四), leading zero (digit by digit)."""
    whole, _, fraction = text.partition(".")
    if (len(whole) > 1 and whole.startswith("0")) or len(whole) > 16:
        spoken = digits(whole)
    else:
        spoken = cardinal(int(whole))
    return spoken + ("点" + digits(fraction) if fraction else "")


def money(amount: str) -> str:
    """Yuan with jiao and fen: 1280.50 -> 一千二百八十元五角, 0.05 -> 五分."""
    whole, _, fraction = amount.partition(".")
    jiao, fen = (int(c) for c in (fraction + "00")[:2])
    yuan = "两" if int(whole) == 2 else cardinal(int(whole))
    out = yuan + "元" if int(whole) or not (jiao or fen) else ""
    if jiao:
        out += DIGITS[jiao] + "角"
    elif fen and out:
        out += "零"
    return out + (DIGITS[fen] + "分" if fen else "")


def _minutes(text: str) -> str:
    return "零" + DIGITS[int(text)] if len(text) == 2 and text.startswith("0") else number(text)


def _hour(text: str) -> str:
    return "两" if int(text) == 2 else number(text)


def _clock(m: re.Match[str]) -> str:
    hour, minute, second = m.group(1), m.group(2), m.group(3)
    out = _hour(hour) + "点"
    if int(minute) or second:
        out += _minutes(minute) + "分"
    return out + (_minutes(second) + "秒" if second else "")


def _date(m: re.Match[str]) -> str:
    year, month, day, suffix = m.group(1), m.group(2), m.group(3), m.group(4) or "日"
    return f"{digits(year)}年{cardinal(int(month))}月{cardinal(int(day))}{suffix}"


def _month_day(m: re.Match[str]) -> str:
    month, day = int(m.group(1)), int(m.group(2))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return m.group(0)
    return f"{cardinal(month)}月{cardinal(day)}日"


def _phone(m: re.Match[str]) -> str:
    return _phone_digits(m.group(0))


def _phone_digits(text: str) -> str:
    prefix = "加" if text.startswith("+") else ""
    groups = [g for g in re.split(r"[\s\-]+", text.lstrip("+")) if g]
    if len(groups) == 1 and len(groups[0]) == 11 and groups[0].startswith("1"):
        mobile = groups[0]
        groups = [mobile[:3], mobile[3:7], mobile[7:]]
    return prefix + "，".join(digits(g, one="幺") for g in groups)


def _plain(m: re.Match[str]) -> str:
    text, before, after = m.group(0), m.string[: m.start()], m.string[m.end() :]
    if text == "2" and after[:1] and after[0] in _MEASURE and not before.endswith("第"):
        return "两"
    return number(text)


_RULES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"(?:[¥￥]|RMB\s?|人民币)\s?(\d+(?:\.\d+)?)元?"), lambda m: money(m.group(1))),
    (re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s?元"), lambda m: money(m.group(1))),
    (re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s?%"), lambda m: "百分之" + number(m.group(1))),
    # a number said to be dialled (拨打10086, 热线95588): digit by digit, 1 as 幺
    (
        re.compile(r"(拨打|致电|电话|热线|号码)([是为]?[:：]?\s?)(\d[\d\s\-]{1,}\d)"),
        lambda m: m.group(1) + m.group(2) + _phone_digits(m.group(3)),
    ),
    # phone numbers: a mobile (+86 optional), a landline with its area code, 400/800 lines,
    # or any run of 7 or more digits (an account or order number): digit by digit, 1 as 幺
    (
        re.compile(
            r"(?<![\d.])(?:\+?86[\s\-]?)?1[3-9]\d[\s\-]?\d{4}[\s\-]?\d{4}(?![\d.])"
            r"|(?<![\d.])0\d{2,3}-\d{7,8}(?![\d.])"
            r"|(?<![\d.])[48]00[\s\-]?\d{3}[\s\-]?\d{4}(?![\d.])"
            r"|(?<![\d.])\d{7,}(?![\d.])"
        ),
        _phone,
    ),
    (re.compile(r"(?<!\d)(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})([日号])?(?!\d)"), _date),
    (re.compile(r"(?<!\d)(\d{4})(?=年)"), lambda m: digits(m.group(1))),
    (re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})(?![\d/])"), _month_day),
    (re.compile(r"(?<!\d)(\d{1,2})[:：](\d{2})(?::(\d{2}))?(?!\d)"), _clock),
    (
        re.compile(r"(?<!\d)(\d{1,2})点(\d{1,2})(分?)(?!\d)"),
        lambda m: _hour(m.group(1)) + "点" + _minutes(m.group(2)) + "分",
    ),
    (re.compile(r"(?<=\d)\s?[~～\-]\s?(?=\d)"), lambda m: "到"),
    (re.compile(r"(?<![\d.])-(?=\d)"), lambda m: "负"),
    (re.compile(r"\d+(?:\.\d+)?"), _plain),
]
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")


def normalize(text: str) -> str:
    """A zh line with every number written out as spoken, ready for any Mandarin voice."""
    text = _THOUSANDS.sub("", text.translate(_WIDE))
    for pattern, spoken in _RULES:
        text = pattern.sub(spoken, text)
    return text
