"""Slot parsers for English and Mandarin: yes/no, numbers, ratings, dates and times.

Pure functions. Relative expressions ("tomorrow at 3 pm", "明天下午三点") resolve against a
reference time the caller passes in; nothing here reads the clock.
"""

from __future__ import annotations

import itertools
import re
from datetime import datetime, timedelta

import cn2an

_EN_NUMBERS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
}
_EN_YES = re.compile(
    r"\b(yes|yeah|yep|yup|yea|uh huh|mhm|sure|correct|right|okay|ok|alright|all right|fine|"
    r"of course|absolutely|definitely|certainly|that's me|it's me|this is (?:she|he|him|her)|"
    r"speaking|affirmative|please do|go ahead|confirm)\b"
    # "I am." / "I do." / "I will." answer the question; "I am going to ..." is a sentence
    r"|\bi (?:do|am|will)\b(?=\W*(?:$|[.,!;]))"
)
_EN_NO = re.compile(
    r"\b(no|nope|nah|not|never|don't|do not|negative|wrong|cancel|can't|won't|isn't|"
    r"unfortunately)\b"
)
_ZH_UNSURE = re.compile(
    r"说不好|不好说|说不准|说不上|不清楚|不知道|不确定|不一定|看情况|(?<!不)考虑|想一想|想想|商量|再说|"
    r"还没想好|没想好|看看再|时好时坏"
)
_EN_UNSURE = re.compile(
    r"\b(not sure|don't know|do not know|maybe|perhaps|possibly|no idea|not certain|"
    r"have to see|have to check|let me check|let me think|depends|might)\b"
)
# A question back ("okay, and where is the clinic?") is not an answer, whatever words it holds.
_EN_QUESTION = re.compile(
    r"\?|\b(what|where|when|who|whom|whose|why|how|which)\b|^(?:\W*(?:yes|okay|ok|right|sure|"
    r"well|so|and|but)\W+)*(is|are|do|does|did|will|would|can|could|should|shall)\s+\w+"
)
_ZH_QUESTION = re.compile(
    r"[?？]|什么|怎么|为什么|哪|谁|啥|多少|几[个点天分]|吗|是不是|能不能|会不会|要不要"
    # "您是？" (and you are?) asks the bot back, with or without the "?" the recogniser drops
    r"|(?:^|[，,。.\s])[你您]是[吧呀啊]?[。.…\s]*$"
)
# A "?" the recogniser hears in a rising "Yes, this is she?" or "是的？" is intonation, not a
# question back: a clause that opens with a yes-word keeps only its words' reading (question
# words, inversions, 吗 still make it a question).
_EN_YES_CLAUSE = re.compile(
    r"(^|[.!?]\s*)((?:yes|yeah|yep|yup|yea|sure|okay|ok|alright|right|correct|speaking)\b[^.!?]*)\?"
)
_ZH_YES_CLAUSE = re.compile(
    r"(^|[。！？.!?，,]\s*)((?:是|对|好|嗯|行|可以|没错)[^。！？.!?]*)[?？]"
)


def _intonation(text: str, language: str) -> str:
    """The text with the question marks of yes-clauses turned into full stops."""
    pattern = _ZH_YES_CLAUSE if language == "zh" else _EN_YES_CLAUSE
    previous = None
    while previous != text:
        previous, text = text, pattern.sub(lambda m: m.group(1) + m.group(2) + ".", text)
    return text


# Someone else on the line ("I'm her mother", "我是她妈妈"): not the person asked for.
_EN_THIRD_PARTY = re.compile(
    r"\b(i'm|i am|this is|it's) (?:just )?(?:her|his|their) \w+"
    r"|\b(?:she|he)'s not (?:here|home|in)\b|\b(?:she|he) (?:isn't|is not) (?:here|home|in)\b"
    r"|\bnot (?:home|here|in) right now\b"
)
_ZH_THIRD_PARTY = re.compile(r"我是(?:他|她)的?\w{0,3}|(?:他|她)不在|(?:他|她)出去|帮(?:他|她)接")
_ZH_DOUBT = re.compile(r"骗|诈骗|不信|不相信|真的假的|假的")
_ZH_NO = re.compile(
    r"不是|不对|没有|不用|不要|不行|不需要|不可以|算了|否|别|不了|没空|不方便|没必要|不太方便"
)
_ZH_YES = re.compile(r"是|对|好|可以|行|嗯|没错|确认|需要|要的|同意|本人")
_CN_DIGITS = "零〇一二两三四五六七八九十百千万"
_WEEKDAYS_EN = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_WEEKDAYS_ZH = "一二三四五六日天"


