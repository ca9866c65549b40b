"""Mandarin words the recogniser heard as other characters of the same sound.

Whisper on a phone line often writes the right syllables with the wrong characters: 号码 as 好吗,
真人吗 as 真人码, 维修 as 为修. A sentence encoder reads characters, so "你们怎么会有这个好吗" is
far from every "how did you get my number" exemplar. `Respeller` knows the words the script
expects (its exemplars and its own lines) and rewrites a run of characters whose toneless
pinyin is one of those words (as jieba segments them), spelled differently, as that word:
matching at the pinyin level.
The classifier reads the respelled text beside the heard text and keeps the surer reading.

Only runs of two to four characters are rewritten, longest first; a character matches when any
of its readings (heteronyms) is the word's syllable, so 行 is both xing and hang, and the
sounds fuzzy-pinyin input methods merge (zh/z, n/l, -ng/-n) count as one.
"""

from __future__ import annotations

import itertools
import re
from functools import lru_cache

_HAN = re.compile(r"[\u4e00-\u9fff]")
MIN_CHARS, MAX_CHARS = 2, 4


def _fuzzy(syllable: str) -> str:
    """The sounds a recogniser (and many southern speakers) mix up count as one, as fuzzy
    pinyin input methods do: zh/z, ch/c, sh/s, n/l, -ng/-n after a, e, i (dev: one more
    Mandarin intent right, no new confusion)."""
    s = re.sub(r"^([zcs])h", r"\1", syllable)
    s = re.sub(r"^n", "l", s)
    return re.sub(r"(i|e|a)ng$", r"\1n", s)


@lru_cache(maxsize=8192)
def _readings(char: str) -> frozenset[str]:
    from pypinyin import Style, pinyin

    return frozenset(_fuzzy(p) for p in pinyin(char, style=Style.NORMAL, heteronym=True)[0])


def _syllables(word: str) -> tuple[str, ...]:
    from pypinyin import Style, lazy_pinyin

    return tuple(_fuzzy(p) for p in lazy_pinyin(word, style=Style.NORMAL))


class Respeller:
    """`respell(text)`: `text` with its same-sounding runs spelled as the known words."""

    def __init__(self, texts: list[str]) -> None:
        import jieba  # its dictionary is built once per machine and cached on disk

        from voicebot.models.registry import quiet_jieba

        quiet_jieba()
        self._words: dict[int, dict[tuple[str, ...], str]] = {}
        for text in texts:
            for word in jieba.lcut(text):
                if MIN_CHARS <= len(word) <= MAX_CHARS and all(_HAN.match(c) for c in word):
                    self._words.setdefault(len(word), {}).setdefault(_syllables(word), word)
        self._known = {w for table in self._words.values() for w in table.values()}

    def respell(self, text: str) -> str:
        out: list[str] = []
        i = 0
        while i < len(text):
            word = self._match(text, i)
            if word is None:
                out.append(text[i])
                i += 1
            else:
                out.append(word)
                i += len(word)
        return "".join(out)

    def _match(self, text: str, start: int) -> str | None:
        for size in range(MAX_CHARS, MIN_CHARS - 1, -1):
            chunk = text[start : start + size]
            if len(chunk) < size or not all(_HAN.match(c) for c in chunk):
                continue
            if chunk in self._known:
                return chunk  # already a known word: keep it as heard
            table = self._words.get(size, {})
            for syllables in itertools.product(*(sorted(_readings(c)) for c in chunk)):
                if syllables in table:
                    return table[syllables]
        return None
