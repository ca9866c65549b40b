"""A campaign's personal lines stay bounded: while the number rings only the greeting is
rendered, the rest once a person answered, and when the call ends the lines that carry the
contact's details leave the cache (what every contact shares stays, under the byte cap). The
same code path as a call (`ring`, `in_call`, `ended`), a small sample of contacts; the
10,000-contact run with RSS sampled is `./dev bench lines`."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import numpy as np
import pytest

from tests.conftest import ROOT
from voicebot.app.stages import ScriptStages
from voicebot.core.clock import VirtualClock
from voicebot.tts.stage import LineCache

pytestmark = pytest.mark.integration
SURVEY = ROOT / "prompts" / "survey_en.yaml"


class CountingVoice:
    """A quick voice (a tone 60 ms per character, piper's length) that counts what it says."""

    name = "counting"
    sample_rate = 8000

    def __init__(self) -> None:
        self.said: list[str] = []

    def synthesize(self, sentence: str) -> np.ndarray:
        self.said.append(sentence)
        n = int(0.06 * self.sample_rate * len(sentence))
        return (8000 * np.sin(np.arange(n) * 0.2)).astype(np.int16)


def call(stages: ScriptStages, contact: dict[str, str], answered: bool) -> None:
    async def one() -> None:
        clock = VirtualClock()
        await clock.run(stages.ring(clock, contact))
        if answered:
            await clock.run(stages.in_call(clock, contact))

    asyncio.run(one())


def own(stages: ScriptStages, contact: dict[str, str]) -> list[str]:
    """The contact's lines that say their name or their visit date."""
    values = (contact["name"], contact["visit_date"])
    return [line for line in stages.personal_lines(contact) if any(v in line for v in values)]


@pytest.fixture(scope="module")
def survey(store) -> ScriptStages:  # type: ignore[no-untyped-def]
    return ScriptStages(SURVEY, store)


@pytest.fixture
def stages(survey: ScriptStages) -> Iterator[ScriptStages]:
    """The survey's stages with an empty line cache (its voice put back afterwards)."""
    voice = survey.tts.voice
    survey.tts.cache = LineCache(rate=survey.tts.rate)
    yield survey
    survey.tts.voice = voice


def test_a_campaign_keeps_its_cap_and_ended_calls_leave_no_line(stages: ScriptStages) -> None:
    voice = CountingVoice()
    stages.tts.voice = voice
    cache = stages.tts.cache
    cache.personal_bytes = 400_000  # ~25 s of audio: less than one answered call's lines
    base = dict(stages.script.example_contact)
    common = {k: base[k] for k in ("company", "agent_name")}
    shared = {key for line in stages.personal_lines(common) for key in stages.tts.keys(line)}
    contacts = [
        {**base, "name": f"Contact Number {i}", "visit_date": f"May {i + 1}"} for i in range(36)
    ]
    for i, contact in enumerate(contacts):
        said = len(voice.said)
        call(stages, contact, answered=i % 3 == 0)
        if i % 3 == 2:  # after an unanswered call: only the greeting's own sentence is new
            assert voice.said[said:] == [f"Am I speaking with {contact['name']}?"]
        assert cache.personal_size <= cache.personal_bytes
        if i % 3:  # (an answered call's later lines may push its greeting out: it was said)
            assert all(stages.tts.ready(line) for line in stages.first_lines(contact))
        stages.ended(contact)
        assert not any(stages.tts.ready(line) for line in own(stages, contact))
        assert set(cache.personal_keys()) <= shared  # between calls: only shared sentences
    assert not any(stages.tts.ready(line) for c in contacts for line in own(stages, c))


def test_with_the_real_voice_the_greeting_is_ready_before_the_call_and_gone_after(
    stages: ScriptStages,
) -> None:
    base = dict(stages.script.example_contact)
    for name in ["Quilliam Zebedee", "Ottoline Marsh", "Pim Vasquez"]:
        contact = {**base, "name": name}
        first = stages.first_lines(contact)
        greeting = first[0]
        rest = [line for line in stages.personal_lines(contact) if line not in first]
        call(stages, contact, answered=False)
        assert all(stages.tts.ready(line) for line in first)
        assert not any(stages.tts.ready(line) for line in rest if name in line)  # not yet
        stages.ended(contact)
        assert not stages.tts.ready(greeting)
        kept = set(stages.tts.cache.personal_keys())
        assert len([k for k in stages.tts.keys(greeting) if k not in kept]) == 1  # the name's


def test_a_trial_keeps_the_example_contacts_lines_and_drops_anyone_elses(store) -> None:  # type: ignore[no-untyped-def]
    from voicebot.sim.trial import Trial

    trial = Trial(SURVEY, store)
    voice = CountingVoice()
    trial.tts.voice = voice
    trial.tts.cache = LineCache(rate=trial.tts.rate)
    example = dict(trial.script.example_contact)
    call(trial, example, answered=True)
    said = len(voice.said)
    trial.ended(example)
    call(trial, example, answered=True)  # the next trial call renders nothing again
    assert said > 0 and len(voice.said) == said
    someone = {**example, "name": "Quilliam Zebedee"}
    call(trial, someone, answered=True)
    trial.ended(someone)
    assert not any(trial.tts.ready(line) for line in own(trial, someone))