def yes_no(text: str, language: str) -> bool | None:
    """True for yes, False for no, None when the answer is neither, both, unsure, a question
    back, or someone else speaking for the person asked for."""
    why = not_an_answer(text, language)
    if why == "third_party":  # "No, I'm his neighbour": a no; "I'm her mother": not a yes
        said_no = _ZH_NO.search(text) if language == "zh" else _EN_NO.search(text.lower())
        return False if said_no else None
    if why:
        return None
    if language == "zh":
        no = bool(_ZH_NO.search(text))
        yes = bool(_ZH_YES.search(_ZH_NO.sub("", text)))
    else:
        t = text.lower()
        no, yes = bool(_EN_NO.search(t)), bool(_EN_YES.search(t))
    if no == yes:
        return None
    return yes


_EN_PLAIN_YES = frozenset(
    {
        "yes",
        "yeah",
        "yep",
        "yup",
        "yea",
        "sure",
        "correct",
        "right",
        "okay",
        "ok",
        "alright",
        "absolutely",
        "definitely",
        "certainly",
        "speaking",
        "affirmative",
        "uh",
        "huh",
        "mhm",
    }
)
_EN_YES_FILLER = frozenset(
    {
        "of",
        "course",
        "go",
        "ahead",
        "on",
        "away",
        "fire",
        "ask",
        "shoot",
        "that's",
        "it's",
        "this",
        "is",
        "she",
        "he",
        "me",
        "that",
        "would",
        "be",
        "i",
        "am",
        "will",
        "do",
        "please",
        "thanks",
        "thank",
        "you",
        "hello",
        "hi",
        "um",
        "uh",
        "well",
        "fine",
        "all",
        "good",
        "great",
        "sounds",
        "quickly",
        "then",
        "now",
    }
)
_ZH_PLAIN_YES = re.compile(
    r"^(?:嗯|对|是|好|行|可以|没错|没问题|确认|同意|本人|我|就|你|您|说|讲|请|问|吧|的|啊|呀|嘛|呢|了)+$"
)


def plain_yes(text: str, language: str) -> bool:
    """The whole turn is a yes ("Yes, speaking.", "Sure, go ahead.", "嗯，是我本人。"), not a
    sentence that happens to hold a yes-word (a mishearing, a question, a condition)."""
    if language == "zh":
        t = re.sub(r"\W", "", text)
        return bool(t) and bool(_ZH_PLAIN_YES.match(t)) and yes_no(text, language) is True
    words = re.findall(r"[a-z']+", text.lower())
    return (
        bool(words)
        and any(w in _EN_PLAIN_YES for w in words)
        and all(w in _EN_PLAIN_YES or w in _EN_YES_FILLER for w in words)
        and yes_no(text, language) is True
    )


def not_an_answer(text: str, language: str) -> str | None:
    """Why a turn cannot be a yes however many yes-words it holds: "doubt", "question" or
    "third_party"; None when it may be an answer."""
    checks: tuple[tuple[str, re.Pattern[str]], ...]
    if language == "zh":
        checks = (
            ("doubt", _ZH_UNSURE),
            ("doubt", _ZH_DOUBT),
            ("question", _ZH_QUESTION),
            ("third_party", _ZH_THIRD_PARTY),
        )
        t = _intonation(text.strip(), language)
    else:
        checks = (
            ("doubt", _EN_UNSURE),
            ("question", _EN_QUESTION),
            ("third_party", _EN_THIRD_PARTY),
        )
        t = _intonation(text.lower().strip(), language)
    for why, pattern in checks:
        if pattern.search(t):
            return why
    return None


