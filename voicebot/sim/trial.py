"""Trial runs: every persona calls through the full pipeline over loopback lines, several
calls at once, on one clock (virtual by default: faster than real time, compute charged)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from voicebot.app.stages import LINE_RATE, ScriptStages
from voicebot.core.clock import Clock, OffsetClock
from voicebot.handoff.agents import SimulatedAgents
from voicebot.metrics.report import CallReport
from voicebot.models.store import ModelStore
from voicebot.session.call import CallOptions, CallSession, CallSetup
from voicebot.sim.callee import CalleeVoice, SimulatedCallee
from voicebot.sim.persona import Persona
from voicebot.telephony.loopback import LoopbackLine


@dataclass
class TrialCall:
    persona: Persona
    expected: str
    report: CallReport

    @property
    def passed(self) -> bool:
        return self.report.outcome == self.expected


class Trial(ScriptStages):
    """The production stages of one script, calling simulated callees over loopback lines."""

    def __init__(
        self,
        script_path: Path,
        store: ModelStore,
        options: CallOptions | None = None,
        record_to: Path | None = None,
        language: str | None = None,
    ) -> None:
        super().__init__(script_path, store, options, language)
        self.record_to = record_to
        self._voices: dict[float, CalleeVoice] = {}

    def ended(self, contact: dict[str, Any]) -> int:
        """Trial calls mostly speak to the script's example contact, who is nobody's personal
        data: its lines stay cached for the next trial call instead of being rendered again
        each call. Any other contact's lines are dropped as in production."""
        if contact == self.script.example_contact:
            return 0
        return super().ended(contact)

    def voice(self, persona: Persona) -> CalleeVoice:
        if persona.speed not in self._voices:
            voice = self.store.caller_voice(self.language, length_scale=persona.speed)
            self._voices[persona.speed] = CalleeVoice(voice, LINE_RATE)
        return self._voices[persona.speed]

    async def call(
        self,
        persona: Persona,
        clock: Clock,
        agents_free: int = 1,
        contact: dict[str, Any] | None = None,
        started_wall: datetime | None = None,
        on_answer: Callable[[], None] | None = None,
    ) -> TrialCall:
        """`on_answer` is called when the callee picks up (after the ring)."""
        voice = self.voice(persona)
        contact = dict(self.script.example_contact) if contact is None else contact
        await self.ring(clock, contact)
        said_first = (
            persona.screener.get(self.language),
            persona.hello.get(self.language),
            persona.hello_then.get(self.language),
        )
        for first in (*said_first, *persona.lines(self.language)):
            if first:  # the callee's side of the ringing: a person needs no synthesis time
                await clock.run_blocking(voice.render, first)
        if on_answer is not None:
            on_answer()
        call_clock = OffsetClock(clock)
        line = LoopbackLine(call_clock, LINE_RATE, persona.line)
        setup = CallSetup(
            self.script,
            self.script_path,
            contact,
            self.language,
            persona=persona.name,
            record_to=self.record_to,
            started_wall=started_wall or datetime(2026, 11, 24, 10, 0),
        )
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
        self,
        personas: list[Persona],
        clock: Clock,
        concurrency: int = 4,
        on_done: Callable[[TrialCall], None] | None = None,
    ) -> list[TrialCall]:
        gate = asyncio.Semaphore(concurrency)

        async def one(persona: Persona) -> TrialCall:
            async with gate:
                result = await self.call(persona, clock)
            if on_done is not None:
                on_done(result)
            return result

        return list(await asyncio.gather(*(one(p) for p in personas)))
