"""Lexical turn cues on the speculative transcript: is the caller done, still going, or only
acknowledging the bot? Pure text rules, English and Mandarin.

- incomplete: ends on a filler ("um", "uh", 那个), a word that needs more ("and", "but", "the",
  "my", 还有, 因为; words that also end sentences, like "on" or "you", do not count), a
  number that is still growing ("twenty", "hundred") or being read out (three digits or more
  in a row: "five five five, one two"), or trails off ("...", ",");
- complete: anything else with words;
- a backchannel: the whole turn is "uh-huh", "okay", "right", 嗯, 对 and the like: the caller is
  listening, not taking the turn.
"""

from __future__ import annotations

import enum
import re


class Completion(enum.Enum):
    COMPLETE = "complete"
    INCOMPLETE = "incomplete"
    UNKNOWN = "unknown"  # no words: the hangover stays as configured


_EN_FILLERS = frozenset(["um", "umm", "uh", "uhh", "er", "erm", "hmm", "ah", "eh", "like"])
_EN_OPEN = frozenset(  # words a finished English turn almost never ends on
    [
        "and",
        "but",
        "or",
        "because",
        "cause",
        "if",
        "the",
        "a",
        "an",
        "my",
        "your",
        "our",
        "their",
        "to",
        "of",
        "for",
        "with",
        "at",
        "from",
        "i",
        "i'm",
        "it's",
        "we're",
        "we'll",
        "i'll",
        "i'd",
    ]
)
_EN_GROWING = frozenset(
    [
        "twenty",
        "thirty",
        "forty",
        "fifty",
        "sixty",
        "seventy",
        "eighty",
        "ninety",
        "hundred",
        "thousand",
        "point",
    ]
)
_ZH_OPEN = tuple(
    [
        "那个",
        "这个",
        "就是",
        "然后",
        "还有",
        "和",
        "跟",
        "但是",
        "可是",
        "因为",
        "所以",
        "如果",
        "我",
        "是",
        "的话",
        "呃",
        "额",
        "那",
    ]
)
_EN_BACKCHANNEL = frozenset(
    [
        "uh-huh",
        "uh huh",
        "mm-hmm",
        "mhm",
        "mm hmm",
        "mm",
        "hmm",
        "okay",
        "ok",
        "right",
        "yeah",
        "yep",
        "sure",
        "i see",
        "got it",
        "alright",
        "all right",
        "okay okay",
    ]
)
_ZH_BACKCHANNEL = frozenset(
    [
        "嗯",
        "嗯嗯",
        "对",
        "对对",
        "对对对",
        "好",
        "好的",
        "是",
        "是的",
        "哦",
        "噢",
        "啊",
        "行",
        "明白",
        "嗯对",
    ]
)
_DIGITS = frozenset(
    ["zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
)
_DICTATION = 3  # this many digits in a row at the end: a number being read out, maybe more
_WORD = re.compile(r"[a-z']+(?:-[a-z']+)*|\d+")
_ZH_PUNCT = re.compile(r"[\s，。！？、,.!?…~～]+")


def completion(text: str, language: str) -> Completion:
    """Whether the words so far end a turn."""
    stripped = text.strip()
    if not stripped:
        return Completion.UNKNOWN
    if stripped.endswith(("...", "…", ",", "，", "-", "—")):
        return Completion.INCOMPLETE
    if language.startswith("zh"):
        core = _ZH_PUNCT.sub("", stripped)
        if not core:
            return Completion.UNKNOWN
        return Completion.INCOMPLETE if core.endswith(_ZH_OPEN) else Completion.COMPLETE
    words = _WORD.findall(stripped.lower())
    if not words:
        return Completion.UNKNOWN
    last = words[-1]
    if last in _EN_FILLERS or last in _EN_OPEN or last in _EN_GROWING:
        return Completion.INCOMPLETE
    return Completion.INCOMPLETE if _trailing_digits(words) >= _DICTATION else Completion.COMPLETE


def _trailing_digits(words: list[str]) -> int:
    count = 0
    for word in reversed(words):
        if word.isdigit():
            count += len(word)
        elif word in _DIGITS:
            count += 1
        else:
            break
    return count


def is_backchannel(text: str, language: str) -> bool:
    """The whole turn only acknowledges ("uh-huh", "okay", 嗯, 对): not an interruption."""
    if language.startswith("zh"):
        return _ZH_PUNCT.sub("", text) in _ZH_BACKCHANNEL
    said = " ".join(_WORD.findall(text.lower()))
    return said in _EN_BACKCHANNEL


_ZH_FILLERS = frozenset(["呃", "额", "嗯呃", "那个", "这个", "啊"])


def is_filler(text: str, language: str) -> bool:
    """The whole turn is hesitation ("uh", "um", 呃, 那个): nobody has taken the turn yet."""
    if language.startswith("zh"):
        core = _ZH_PUNCT.sub("", text)
        return bool(core) and core in _ZH_FILLERS
    words = _WORD.findall(text.lower())
    return bool(words) and all(w.strip("-") in _EN_FILLERS for w in words)
