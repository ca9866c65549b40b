"""Real outbound calls over SIP: dial, wait for the answer, run the call session, hand off to a
human over SIP when the script says so, and write one report per dial attempt, answered or not."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from voicebot.app.stages import ScriptStages
from voicebot.core.clock import RealClock
from voicebot.core.outcomes import Outcome
from voicebot.metrics.report import CallReport
from voicebot.models.store import ModelStore
from voicebot.session.call import CallOptions, CallSession, CallSetup
from voicebot.telephony.sip.config import SipConfig
from voicebot.telephony.sip.handoff import SipAgents
from voicebot.telephony.sip.line import SipLine
from voicebot.telephony.sip.stack import SipStack
from voicebot.tts.voices import split_sentences

BRIDGE_MAX_S = 4 * 3600.0  # `voicebot call`: a customer-agent call is left this long at most


class SipCaller:
    """A script's loaded stages + a running SIP stack = calls to real numbers."""

    def __init__(
        self,
        stages: ScriptStages,
        stack: SipStack,
        sip: SipConfig,
        options: CallOptions | None = None,
    ) -> None:
        self.stages, self.stack, self.sip = stages, stack, sip
        self.options = options or stages.options
        self.bridges: list[SipLine] = []  # caller legs handed to an agent, still talking

    async def call(
        self,
        target: str,
        contact: dict[str, Any],
        record_to: Path | None = None,
        started_wall: datetime | None = None,
        on_answer: Callable[[], None] | None = None,
    ) -> CallReport:
        """`started_wall`: the call's aware wall time (the contact's local time in campaigns:
        a booked callback is read there); default: now in this machine's zone. `on_answer`
        is called when the callee picks up."""
        trunk, stages = self.sip.trunk, self.stages
        setup = CallSetup(
            stages.script,
            stages.script_path,
            contact,
            stages.language,
            record_to=record_to,
            phone=target,
        )
        if started_wall is not None:
            setup.started_wall = started_wall
        line = SipLine(self.stack)
        rendering = asyncio.ensure_future(stages.ring(RealClock(), contact))
        await line.dial(trunk.target(target))
        answered = await line.wait_answer(trunk.ring_timeout_s, trunk.trunk_timeout_s)
        await rendering
        if not answered:
            await line.close()
            stages.ended(contact)  # the greeting rendered for nobody leaves the cache
            return self._unanswered(setup, line)
        if on_answer is not None:
            on_answer()
        agents = SipAgents(self.stack, line, trunk, self.sip.handoff, self._brief, setup.call_id)
        session = CallSession(setup, stages.stages, line, line, RealClock(), agents, self.options)
        watchdog = asyncio.ensure_future(line.watch_rtp(trunk.rtp_timeout_s))
        try:
            report = await session.run()
        finally:
            watchdog.cancel()
            if agents.bridged is None:
                await line.close()
            else:
                self.bridges.append(line)
        if line.control.outcome == Outcome.RTP_TIMEOUT:
            report.outcome, report.ended_by = Outcome.RTP_TIMEOUT, "network"
        report.signalling = line.control.as_report()
        if agents.record:
            report.transfer = {**(report.transfer or {}), **agents.record}
        return report

    async def wait_bridges(self, within_s: float | None = None) -> None:
        """Let handed-off calls (customer and agent talking) run to their end; with `within_s`,
        end what is left after that long. No timer meant for the bot applies to them."""
        for line in self.bridges:
            try:
                await asyncio.wait_for(line.ended.wait(), within_s)
            except TimeoutError:
                line.end_bridge()
                await line.close()
        self.bridges.clear()

    def _brief(self, summary: str) -> np.ndarray:
        tts = self.stages.tts
        return np.concatenate([tts.render(s) for s in split_sentences(summary)])

    def _unanswered(self, setup: CallSetup, line: SipLine) -> CallReport:
        control = line.control
        return CallReport(
            call_id=setup.call_id,
            script=setup.script.name,
            script_path=str(setup.script_path),
            language=setup.language,
            transport="SipLine",
            contact=dict(setup.contact),
            started_at=setup.started_wall.isoformat(timespec="seconds"),
            outcome=control.outcome or Outcome.FAILED,
            ended_by=control.ended_by or "",
            signalling=control.as_report(),
            models=self.stages.stages.models,
            config=self.options.model_dump(mode="json"),
        )


async def place_one(
    script: Path,
    target: str,
    contact: dict[str, Any],
    sip: SipConfig,
    store: ModelStore,
    out: Path,
    record: bool = False,
    options: CallOptions | None = None,
) -> CallReport:
    """`voicebot call`: one real call, its report written to `out/<call_id>.json`."""
    stages = ScriptStages(script, store, options)
    await asyncio.to_thread(stages.prerender)
    async with SipStack(sip.trunk) as stack:
        caller = SipCaller(stages, stack, sip)
        report = await caller.call(target, contact, out / "recordings" if record else None)
        await caller.wait_bridges(BRIDGE_MAX_S)  # to its end, not to the bot's deadline
    report.save(out)
    return report
