"""A sample of the AMD benchmark's held-out (test) split, rendered by a test voice (not the
bot's own) and played into a real call: people, the long hello and the live "not available"
included, are greeted; clear machines (a beep after the greeting) get the voicemail message.
People are called with the scripts that hang up on a machine. The full benchmark:
`./dev bench amd`."""

from __future__ import annotations

import asyncio
from functools import cache
from pathlib import Path

import pytest

from benchmarks.amd.run import Clip, load_greetings, render, verdict
from benchmarks.understanding.cases import load_voices
from benchmarks.understanding.render import Synthesizers
from tests.conftest import ROOT
from voicebot.bench.replay import Recording, replay_one
from voicebot.core.clock import VirtualClock
from voicebot.metrics.report import CallReport
from voicebot.sim.trial import Trial

pytestmark = pytest.mark.integration
# people meet the scripts that hang up on a machine (a mistake there is silence and a hang-up);
# machines meet the scripts that leave a message
SCRIPTS = {
    ("en", "person"): "survey_en",
    ("zh", "person"): "upgrade_zh",
    ("en", "machine"): "reminder_en",
    ("zh", "machine"): "followup_zh",
}
SAMPLE = [
    ("en", "Hello? Hello, who is this? Hello?"),
    ("en", "Sorry, he's not available right now, who's calling?"),
    ("en", "The person you are calling is not available. Please leave a message after the tone."),
    ("en", "Hi, it's Jo. Back soon."),
    ("zh", "喂？喂？喂，谁呀？"),
    ("zh", "您好，您所拨打的用户无法接听，请在提示音后留言。"),
]


@pytest.fixture(scope="module")
def trials(store):  # type: ignore[no-untyped-def]
    @cache
    def trial(language: str, kind: str) -> Trial:
        return Trial(ROOT / "prompts" / f"{SCRIPTS[language, kind]}.yaml", store)

    return trial


@cache
def synthesizers() -> Synthesizers:
    return Synthesizers()


def call(trials, language: str, text: str, condition: str) -> tuple[str, CallReport]:  # type: ignore[no-untyped-def]
    [greeting] = [g for g in load_greetings(language, "test") if " ".join(g.sentences) == text]
    trial = trials(language, greeting.kind)
    voice = next(v for v in load_voices(language, "test") if v.engine == "espeak")
    pcm = render(Clip(greeting, voice, condition, seed=7), synthesizers())
    clock = VirtualClock()
    report = asyncio.run(clock.run(replay_one(trial, Recording(Path(greeting.id), pcm), clock)))
    return greeting.kind, report


@pytest.mark.parametrize(("language", "text"), SAMPLE)
def test_people_are_greeted_and_clear_machines_get_the_voicemail_message(
    trials,  # type: ignore[no-untyped-def]
    language: str,
    text: str,
) -> None:
    kind, report = call(trials, language, text, "noise")
    if kind == "person":
        assert verdict(report) == "greeted", report.timeline
        assert report.bot_lines[0].node == "greet"
    else:
        assert verdict(report) == "machine" and report.outcome == "voicemail", report.timeline
        [message] = report.bot_lines
        assert message.node == "voicemail" and not message.interrupted
