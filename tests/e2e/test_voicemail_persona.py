"""A voicemail greeting that starts like a person ("Hello?", a pause, then "ha, got you ...
leave a message after the beep"): the bot greets the "person", then hears the machine's
phrases, stops talking and leaves the script's message after the beep. The call is a
voicemail, never a completed or silent call. A person who says a greeting's words ("I can't
take your call") and no beep follows is answered as a person. Whole calls in virtual time, real
pipeline."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.conftest import ROOT
from voicebot.audio.wav import read_wav
from voicebot.core.clock import VirtualClock
from voicebot.session.amd import BeepDetector
from voicebot.sim.persona import load_persona
from voicebot.sim.trial import Trial, TrialCall

pytestmark = pytest.mark.e2e


def place(store, script: str, folder: Path) -> TrialCall:  # type: ignore[no-untyped-def]
    trial = Trial(ROOT / "prompts" / f"{script}.yaml", store, record_to=folder)
    clock = VirtualClock()
    return asyncio.run(clock.run(trial.call(load_persona("voicemail_human"), clock)))


def beep_end(recording: Path) -> float:
    """When the machine's beep ended, from the callee's side (right) of the call recording."""
    pcm, _ = read_wav(recording, rate=8000, channel=1)
    beeps = BeepDetector(8000)
    ends = [
        e for i in range(0, len(pcm) - 159, 160) if (e := beeps.push(pcm[i : i + 160], i / 8000))
    ]
    assert ends, "no beep on the callee's side"
    return ends[0]


@pytest.mark.parametrize("script", ["reminder_en", "followup_zh"])
def test_a_voicemail_that_sounds_like_a_person_gets_the_message_after_the_beep(
    store, tmp_path: Path, script: str
) -> None:
    call = place(store, script, tmp_path)
    report = call.report
    story = [(e.t, e.kind, e.detail) for e in report.timeline], [t.text for t in report.turns]
    assert report.outcome == "voicemail", story
    kinds = [e.kind for e in report.timeline]
    assert "answering_machine" in kinds and "voicemail_message" in kinds, story
    [message] = [b for b in report.bot_lines if b.node == "voicemail"]
    assert message.first_audio_at is not None and not message.interrupted
    assert message.first_audio_at > beep_end(tmp_path / f"{report.call_id}.wav"), story
    assert "completed" not in report.path


PERSON_SAYS_GREETING_WORDS = """name: cant_take_it
description: A person whose first answer has a voicemail greeting's words, and no beep follows.
hello: {en: "Hello?"}
replies:
  en: {default: "Sorry, I can't take your call right now. Call me back tomorrow at three pm."}
think_s: 0.4
expect: {default: callback}
"""


def test_a_person_who_says_a_greetings_words_without_a_beep_is_answered(
    store, tmp_path: Path
) -> None:
    persona = tmp_path / "cant_take_it.yaml"
    persona.write_text(PERSON_SAYS_GREETING_WORDS, encoding="utf-8")
    trial = Trial(ROOT / "prompts" / "reminder_en.yaml", store)
    clock = VirtualClock()
    call = asyncio.run(clock.run(trial.call(load_persona(str(persona)), clock)))
    report = call.report
    story = [(e.t, e.kind, e.detail) for e in report.timeline], [t.text for t in report.turns]
    assert report.outcome == "callback", story
    assert "answering_machine" not in [e.kind for e in report.timeline], story