def numbers(text: str, language: str) -> list[float]:
    """Every number in the text, in order ("four", "4", "twenty five", "三", "二十五")."""
    if language == "zh":
        text = _zh_to_arabic(text)
        return [float(x) for x in re.findall(r"\d+(?:\.\d+)?", text)]
    out: list[float] = []
    pending: float | None = None
    for tok in re.findall(r"\d+(?:\.\d+)?|[a-z]+", text.lower().replace("-", " ")):
        if re.fullmatch(r"\d+(?:\.\d+)?", tok):
            value: float | None = float(tok)
        else:
            value = float(_EN_NUMBERS[tok]) if tok in _EN_NUMBERS else None
        if value is None:
            if pending is not None:
                out.append(pending)
                pending = None
            continue
        if pending is not None and pending >= 20 and pending % 10 == 0 and value < 10:
            pending += value  # "twenty five"
        elif pending is not None and value == 100:
            pending *= 100
        else:
            if pending is not None:
                out.append(pending)
            pending = value
    if pending is not None:
        out.append(pending)
    return out


# Rating words on a five-point scale, most specific first (非常不满意 holds 满意).
_ZH_RATING_WORDS = (
    (1, r"非常不满意|很不满意|特别不满意|极不满意|非常差"),
    (5, r"非常满意|很满意|特别满意|满分|非常好|十分满意"),
    (2, r"不太满意|不满意|不怎么样|比较差|很差"),
    (4, r"比较满意|挺满意|还算满意|满意|不错|挺好|比较好"),
    (3, r"一般|还行|还可以|凑合|马马虎虎|中等|普通"),
)
_EN_RATING_WORDS = (
    (5, r"\b(perfect|full marks|top marks|excellent|outstanding|brilliant)\b"),
    (1, r"\b(terrible|awful|appalling|dreadful)\b"),
)
# Words that hold a numeral but are no number ("一般" is not 1, "一下" is not 1).
_ZH_NOT_NUMBERS = re.compile(
    r"一般|一下|一点|一样|一直|一定|一会|一些|万一|一起|一切|一次"
    # a number that counts something else is no score: 再说一遍, 打了三次, 等两天, 两分钟,
    # 五块钱, 三点 (a time), 第二 (an order)
    rf"|第[{_CN_DIGITS}\d]+|[{_CN_DIGITS}\d]+(?=遍|次|回|趟|下|些|天|年|月|周|星期|小时|分钟|秒|岁|块|元|毛|号|点|位|台|张|条|件)"
)


def rating(text: str, language: str, low: int = 1, high: int = 5) -> int | None:
    """A score on a low..high scale: the first number in range ("four out of five" -> 4), else a
    rating word on a five-point scale ("一般" 3, "比较满意" 4, "非常不满意" 1)."""
    if language == "zh":
        plain = _ZH_NOT_NUMBERS.sub("，", text)
        for n in numbers(plain, language):
            if low <= n <= high and n == int(n):
                return int(n)
        if (low, high) == (1, 5) or re.search(r"满分", text):
            for score, pattern in _ZH_RATING_WORDS:
                if re.search(pattern, text):
                    return high if score == 5 else score
        return _pinyin_rating(plain, low, high)
    for n in numbers(text, language):
        if low <= n <= high and n == int(n):
            return int(n)
    for score, pattern in _EN_RATING_WORDS:
        if re.search(pattern, text.lower()) and (score == 5 or (low, high) == (1, 5)):
            return high if score == 5 else score
    return _ordinal_rating(text, low, high) or _homophone_rating(text, low, high)


# A number written as an ordinal in a short answer ("Probably the ninth." for "probably a
# nine"): a beam search prefers the grammatical ordinal where greedy decoding wrote "the nine".
# "9th" already reads as 9 (digits); the words do too, in a turn as short as an answer.
# "second" is left out: "just a second" is a caller asking to wait.
_EN_ORDINALS = {
    "first": 1,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
}


def _ordinal_rating(text: str, low: int, high: int) -> int | None:
    words = re.findall(r"[a-z']+", text.lower())
    if not words or len(words) > 4:
        return None
    found = [_EN_ORDINALS[w] for w in words if w in _EN_ORDINALS]
    return found[0] if len(found) == 1 and low <= found[0] <= high else None


