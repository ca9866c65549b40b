"""Answering-machine detection from the first moments after answer: the greeting's words, its
length, and the beep.

On uncertainty the verdict is a person: a person who hears silence and then a hang-up is the
worst outcome, a machine that records the bot's greeting costs little. Evidence for a machine is
a beep, or words only machines say ("leave a message after the tone", 您拨打的电话暂时无法接通);
a weak phrase ("not available") or a long greeting alone is not enough, and words addressed to the
caller ("who's calling?", 哪位) make it a person whatever else was said ("Sorry, he's not
available right now, who's calling?"; "Hello? Hello, who is this, hello?").

Pure: the call session feeds it frames and heard turns, and asks it for a verdict."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

# words only a recording says: no person answering a phone says them
_RECORDING = re.compile(
    r"(after|at) the (tone|beep|signal)|record your message|voice ?mail|mailbox|"
    r"not in service|no longer in service|check the number|cannot be (reached|completed)|"
    r"(person|party|number|subscriber|customer) you('?re| are| were| have) "
    r"(calling|called|dialled|dialed)|"
    r"提示音|语音信箱|无法接通|不在服务区|已关机|您拨打的|您所拨打的|稍后再拨|嘀声|哔声",
    re.IGNORECASE,
)

# what a personal greeting says; a person may say it too, so words to the caller outweigh it
_GREETING = re.compile(
    r"leave (a|your|me a|us a) (brief |short |detailed )?message|"
    r"can'?t (take|answer|get to|come to) (your|the) (call|phone)|"
    r"(unable|not able) to (take|answer|come to) (your|the) (call|phone)|"
    r"you'?ve reached|you have reached|get (right )?back to you|call you (right )?back|"
    r"leave your name|sorry (i|we) missed (your call|you)|try again later|"
    r"留言|无法接听|不方便接听|暂时无法",
    re.IGNORECASE,
)

# a person speaking to the caller: a question back, or an answer for someone else
_PERSON = re.compile(
    r"who'?s (this|calling|speaking|there|that)|who is (this|calling|speaking|it)|"
    r"who (are you|am i speaking)|may i ask who|can i ask who|can i help|how can i help|"
    r"what'?s (this|it) (about|regarding)|what is (this|it) about|what do you want|"
    r"(he|she)'?s not (here|in|home|available)|(he|she) is not (here|in|home|available)|"
    r"take a message|hello\W+hello|"
    r"哪位|谁啊|谁呀|你是谁|您是谁|什么事[啊呀吗？?]|啥事|有事吗|找谁|他不在|她不在",
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


# the same words by sound (toneless pinyin): the recogniser often writes a Mandarin greeting
# with other characters of the same sound (您播打的 for 您拨打的)
_RECORDING_ZH = re.compile(
    r"\b(bo da de|suo bo da|ti shi yin|yu yin xin xiang|wu fa jie tong|bu zai fu wu qu|"
    r"yi guan ji|shao hou zai bo)\b"
)
_GREETING_ZH = re.compile(r"\b(liu yan|wu fa jie ting|bu fang bian jie)\b")


def _sounds(words: str) -> str:
    """Mandarin words as toneless pinyin syllables ("" when there are no Chinese characters)."""
    if not re.search(r"[\u4e00-\u9fff]", words):
        return ""
    from pypinyin import lazy_pinyin

    return " ".join(s for s in lazy_pinyin(words) if re.fullmatch(r"[a-z]+", s))


def _recording(words: str) -> bool:
    return bool(_RECORDING.search(words) or _RECORDING_ZH.search(_sounds(words)))


def _greeting(words: str) -> bool:
    return bool(_GREETING.search(words) or _GREETING_ZH.search(_sounds(words)))


class Verdict(Enum):
    """Who answered, as far as the detector can tell."""

    PERSON = "person"  # words addressed to the caller, or nothing that says machine
    MACHINE = "machine"  # a beep, or words only machines say, or a long monologue
    SCREENER = "screener"  # a call-screening assistant


def is_machine(first_words: str, speech_s: float, long_greeting_s: float = 10.0) -> bool:
    """Whether a greeting with these words, spoken for this long, is a machine's."""
    return judge(first_words, speech_s, False, long_greeting_s) is Verdict.MACHINE


