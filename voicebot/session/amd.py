"""Answering-machine detection from the first moments after answer: greeting phrases, a long
uninterrupted greeting (people say "hello?" and wait; machines talk), and the beep.

Pure: the call session feeds it frames and heard turns, and asks it for a verdict."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

_MACHINE = re.compile(
    r"leave (a|your) message|after the (tone|beep)|not available|can't take your call|"
    r"reached the voicemail|you'?ve reached|you have reached|voice ?mail|"
    r"留言|提示音|无法接听|不在服务区|语音信箱",
    re.IGNORECASE,
)


# a call-screening assistant (Google Call Screen, iOS screening, carriers' 来电助理): it asks
# who is calling and why, and then puts the person on, so it is neither voicemail nor the person
_SCREENING = re.compile(
    r"screening service|call screen|screening (your|this) call|"
    r"(say|state|record) your name|your name and (why|the reason|reason)|"
    r"reason for (your|the) call|reason for calling|why you're calling|why you are calling|"
    r"see if (this|the) person is available|stay on the line|"
    r"来电助理|来电筛选|通话筛选|(说出|报一下|留下)(您的)?(姓名|名字)|来电(目的|事由|原因)|说明来意|"
    r"(姓名|名字).{0,6}(目的|事由|原因)|"
    r"请问您是哪位.{0,8}(什么事|事由)|请不要挂机",
    re.IGNORECASE,
)


def is_machine(first_words: str, speech_s: float, long_greeting_s: float = 4.0) -> bool:
    return bool(_MACHINE.search(first_words)) or speech_s >= long_greeting_s


def is_screening(words: str) -> bool:
    """The words of a call-screening assistant's prompt (English or Mandarin)."""
    return bool(_SCREENING.search(words))


def tone_hz(pcm: np.ndarray, rate: int, min_rms: float = 300.0) -> float | None:
    """The frequency of a steady pure tone filling this frame, or None (speech, noise, quiet)."""
    x = pcm.astype(np.float64)
    if len(x) < 64 or np.sqrt(np.mean(x * x)) < min_rms:
        return None
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)), n=1024)) ** 2
    peak = int(np.argmax(spectrum))
    lobe = int(100.0 / (rate / 1024))  # a 20 ms Hann window smears a tone over about ±100 Hz
    share = spectrum[max(0, peak - lobe) : peak + lobe + 1].sum() / spectrum.sum()
    hz = peak * rate / 1024
    return hz if share >= 0.95 and 400.0 <= hz <= 2500.0 else None  # voices glide; beeps don't


@dataclass
class BeepDetector:
    """A voicemail beep: one steady tone for at least `min_s`. `push` returns the time the beep
    ended, once, on the first frame after it."""

    rate: int = 8000
    min_s: float = 0.12
    max_s: float = 2.0  # a longer tone is a ringback or a fax, not a beep
    _start: float | None = None
    _hz: float = 0.0
    _last: float = 0.0

    def push(self, pcm: np.ndarray, t: float) -> float | None:
        hz = tone_hz(pcm, self.rate)
        steady = hz is not None and (self._start is None or abs(hz - self._hz) <= 16.0)
        if steady:
            if self._start is None:
                self._start, self._hz = t, hz or 0.0
            self._last = t + len(pcm) / self.rate
            return None
        start, self._start = self._start, None
        if start is not None and self.min_s <= self._last - start <= self.max_s:
            return self._last
        return None


@dataclass
class AnsweringMachineDetector:
    """Collects the callee's first words, how long they talked, and any beep."""

    rate: int = 8000
    long_greeting_s: float = 4.0
    heard: list[str] = field(default_factory=list)
    spoke_s: float = 0.0
    beep_at: float | None = None
    beeps: BeepDetector = field(init=False)

    def __post_init__(self) -> None:
        self.beeps = BeepDetector(self.rate)

    def frame(self, pcm: np.ndarray, t: float) -> None:
        if (ended := self.beeps.push(pcm, t)) is not None:
            self.beep_at = ended

    def turn(self, text: str, seconds: float) -> None:
        if text:
            self.heard.append(text)
        self.spoke_s += seconds

    def machine(self, talking_s: float = 0.0) -> bool:
        """A machine answered: its phrases, a long greeting, or a beep. Never a screening
        assistant; a greeting still being spoken counts as long only at twice the length, so
        that a screener's long first sentence is heard (and recognised) first."""
        words = " ".join(self.heard)
        if is_screening(words):
            return False
        if self.beep_at is not None or is_machine(words, self.spoke_s, self.long_greeting_s):
            return True
        return talking_s > 0 and self.spoke_s + talking_s >= 2 * self.long_greeting_s

    def screening(self) -> bool:
        """A call-screening assistant answered: it asks for the caller's name and reason."""
        return is_screening(" ".join(self.heard))

    def reason(self, talking_s: float = 0.0) -> str:
        if self.beep_at is not None:
            return f"beep at {self.beep_at:.2f}s"
        if _MACHINE.search(" ".join(self.heard)):
            return "greeting phrase"
        return f"{self.spoke_s + talking_s:.1f}s of greeting"