# How the recogniser writes a bare number it heard without context ("For, I think." for
# "Four, I think."). Read as a number only where a rating is asked, the turn is short and the
# word opens it: "I want to ..." or "too expensive for me" are no rating.
_EN_HOMOPHONES = {"for": 4, "fore": 4, "to": 2, "too": 2, "won": 1, "ate": 8}
_EN_OPENING_FILLERS = frozenset({"um", "uh", "er", "erm", "hmm", "oh", "well", "a", "maybe"})


def _homophone_rating(text: str, low: int, high: int) -> int | None:
    words = re.findall(r"[a-z']+", text.lower())
    if not words or len(words) > 5:
        return None
    while len(words) > 1 and words[0] in _EN_OPENING_FILLERS:
        words = words[1:]
    value = _EN_HOMOPHONES.get(words[0])
    if value is None or not low <= value <= high:
        return None
    if len(words) > 1 and words[1] in ("be", "me", "you", "do", "go", "get", "pay", "much", "bad"):
        return None  # "to be honest", "too much", "for me": the word is itself
    return value


_PINYIN_DIGITS = {
    "yi": 1,
    "er": 2,
    "lian": 2,
    "san": 3,
    "si": 4,
    "wu": 5,
    "liu": 6,
    "qi": 7,
    "ba": 8,
    "jiu": 9,
}


def _pinyin_rating(text: str, low: int, high: int) -> int | None:
    """ "X分" matched by sound: the recogniser often writes a score with a homophone or a
    near one ("是分吧" for 四分吧, "家事分" for 打四分). Initials sh/zh/ch fold into s/z/c and
    final -ng into -n, as in southern speech and in whisper's confusions."""
    from pypinyin import lazy_pinyin

    syllables = [_fold(p) for p in lazy_pinyin(re.sub(r"[^\u4e00-\u9fff]", "", text))]
    for before, after in itertools.pairwise(syllables):
        value = _PINYIN_DIGITS.get(before)
        if after == "fen" and value is not None and low <= value <= high:
            return value
    return None


def _fold(syllable: str) -> str:
    s = re.sub(r"^([zcs])h", r"\1", syllable)
    return re.sub(r"ng$", "n", s)


def _zh_to_arabic(text: str) -> str:
    def convert(m: re.Match[str]) -> str:
        try:
            return str(cn2an.cn2an(m.group(0), "smart"))
        except (ValueError, KeyError):
            return m.group(0)

    marks = dict(zip(_WEEKDAYS_ZH, "abcdefgh", strict=True))
    text = re.sub(
        r"(星期|周|礼拜)([一二三四五六日天])", lambda m: m.group(1) + marks[m.group(2)], text
    )
    out = re.sub(f"[{_CN_DIGITS}]+", convert, text)
    back = {v: k for k, v in marks.items()}
    return re.sub(r"(星期|周|礼拜)([a-h])", lambda m: m.group(1) + back[m.group(2)], out)


MAX_AHEAD = timedelta(days=366)  # a callback further out than a year is not a booking


def when(text: str, language: str, now: datetime) -> datetime | None:
    """A future date/time such as "next Tuesday at 3 pm", "in two hours", "明天下午三点";
    None when there is none, or when it lies more than a year ahead ("in 999999999 days")."""
    try:
        at = _when_zh(text, now) if language == "zh" else _when_en(text.lower(), now)
    except (OverflowError, ValueError):
        return None
    return at if at is None or at - now <= MAX_AHEAD else None


def _when_en(t: str, now: datetime) -> datetime | None:
    m = re.search(r"\bin (an?|\w+|\d+) (minute|hour|day|week)s?\b", t)
    if m:
        count = 1.0 if m.group(1) in ("a", "an") else next(iter(numbers(m.group(1), "en")), None)
        if count is not None:
            return now + timedelta(**{m.group(2) + "s": count})
    day: datetime | None = None
    if "day after tomorrow" in t:
        day = now + timedelta(days=2)
    elif "tomorrow" in t:
        day = now + timedelta(days=1)
    elif re.search(r"\b(today|tonight|this (morning|afternoon|evening))\b", t):
        day = now
    elif "next week" in t:
        day = now + timedelta(days=7 - now.weekday())
    for i, name in enumerate(_WEEKDAYS_EN):
        if re.search(rf"\b{name}\b", t):
            ahead = (i - now.weekday()) % 7 or 7
            if re.search(rf"\bnext {name}\b", t) and ahead < 7:
                ahead += 7 if ahead <= 2 else 0
            day = now + timedelta(days=ahead)
    hour, minute = _clock_en(t)
    return _combine(now, day, hour, minute, _part_of_day_en(t))


