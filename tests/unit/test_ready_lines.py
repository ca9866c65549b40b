"""Every line a call can say with a contact's details is listed in the order a call needs it (the
voicemail message included), and zh lines are normalised before they are synthesised."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT
from voicebot.app.stages import first_lines, personal_lines, shared_parts
from voicebot.policy.actions import Say
from voicebot.policy.engine import Policy
from voicebot.policy.lint import script_lines
from voicebot.policy.schema import filled, load_script, text_of
from voicebot.tts.stage import TextToSpeech
from voicebot.tts.zh_text import normalize

pytestmark = pytest.mark.unit
SCRIPTS = sorted((ROOT / "prompts").glob("*.yaml"))


class SpellingVoice:
    """A voice that 'says' each character as one sample and remembers what it was given."""

    name = "spelling"
    sample_rate = 8000

    def __init__(self) -> None:
        self.said: list[str] = []

    def synthesize(self, sentence: str) -> np.ndarray:
        self.said.append(sentence)
        return np.full(len(sentence), 1000, np.int16)


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_the_greeting_and_voicemail_message_come_first_and_every_variable_line_is_there(
    path: Path,
) -> None:
    script = load_script(path)
    language, contact = script.languages[0], dict(script.example_contact)
    lines = personal_lines(script, language, contact)
    policy = Policy(script, language)
    _, start = policy.start(contact)
    greeting = next(a.text for a in start if isinstance(a, Say))
    voicemail = [a.text for a in policy.voicemail(contact) if isinstance(a, Say)]
    if "{" in text_of(script.nodes[script.start].say, language):
        assert lines[0] == greeting
    for message in voicemail:
        if "{" in text_of(script.voicemail.message or "", language):
            assert message in lines[:2]
    for _, line in script_lines(script):
        text = text_of(line, language)
        if "{" in text:
            assert filled(text, contact) in lines
    assert len(lines) == len(set(lines))


def test_followup_zh_rings_with_its_voicemail_message() -> None:
    script = load_script(ROOT / "prompts" / "followup_zh.yaml")
    lines = personal_lines(script, "zh", {"name": "王先生", "company": "C", "service": "S"})
    assert "王先生您好" in lines[1] and "回访" in lines[1]  # the voicemail message, second


def test_a_zh_line_is_synthesised_normalised_and_then_served_from_the_cache() -> None:
    voice = SpellingVoice()
    tts = TextToSpeech(voice, 8000, normalize=normalize)
    line = "您的账单是¥1,280.50，请在12/1前拨打10086。"
    assert tts.prerender([line], personal=True) >= 1
    assert not any(c.isdigit() for c in "".join(voice.said))
    assert "一千二百八十元五角" in "".join(voice.said)
    rendered = len(voice.said)

    async def stream() -> list[np.ndarray]:
        return [pcm async for pcm in tts.stream(line)]

    blocks = asyncio.run(stream())
    assert len(voice.said) == rendered  # all from the cache
    assert sum(len(b) for b in blocks) == sum(len(s) for s in voice.said)


def test_a_line_is_ready_only_when_every_sentence_is_cached() -> None:
    tts = TextToSpeech(SpellingVoice(), 8000, normalize=normalize)
    line = "李女士您好，这里是客户回访中心。我们稍后再联系您，再见。"
    assert not tts.ready(line)
    tts.prerender([line.split("。")[0] + "。"], personal=True)
    assert not tts.ready(line)
    tts.prerender([line], personal=True)
    assert tts.ready(line)


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_only_the_lines_before_a_person_speaks_render_while_the_number_rings(path: Path) -> None:
    """The greeting, and with AMD the voicemail message and the screening line: the other
    personal lines wait until a person answered (`ScriptStages.in_call`)."""
    script = load_script(path)
    language, contact = script.languages[0], dict(script.example_contact)
    first, every = first_lines(script, language, contact), personal_lines(script, language, contact)
    greeting = filled(text_of(script.nodes[script.start].say, language), contact)
    wanted = [greeting]
    if script.voicemail.action == "leave" and script.voicemail.message is not None:
        wanted.append(filled(text_of(script.voicemail.message, language), contact))
    if script.lines.screening is not None:
        wanted.append(filled(text_of(script.lines.screening, language), contact))
    assert first == [w for w in wanted if w in every]  # those that carry a variable
    assert set(first) < set(every)  # the rest renders during the call
    assert first_lines(script, language, contact, amd=False) == first[:1]


def test_a_call_forgets_its_own_lines_and_keeps_what_every_contact_shares() -> None:
    tts = TextToSpeech(SpellingVoice(), 8000)
    shared = "Hello, this is Sam of Acme Home Services."
    own = f"{shared} Am I speaking with Quilliam Zebedee?"
    tts.prerender([own, "This call is recorded."], personal=True)
    tts.prerender(["A fixed line."])
    held = tts.cache.personal_count
    assert tts.forget([own], keep=[f"{shared} Am I speaking with ?"]) == 1
    assert tts.cache.personal_count == held - 1 and tts.ready(shared)
    assert not tts.ready(own) and tts.ready("This call is recorded.")  # not this call's line
    assert tts.ready("A fixed line.") and tts.forget(["A fixed line."]) == 0  # fixed lines stay


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_the_fixed_words_of_personal_lines_are_rendered_up_front_without_any_detail(
    path: Path,
) -> None:
    script = load_script(path)
    language = script.languages[0]
    voice = SpellingVoice()
    tts = TextToSpeech(voice, 8000, None, normalize if language == "zh" else None)
    parts = shared_parts(script, language, tts)
    contact = {k: str(v) for k, v in script.example_contact.items() if v}
    assert parts  # every shipped script has personal lines with fixed words in them
    for part in parts:
        assert not any(value in part for value in contact.values() if len(value) > 1), part
    lines = personal_lines(script, language, script.example_contact)
    said = {s for line in lines for s in tts.sentences(line)}
    assert set(parts) <= said  # they are chunks the contact's own lines really play
    assert tts.prerender_sentences(parts) == len(parts) and voice.said == parts
