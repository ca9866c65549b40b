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
_ZH_OPENER = re.compile(r"^(?:[嗯哦噢喂啊]\W*)*(?:是|对|好|行|可以|没错|嗯|当然)")
# A yes followed by a sentence of its own ("Okay, I'm going to go to the clinic") is read by the
# classifier alone: the longer the rest, the more it says besides the yes.
MAX_REST_WORDS = 4
_ZH_TURN = re.compile(r"但是|不过|可是|就是说|除非|如果|等一下|等等")


def clear_yes(text: str, language: str) -> bool:
    """The turn opens with a yes and nothing in it says otherwise."""
    if language == "zh":
        t = text.strip()
        if not _ZH_OPENER.match(t) or _ZH_TURN.search(t):
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