def _clock_en(t: str) -> tuple[int | None, int]:
    m = re.search(r"\b(\d{1,2})(?::(\d{2}))?\s*(a\.?m\.?|p\.?m\.?)", t) or re.search(
        r"\b(?:at|around|about|after|before) (\d{1,2})(?::(\d{2}))?\b", t
    )
    if m:
        hour, minute = int(m.group(1)), int(m.group(2) or 0)
        suffix = m.group(3) if m.lastindex and m.lastindex >= 3 else None
        if suffix and suffix.startswith("p") and hour < 12:
            hour += 12
        if suffix and suffix.startswith("a") and hour == 12:
            hour = 0
        return hour, minute
    # a spoken hour after the same words as a digit one ("after six", "by nine"), or any
    # hour with "o'clock"
    m = re.search(r"\b(?:at|around|about|after|before|by) (\w+)\b", t) or re.search(
        r"\b(\w+) o'clock\b", t
    )
    if m and m.group(1) in _EN_NUMBERS and 1 <= _EN_NUMBERS[m.group(1)] <= 12:
        return _EN_NUMBERS[m.group(1)], 0
    if "noon" in t or "midday" in t:
        return 12, 0
    return None, 0


def _part_of_day_en(t: str) -> str | None:
    for part in ("morning", "afternoon", "evening", "tonight", "night"):
        if part in t:
            return {"tonight": "evening", "night": "evening"}.get(part, part)
    return None


def _when_zh(text: str, now: datetime) -> datetime | None:
    t = _zh_to_arabic(text)
    m = re.search(r"(\d+|半)个?(小时|分钟|天)(以)?后", t)
    if m:
        count = 0.5 if m.group(1) == "半" else float(m.group(1))
        unit = {"小时": "hours", "分钟": "minutes", "天": "days"}[m.group(2)]
        return now + timedelta(**{unit: count})
    day: datetime | None = None
    for word, offset in (("大后天", 3), ("后天", 2), ("明天", 1), ("今天", 0), ("今晚", 0)):
        if word in t:
            day = now + timedelta(days=offset)
            break
    m = re.search(r"(下+)?(?:个)?(?:星期|周|礼拜)([一二三四五六日天])", t)
    if m:
        target = _WEEKDAYS_ZH.index(m.group(2)) if m.group(2) not in "日天" else 6
        ahead = (target - now.weekday()) % 7
        if m.group(1):
            ahead = 7 - now.weekday() + target + 7 * (len(m.group(1)) - 1)
        day = now + timedelta(days=ahead or 7)
    elif "下周" in t:
        day = now + timedelta(days=7 - now.weekday())
    hour: int | None = None
    minute = 0
    m = re.search(r"(\d{1,2})[点時时:：](半|(\d{1,2})分?)?", t)
    if m:
        hour = int(m.group(1))
        minute = 30 if m.group(2) == "半" else int(m.group(3) or 0)
    part = None
    parts = [("早上", "morning"), ("上午", "morning"), ("中午", "noon"), ("下午", "afternoon")]
    parts += [("晚上", "evening"), ("今晚", "evening")]
    for word, name in parts:
        if word in t:
            part = name
    if part == "noon":
        part, hour = "afternoon", hour if hour is not None else 12
    return _combine(now, day, hour, minute, part)


def _combine(
    now: datetime, day: datetime | None, hour: int | None, minute: int, part: str | None
) -> datetime | None:
    if day is None and hour is None and part is None:
        return None
    if hour is not None and part in ("afternoon", "evening") and hour < 12:
        hour += 12
    if hour is not None and part is None and 1 <= hour <= 7:
        hour += 12  # "at 3" on a call means 3 pm
    if hour is None:
        hour = {"morning": 10, "afternoon": 15, "evening": 19}.get(part or "", 10)
    base = day or now
    result = base.replace(hour=hour % 24, minute=minute, second=0, microsecond=0)
    if day is None and result <= now:
        result += timedelta(days=1)
    return result
