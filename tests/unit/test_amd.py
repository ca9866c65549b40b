"""Answering-machine detection's decision: a person unless the evidence says machine; words to
the caller outweigh a greeting's phrases; only a recording's words outweigh them."""

from __future__ import annotations

import numpy as np
import pytest

from voicebot.session.amd import (
    AnsweringMachineDetector,
    Verdict,
    addressed_to_caller,
    is_recording,
    judge,
)

pytestmark = pytest.mark.unit
RATE = 8000


@pytest.mark.parametrize(
    "words",
    [
        "Hello?",
        "Sorry, he's not available right now, who's calling?",
        "Hello? Hello, who is this, hello?",
        "She's not in right now, can I take a message?",
        "Yeah, hi, what's this about?",
        "Hi, um, hello, sorry, I was just in the garden. Hello?",
        "",  # nothing understood: uncertain, so a person
        "not available",  # a weak phrase alone
        "喂？喂？喂，听得到吗？",
        "他现在不在，你是哪位？",
        "你好，请问有什么事吗？",
    ],
)
def test_people_are_people(words: str) -> None:
    assert judge(words, speech_s=4.0, beep=False) is Verdict.PERSON


@pytest.mark.parametrize(
    "words",
    [
        "Hi, you've reached Ann. Please leave a message after the tone.",
        "The person you are calling is not available, please leave a message after the tone.",
        "Hello, this is Peter, I can't take your call right now.",
        "Your call has been forwarded to voicemail.",
        "您好，您拨打的电话暂时无法接通，请稍后再拨。",
        "您好，我现在不方便接听电话，有什么事请留言。",
        "请在提示音后留言",
    ],
)
def test_machines_are_machines(words: str) -> None:
    assert judge(words, speech_s=3.0, beep=False) is Verdict.MACHINE


def test_words_to_the_caller_outweigh_a_greeting_phrase_but_not_a_recording() -> None:
    # a person may say a greeting's words; no person says "after the tone"
    assert judge("You've reached Ann's phone, who is this?", 2.0, False) is Verdict.PERSON
    assert judge("Who is this? Leave a message after the tone.", 3.0, False) is Verdict.MACHINE
    assert is_recording("您拨打的用户不在服务区") and not is_recording("he's not available")


def test_only_words_to_the_caller_prove_a_person_before_the_pause() -> None:
    """They let the bot greet at once; a hello, a name or a recording's words do not."""
    for words in ["Who's calling, please?", "Hello? Hello, who is this?", "喂，你是哪位？"]:
        assert addressed_to_caller(words), words
    for words in [
        "Hello?",
        "Hello, this is Mark.",
        "Who is this? Leave a message after the tone.",  # a recording's words win
        "您好，您拨打的用户暂时无法接听",
        "Please say your name and the reason for your call.",  # a screener
        "",
    ]:
        assert not addressed_to_caller(words), words


def test_a_beep_is_a_machine_unless_someone_asks_who_is_calling() -> None:
    assert judge("Hi, it's Jo. Back soon.", 2.0, beep=True) is Verdict.MACHINE
    assert judge("", 0.0, beep=True) is Verdict.MACHINE
    assert judge("Hello? Who's calling?", 1.5, beep=True) is Verdict.PERSON


def test_a_long_greeting_counts_only_as_a_monologue() -> None:
    hellos = "hello? hello? hello, can you hear me? hello?"
    assert judge(hellos, speech_s=12.0, beep=False) is Verdict.PERSON  # few words
    monologue = " ".join(["we are out on the boat until the end of the month"] * 3)
    assert judge(monologue, speech_s=12.0, beep=False) is Verdict.MACHINE
    assert judge(monologue, speech_s=6.0, beep=False) is Verdict.PERSON  # not long enough


def test_a_screener_is_neither() -> None:
    screener = "Hi, the person you're calling is using a screening service. Say your name."
    assert judge(screener, 4.0, False) is Verdict.SCREENER


def test_the_detector_decides_on_heard_turns_never_on_speech_still_going_on() -> None:
    amd = AnsweringMachineDetector(RATE)
    amd.turn("Hello? Hello, who is this,", 2.5)
    assert not amd.machine(talking_s=8.0) and amd.verdict() is Verdict.PERSON
    amd.turn("hello?", 1.5)  # a 4-second hello
    assert amd.verdict() is Verdict.PERSON and amd.spoke_s == 4.0
    t = np.arange(int(0.4 * RATE)) / RATE
    beep = np.concatenate([(8000 * np.sin(2 * np.pi * 1000 * t)), np.zeros(2400)]).astype(np.int16)
    machine = AnsweringMachineDetector(RATE)
    machine.turn("Hi, it's Jo.", 1.0)
    for i in range(0, len(beep) - 159, 160):
        machine.frame(beep[i : i + 160], i / RATE)
    assert machine.verdict() is Verdict.MACHINE and machine.reason().startswith("beep at")


def test_a_steady_vowel_followed_by_speech_is_no_beep() -> None:
    t = np.arange(int(0.3 * RATE)) / RATE
    vowel = 8000 * np.sin(2 * np.pi * 620 * t)
    speech = np.random.default_rng(0).normal(0, 3000, int(0.5 * RATE))
    for after, beeps in ((speech, False), (np.zeros(int(0.5 * RATE)), True)):
        pcm = np.concatenate([np.zeros(800), vowel, after, np.zeros(800)]).astype(np.int16)
        amd = AnsweringMachineDetector(RATE)
        for i in range(0, len(pcm) - 159, 160):
            amd.frame(pcm[i : i + 160], i / RATE)
        assert (amd.beep_at is not None) is beeps


def test_a_beep_on_a_noisy_line_is_still_a_beep() -> None:
    t = np.arange(int(0.4 * RATE)) / RATE
    noise = np.random.default_rng(1).normal(0, 900, int(0.6 * RATE))
    pcm = np.concatenate([8000 * np.sin(2 * np.pi * 1000 * t), noise]).astype(np.int16)
    amd = AnsweringMachineDetector(RATE)
    for i in range(0, len(pcm) - 159, 160):
        amd.frame(pcm[i : i + 160], i / RATE)
    assert amd.beep_at is not None and abs(amd.beep_at - 0.4) < 0.05
