"""When caller speech over the bot cuts the line.

The line goes quiet at the speech's onset (the session pauses it) while the speech is judged.
Speech that goes on for `hold_s` cuts the line (a caller taking the turn). Shorter speech waits
for its words: a backchannel ("uh-huh", "okay", "right", 嗯, 对) means the caller is listening,
and the line goes on from where it paused; so does speech without words (a cough); anything
else cuts as soon as its words are known. Pure: the call session feeds it the onset, the clock
and the words."""

from __future__ import annotations

from dataclasses import dataclass

from voicebot.vad.completion import is_backchannel


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

    def heard(self, text: str, speech_start: float) -> bool | None:
        """The words of a short turn that began over the bot: True cuts, False is a
        backchannel, None when this turn was not one waiting for its words."""
        if self.onset is None or abs(speech_start - self.onset) > 1e-6:
            return None
        self.onset = None
        return bool(text.strip()) and not is_backchannel(text, self.language)

    def clear(self) -> None:
        """The speech was noise, or the line ended: nothing is waiting."""
        self.onset = None
