"""The answers a closed question expects (yes/no, a rating on a scale), as texts the recogniser
can rescore the caller's audio against when its first reading parses as nothing."""

from __future__ import annotations

from dataclasses import dataclass

from voicebot.nlu import slots

_EN_NUMBERS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
_ZH_NUMBERS = "一两三四五六七八九十"
_MAX_SPEECH_S = {"yes_no": 1.2, "rating": 2.0}


@dataclass(frozen=True, slots=True)
class AnswerGrammar:
    """A closed question's expected answers in one language."""

    slot: str  # yes_no | rating
    language: str
    scale: tuple[int, int]
    candidates: tuple[str, ...]

    @property
    def max_speech_s(self) -> float:
        """Longer turns are sentences, not short answers: they are never forced into one."""
        return _MAX_SPEECH_S[self.slot]

    def parses(self, text: str) -> bool:
        """The text already is an answer, or plainly is not one (a doubt, a question back)."""
        if self.slot == "rating":  # a number out of range is an answer too (reprompt it)
            return bool(slots.numbers(text, self.language)) or (
                slots.rating(text, self.language, *self.scale) is not None
            )
        return (
            slots.yes_no(text, self.language) is not None
            or slots.not_an_answer(text, self.language) is not None
        )

    def agrees(self, reading: str, candidate: str) -> bool:
        """A rating `reading` holds the same number as `candidate`. Only ratings: a yes read
        twice from unsure audio may still be "是她妈妈" (a false yes costs more than a reprompt)."""
        if self.slot != "rating" or not reading:
            return False
        value = slots.rating(reading, self.language, *self.scale)
        return value is not None and value == slots.rating(candidate, self.language, *self.scale)


def answer_grammar(slot: str, scale: tuple[int, int], language: str) -> AnswerGrammar | None:
    """The grammar of a node's ask, or None for open questions (times, free text)."""
    words: tuple[str, ...]
    if slot == "yes_no":
        words = (
            ("是的。", "对。", "好的。", "不是。", "不用。")
            if language == "zh"
            else ("Yes.", "No.")
        )
        return AnswerGrammar(slot, language, scale, words)
    if slot == "rating" and 1 <= scale[0] <= scale[1] <= 10:
        values = range(scale[0], scale[1] + 1)
        if language == "zh":
            words = tuple(f"{_ZH_NUMBERS[n - 1]}分。" for n in values)
        else:
            words = tuple(f"{_EN_NUMBERS[n - 1].capitalize()}." for n in values)
        return AnswerGrammar(slot, language, scale, words)
    return None
