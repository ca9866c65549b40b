"""Real outbound calls over SIP: dial, wait for the answer, run the call session, hand off to a
human over SIP when the script says so, and write one report per dial attempt, answered or not."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np

from voicebot.core.clock import RealClock
from voicebot.core.stages import ModelStore
from voicebot.metrics.report import CallReport
from voicebot.session.call import CallOptions, CallSession, CallSetup
from voicebot.sim.trial import Trial
from voicebot.telephony.control import RTP_TIMEOUT
from voicebot.telephony.sip.config import SipConfig
from voicebot.telephony.sip.handoff import SipAgents
from voicebot.telephony.sip.line import SipLine
from voicebot.telephony.sip.stack import SipStack
from voicebot.tts.voices import split_sentences


class SipCaller:
    """Loaded script stages (from `Trial`) + a running SIP stack = calls to real numbers."""

    def __init__(self, trial: Trial, stack: SipStack, sip: SipConfig,
                 options: CallOptions | None = None) -> None:  # fmt: skip
        self.trial, self.stack, self.sip = trial, stack, sip
        self.options = options or trial.options
        self.bridges: list[SipLine] = []  # caller legs handed to an agent, still talking

    async def call(self, target: str, contact: dict[str, Any],
                   record_to: Path | None = None) -> CallReport:  # fmt: skip
        trunk, trial = self.sip.trunk, self.trial
        setup = CallSetup(trial.script, trial.script_path, contact, trial.language,
                          record_to=record_to)  # fmt: skip
        line = SipLine(self.stack)
        personal = trial.personal_lines(contact)  # rendered while the phone rings
        rendering = asyncio.ensure_future(asyncio.to_thread(trial.tts.prerender, personal))
        await line.dial(trunk.target(target))
        answered = await line.wait_answer(trunk.ring_timeout_s, trunk.trunk_timeout_s)
        await rendering
        if not answered:
            await line.close()
            return self._unanswered(setup, line)
        agents = SipAgents(self.stack, line, trunk, self.sip.handoff, self._brief, setup.call_id)
        session = CallSession(setup, trial.stages, line, line, RealClock(), agents,
                              self.options)  # fmt: skip
        watchdog = asyncio.ensure_future(line.watch_rtp(trunk.rtp_timeout_s))
        try:
            report = await session.run()
        finally:
            watchdog.cancel()
            if agents.bridged is None:
                await line.close()
            else:
                self.bridges.append(line)
        if line.control.outcome == RTP_TIMEOUT:
            report.outcome, report.ended_by = RTP_TIMEOUT, "network"
        report.signalling = line.control.as_report()
        if agents.record:
            report.transfer = {**(report.transfer or {}), **agents.record}
        return report

    async def wait_bridges(self, within_s: float) -> None:
        """Let handed-off calls run (bounded), then end what is left."""
        for line in self.bridges:
            try:
                await asyncio.wait_for(line.ended.wait(), within_s)
            except TimeoutError:
                line.end_bridge()
                await line.close()
        self.bridges.clear()

    def _brief(self, summary: str) -> np.ndarray:
        tts = self.trial.tts
        return np.concatenate([tts.render(s) for s in split_sentences(summary)])

    def _unanswered(self, setup: CallSetup, line: SipLine) -> CallReport:
        control = line.control
        return CallReport(
            call_id=setup.call_id, script=setup.script.name, script_path=str(setup.script_path),
            language=setup.language, transport="SipLine", contact=dict(setup.contact),
            started_at=setup.started_wall.isoformat(timespec="seconds"),
            outcome=control.outcome or "failed", ended_by=control.ended_by or "",
            signalling=control.as_report(), models=self.trial.stages.models,
            config=self.options.model_dump(mode="json"),
        )  # fmt: skip


async def place_one(script: Path, target: str, contact: dict[str, Any], sip: SipConfig,
                    store: ModelStore, out: Path, record: bool = False) -> CallReport:  # fmt: skip
    """`voicebot call`: one real call, its report written to `out/<call_id>.json`."""
    trial = Trial(script, store)
    await asyncio.to_thread(trial.prerender)
    async with SipStack(sip.trunk) as stack:
        caller = SipCaller(trial, stack, sip)
        report = await caller.call(target, contact, out / "recordings" if record else None)
        await caller.wait_bridges(within_s=trial.options.max_call_s)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{report.call_id}.json").write_text(report.model_dump_json(indent=2), encoding="utf-8")
    return report
