"""A principled reading of a clear yes: the turn opens with a yes-word ("Sure, ...", "Yeah, ...",
"好，...", "嗯，是..."), is short, and holds nothing that turns it: no negation, no question,
no doubt, no "but", nobody else speaking for the person asked for. The classifier takes it as
evidence for `affirm` (a likelihood ratio on its odds), never as a verdict: a classifier sure of
something else ("Yeah, call me back tomorrow") still wins."""

from __future__ import annotations

import re

from voicebot.nlu import slots

_EN_OPENERS = frozenset(
    {
        "yes",
        "yeah",
        "yep",
        "yup",
        "yea",
        "sure",
        "okay",
        "ok",
        "alright",
        "absolutely",
        "definitely",
        "certainly",
        "correct",
        "speaking",
    }
)
_EN_FILLERS = frozenset({"oh", "um", "uh", "er", "erm", "hmm", "well", "hello", "hi", "ah"})
_EN_TURN = re.compile(
    r"\b(but|though|although|except|unless|if|only if|wait|hang on|hold on|however)\b"
)
_ZH_FILLERS = "哦噢喂啊"  # before a yes; 嗯 is a filler and a yes of its own
_ZH_OPENER = re.compile(rf"^(?:[嗯{_ZH_FILLERS}]\W*)*(?:是|对|好|行|可以|没错|嗯|当然)")
# A yes followed by a sentence of its own ("Okay, I'm going to go to the clinic") is read by the
# classifier alone: the longer the rest, the more it says besides the yes.
MAX_REST_WORDS = 4
_ZH_TURN = re.compile(r"但是|不过|可是|就是说|除非|如果|等一下|等等")
# A Mandarin yes-word is an answer when it stands alone or goes on with what follows an assent:
# a particle (好的, 是啊), another yes (对对对), the speaker or the listener (是我, 好，你说),
# or the next step (好就发过来吧, 可以您发, 行那我升级一下; the recogniser often drops the comma).
# Followed by anything else it is a word inside another sentence: 好 before an adjective is
# "so" (好可爱, 好冷), 是 before a noun is "it is" (是这样的, 是鸿是鸿的).
_ZH_YES_WORDS = frozenset(
    ["是", "对", "好", "行", "可以", "没错", "嗯", "嗯嗯", "当然", "好好", "是的", "对的", "好的"]
)
_ZH_AFTER_YES = re.compile(
    r"^(?:[的得地啊呀吧嘞哈呢了哦噢嗯喔啦]|是|对|好|行|可以|没错|没问题|当然|我|你|您|咱|他|她|这就|"
    r"就|那|请|麻烦|说|讲|问|发|来|给|先|马上|现在|知道|明白|同意|需要|办|本人)"
)


def clear_yes(text: str, language: str) -> bool:
    """The turn opens with a yes and nothing in it says otherwise."""
    if language == "zh":
        t = text.strip()
        if not _ZH_OPENER.match(t) or _ZH_TURN.search(t) or not _zh_assent(t):
            return False
        if len(re.sub(r"\W", "", t)) > 2 * MAX_REST_WORDS + 2:
            return False
    else:
        words = re.findall(r"[a-z']+", text.lower())
        while words and words[0] in _EN_FILLERS:
            words = words[1:]
        if not words or words[0] not in _EN_OPENERS or _EN_TURN.search(text.lower()):
            return False
        if len(words) > 1 + MAX_REST_WORDS:
            return False
    return slots.not_an_answer(text, language) is None and slots.yes_no(text, language) is True


def _zh_assent(text: str) -> bool:
    """The turn's first word (jieba's, after fillers) is a yes-word on its own, not the start of
    another word (好久, 好像, 对面, 对不起), and what follows it goes on from an assent."""
    import jieba

    from voicebot.models.registry import quiet_jieba

    quiet_jieba()
    words = jieba.lcut(re.sub(r"\s+", "，", text.strip()))
    while words and (re.fullmatch(r"\W+", words[0]) or all(c in _ZH_FILLERS for c in words[0])):
        words = words[1:]
    if not words or words[0] not in _ZH_YES_WORDS:
        return False
    rest = "".join(words[1:])
    return not rest or bool(re.match(r"\W", rest)) or bool(_ZH_AFTER_YES.match(rest))