def judge(words: str, speech_s: float, beep: bool, long_greeting_s: float = 10.0) -> Verdict:
    """The decision: a screener first; words only recordings say; words to the caller (a
    person); a beep or a greeting's phrases (a machine); a person when nothing is clear. A long
    greeting counts only when it has many words (a monologue, not "hello? hello?")."""
    if _SCREENING.search(words):
        return Verdict.SCREENER
    if _recording(words):
        return Verdict.MACHINE
    if _PERSON.search(words):
        return Verdict.PERSON
    if beep or _greeting(words):
        return Verdict.MACHINE
    if speech_s >= long_greeting_s and _word_count(words) >= 2 * long_greeting_s:
        return Verdict.MACHINE
    return Verdict.PERSON


def _word_count(text: str) -> int:
    han = len(re.findall(r"[\u4e00-\u9fff]", text))
    return len(re.findall(r"[A-Za-z']+", text)) + han // 2


def is_recording(words: str) -> bool:
    """Words only a recording says ("after the tone", 您拨打的电话): never a person's."""
    return _recording(words)


def addressed_to_caller(words: str) -> bool:
    """Words a person says to the caller ("who's calling?", "hello? hello?", 哪位), and nothing
    only a recording or a screener says: proof of a person, no need to wait for more."""
    return bool(_PERSON.search(words)) and not _recording(words) and not _SCREENING.search(words)


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
    """A voicemail beep: one steady tone for at least `min_s`, then a quiet line (the machine
    records). A steady vowel in a person's speech is followed by more speech, not quiet. `push`
    returns the time the beep ended, once, when the quiet after it is confirmed."""

    rate: int = 8000
    min_s: float = 0.12
    max_s: float = 2.0  # a longer tone is a ringback or a fax, not a beep
    quiet_s: float = 0.16  # the quiet a beep is followed by
    quiet_rms: float = 300.0  # at least; and a quarter of the tone's level (line noise)
    _start: float | None = None
    _hz: float = 0.0
    _last: float = 0.0
    _ended: float | None = None  # a tone ended here; waiting for the quiet after it
    _rms: float = 0.0  # the tone's level

    @property
    def sounding(self) -> bool:
        """A steady tone is sounding now, or has just ended (it may be a beep)."""
        return self._start is not None or self._ended is not None

    def push(self, pcm: np.ndarray, t: float) -> float | None:
        hz = tone_hz(pcm, self.rate)
        steady = hz is not None and (self._start is None or abs(hz - self._hz) <= 16.0)
        x = pcm.astype(np.float64)
        rms = float(np.sqrt(np.mean(x * x))) if len(x) else 0.0
        if steady:
            if self._start is None:
                self._start, self._hz, self._ended, self._rms = t, hz or 0.0, None, rms
            self._last = t + len(pcm) / self.rate
            return None
        start, self._start = self._start, None
        if start is not None:  # this frame holds the tone's last moment: judge the next ones
            if self.min_s <= self._last - start <= self.max_s:
                self._ended = self._last
            return None
        if self._ended is None:
            return None
        if rms >= max(self.quiet_rms, self._rms / 4):
            self._ended = None  # speech right after the tone: a voice, not a beep
            return None
        if t + len(pcm) / self.rate - self._ended >= self.quiet_s:
            ended, self._ended = self._ended, None
            return ended
        return None


@dataclass
class AnsweringMachineDetector:
    """Collects the callee's first words, how long they talked, and any beep."""

    rate: int = 8000
    long_greeting_s: float = 10.0
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

    def verdict(self) -> Verdict:
        """The verdict on the turns heard so far (and any beep)."""
        return judge(
            " ".join(self.heard), self.spoke_s, self.beep_at is not None, self.long_greeting_s
        )

    def machine(self, talking_s: float = 0.0) -> bool:
        """A machine answered: a beep, its phrases, or a long monologue heard in full. Speech
        still going on decides nothing: its words are heard first (a person's long hello, a
        screener's long first sentence), and the bot never greets over it anyway."""
        return self.verdict() is Verdict.MACHINE

    def screening(self) -> bool:
        """A call-screening assistant answered: it asks for the caller's name and reason."""
        return self.verdict() is Verdict.SCREENER

    def reason(self, talking_s: float = 0.0) -> str:
        if self.beep_at is not None:
            return f"beep at {self.beep_at:.2f}s"
        words = " ".join(self.heard)
        if _recording(words) or _greeting(words):
            return "greeting phrase"
        return f"{self.spoke_s + talking_s:.1f}s of greeting"
