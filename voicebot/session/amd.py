"""Answering-machine detection from the first thing heard after answer: greeting phrases, or a
long uninterrupted greeting (people say "hello?" and wait; machines talk). Beep detection and
per-script voicemail messages come with the SIP transport."""

from __future__ import annotations

import re

_MACHINE = re.compile(
    r"leave (a|your) message|after the (tone|beep)|not available|can't take your call|"
    r"reached the voicemail|voice ?mail|留言|提示音|无法接听|不在服务区|语音信箱",
    re.IGNORECASE,
)


def is_machine(first_words: str, speech_s: float, long_greeting_s: float = 4.0) -> bool:
    return bool(_MACHINE.search(first_words)) or speech_s >= long_greeting_s
