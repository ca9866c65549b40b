"""Trial runs: every persona calls through the full pipeline over loopback lines, several
calls at once, on one clock (virtual by default: faster than real time, compute charged)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from voicebot.core.clock import Clock
from voicebot.core.stages import ModelStore
from voicebot.handoff.agents import SimulatedAgents
from voicebot.metrics.report import CallReport
from voicebot.policy.lint import script_lines
from voicebot.policy.schema import Script, load_script, text_of
from voicebot.session.call import CallOptions, CallSession, CallSetup, CallStages
from voicebot.session.dialogue import script_classifier
from voicebot.sim.callee import CalleeVoice, SimulatedCallee
from voicebot.sim.persona import Persona
from voicebot.telephony.loopback import LoopbackLine
from voicebot.tts.stage import LineCache, TextToSpeech

LINE_RATE = 8000
T = TypeVar("T")


class OffsetClock:
    """A call's clock on a shared base clock: 0 is the moment the call was answered."""

    def __init__(self, base: Clock) -> None:
        self.base, self.origin = base, base.now()

    def now(self) -> float:
        return self.base.now() - self.origin

    async def sleep(self, seconds: float) -> None:
        await self.base.sleep(seconds)

    async def sleep_until(self, t: float) -> None:
        await self.base.sleep_until(t + self.origin)

    async def run_blocking(self, fn: Callable[..., T], *args: object) -> T:
        return await self.base.run_blocking(fn, *args)


@dataclass
class TrialCall:
    persona: Persona
    expected: str
    report: CallReport

    @property
    def passed(self) -> bool:
        return self.report.outcome == self.expected


class Trial:
    """Loads the stages for one script once, then places simulated calls."""

    def __init__(self, script_path: Path, store: ModelStore, options: CallOptions | None = None,
                 record_to: Path | None = None, language: str | None = None) -> None:  # fmt: skip
        self.script_path = script_path
        self.script: Script = load_script(script_path)
        self.language = language or self.script.languages[0]
        self.store, self.record_to = store, record_to
        self.options = options or CallOptions()
        cache_dir = store.config.tts.prerender_dir
        self.tts = TextToSpeech(store.voice(self.language), LINE_RATE, LineCache(cache_dir))
        self.stages = CallStages(
            listener_asr=store.asr(self.language),
            classifier=script_classifier(self.script, self.language, store.encoder(self.language)),
            tts=self.tts,
            models=self._models(),
        )  # fmt: skip
        self._voices: dict[float, CalleeVoice] = {}

    def _models(self) -> dict[str, str]:
        out = {}
        for stage in ("asr", "nlu", "tts"):
            spec = self.store.registry.default(stage, self.language)
            out[stage] = spec.name
            out[f"{stage}_version"] = spec.version
        return out

    def prerender(self) -> int:
        """Render every fixed line (no contact variables) once: they start with no wait."""
        fixed = [text_of(line, self.language) for _, line in script_lines(self.script)]
        return self.tts.prerender(t for t in fixed if not re.search(r"\{\w+\}", t))

    def personal_lines(self, contact: dict[str, Any]) -> list[str]:
        """The script's node lines that carry this contact's details, filled in: rendered
        while the number is dialled, so they too start with no synthesis wait."""
        out = []
        for node in self.script.nodes.values():
            text = text_of(node.say, self.language)
            if re.search(r"\{\w+\}", text):
                out.append(re.sub(r"\{(\w+)\}", lambda m: str(contact.get(m.group(1), "")), text))
        return out

    async def dial(self, clock: Clock, contact: dict[str, Any]) -> None:
        """What happens while the phone rings: personal lines are rendered."""
        await clock.run_blocking(self.tts.prerender, self.personal_lines(contact))

    def voice(self, persona: Persona) -> CalleeVoice:
        if persona.speed not in self._voices:
            voice = self.store.voice(self.language, length_scale=persona.speed)
            self._voices[persona.speed] = CalleeVoice(voice, LINE_RATE)
        return self._voices[persona.speed]

    async def call(self, persona: Persona, clock: Clock, agents_free: int = 1,
                   contact: dict[str, Any] | None = None) -> TrialCall:  # fmt: skip
        voice = self.voice(persona)
        contact = dict(self.script.example_contact) if contact is None else contact
        await self.dial(clock, contact)
        if hello := persona.hello.get(self.language):  # the callee's side of the ringing
            await clock.run_blocking(voice.render, hello)
        call_clock = OffsetClock(clock)
        line = LoopbackLine(call_clock, LINE_RATE, persona.line)
        setup = CallSetup(self.script, self.script_path, contact,
                          self.language, persona=persona.name, record_to=self.record_to,
                          started_wall=datetime(2026, 11, 24, 10, 0))  # fmt: skip
        agents = SimulatedAgents(call_clock, free=agents_free)
        session = CallSession(setup, self.stages, line.bot, line, call_clock, agents, self.options)
        callee = SimulatedCallee(persona, self.language, line, voice, call_clock)
        callee_task = asyncio.ensure_future(callee.run())
        try:
            report = await session.run()
        finally:
            line.hang_up("bot")
            await asyncio.gather(callee_task, return_exceptions=True)
        return TrialCall(persona, persona.expected(self.script.name), report)

    async def run(
        self, personas: list[Persona], clock: Clock, concurrency: int = 4,
        on_done: Callable[[TrialCall], None] | None = None,
    ) -> list[TrialCall]:  # fmt: skip
        gate = asyncio.Semaphore(concurrency)

        async def one(persona: Persona) -> TrialCall:
            async with gate:
                result = await self.call(persona, clock)
            if on_done is not None:
                on_done(result)
            return result

        return list(await asyncio.gather(*(one(p) for p in personas)))
