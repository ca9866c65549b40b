"""A full survey call spoken by a voice from the understanding benchmark's test split (never
tuned on), with phrasings from its test split, through the real pipeline in virtual time."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from benchmarks.understanding.cases import load_voices
from benchmarks.understanding.render import CallerVoice
from tests.conftest import ROOT
from voicebot.app.stages import LINE_RATE
from voicebot.core.clock import OffsetClock, VirtualClock
from voicebot.handoff.agents import SimulatedAgents
from voicebot.metrics.report import CallReport
from voicebot.session.call import CallSession, CallSetup
from voicebot.sim.callee import CalleeVoice, SimulatedCallee
from voicebot.sim.persona import Persona
from voicebot.sim.trial import Trial
from voicebot.telephony.loopback import LoopbackLine

pytestmark = pytest.mark.e2e

CALLER = Persona(
    name="unseen_caller",
    hello={"en": "Hello?"},
    replies={
        "en": {
            "identity": "Yes, this is she.",
            "yes_no": "Sure, ask away.",
            "rating": ["Four, I think.", "Five, definitely.", "Nine."],
            "text": "No, all good.",
        }
    },
    expect={"default": "completed"},
)


async def call(trial: Trial, voice: CalleeVoice, clock: VirtualClock) -> CallReport:
    contact = dict(trial.script.example_contact)
    await trial.ring(clock, contact)
    call_clock = OffsetClock(clock)
    line = LoopbackLine(call_clock, LINE_RATE, CALLER.line)
    setup = CallSetup(
        trial.script,
        trial.script_path,
        contact,
        "en",
        persona=CALLER.name,
        started_wall=datetime(2026, 12, 1, 10, 0),
    )
    agents = SimulatedAgents(call_clock, free=1)
    session = CallSession(setup, trial.stages, line.bot, line, call_clock, agents, trial.options)
    callee = SimulatedCallee(CALLER, "en", line, voice, call_clock)
    task = asyncio.ensure_future(callee.run())
    try:
        return await session.run()
    finally:
        line.hang_up("bot")
        await asyncio.gather(task, return_exceptions=True)


def test_a_test_split_voice_completes_the_survey_with_every_rating(store) -> None:  # type: ignore[no-untyped-def]
    spec = next(v for v in load_voices("en", "test") if v.name == "piper-joe-high-fast")
    trial = Trial(ROOT / "prompts" / "survey_en.yaml", store)
    clock = VirtualClock()
    report = asyncio.run(clock.run(call(trial, CalleeVoice(CallerVoice(spec), LINE_RATE), clock)))
    heard = [(t.node, t.text, t.intent) for t in report.turns]
    assert report.outcome == "completed", heard
    assert report.records["survey.punctuality"] == 4, heard
    assert report.records["survey.quality"] == 5, heard
    assert report.records["survey.recommend"] == 9, heard
