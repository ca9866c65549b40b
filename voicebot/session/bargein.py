"""When caller speech over the bot cuts the line.

The line goes quiet at the speech's onset (the session pauses it) while the speech is judged.
Speech that goes on for `hold_s` cuts the line (a caller taking the turn). Shorter speech waits
for its words:
- a stop word ("stop", "wait", "no", "hang on", 停, 等, 不) cuts, however unsure the words;
- a backchannel ("uh-huh", "okay", "right", 嗯, 对) or a filler alone ("uh", "um", 呃) means
  the caller is listening, and the line goes on from where it paused; so does speech without
  words (a cough);
- other words cut when the recogniser is reasonably sure of them (`MIN_CUT_CONFIDENCE`): a
  short sound over the bot misheard as a stray word ("推了" for 对) lets the line go on, and a
  caller who really takes the turn goes on speaking, which the hold cuts.
Pure: the call session feeds it the onset, the clock and the words."""

from __future__ import annotations

import re
from dataclasses import dataclass

from voicebot.vad.completion import is_backchannel, is_filler

# the recogniser's confidence (exp of the mean token log-probability) below which a short
# turn's words are not trusted to cut the line; chosen on the barge-in benchmark's dev voices
# (`python -m benchmarks.barge_in --split dev`), where misheard backchannels scored 0.14-0.27
# and the words of real interruptions 0.4-0.9
MIN_CUT_CONFIDENCE = 0.3
_STOP_EN = re.compile(
    r"\b(stop|wait|no|nope|hold on|hang on|one moment|one second|excuse me|sorry|pardon|"
    r"hello|who|what|quiet|enough)\b",
    re.IGNORECASE,
)
_STOP_ZH = re.compile(r"[停等不别慢喂谁啥]|什么|稍等|打住|够了")


def asks_to_stop(text: str, language: str) -> bool:
    """Words that take the turn on their own, however short: stop, wait, no, who ..."""
    return bool((_STOP_ZH if language.startswith("zh") else _STOP_EN).search(text))


@dataclass
class BargeIn:
    hold_s: float
    language: str
    onset: float | None = None  # caller speech start while the bot talks, not yet judged

    def speech_started(self, t: float) -> bool:
        """Caller speech began over the bot's line; True when it cuts at once (no hold)."""
        if self.hold_s <= 0:
            return True
        self.onset = t
        return False

    def due(self, now: float, speaking: bool) -> bool:
        """The caller has been talking over the bot for `hold_s`: cut now."""
        if self.onset is not None and speaking and now - self.onset >= self.hold_s - 1e-9:
            self.onset = None
            return True
        return False

    def heard(self, text: str, speech_start: float, confidence: float = 1.0) -> bool | None:
        """The words of a short turn that began over the bot: True cuts, False lets the line
        go on (a backchannel, a filler, no words, unsure words), None when this turn was not
        one waiting for its words."""
        if self.onset is None or abs(speech_start - self.onset) > 1e-6:
            return None
        self.onset = None
        if not text.strip() or is_backchannel(text, self.language):
            return False
        if asks_to_stop(text, self.language):
            return True
        if is_filler(text, self.language):
            return False
        return confidence >= MIN_CUT_CONFIDENCE

    def clear(self) -> None:
        """The speech was noise, or the line ended: nothing is waiting."""
        self.onset = None
