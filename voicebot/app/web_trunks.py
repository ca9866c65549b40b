"""The transports a campaign started from the operator console (`voicebot serve`) dials
through: the simulated trunk, simulated callees through the whole pipeline, or real calls over
the config's SIP trunk; script stages load once per server and serve every run of that script."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from voicebot.app.config import VoicebotConfig
from voicebot.app.stages import ScriptStages
from voicebot.app.trunks import PersonaTrunk, SimulatedTrunk, SipTrunk
from voicebot.campaign.dialer import CampaignClock
from voicebot.core.clock import Clock
from voicebot.models.registry import cache_dir
from voicebot.models.store import ModelStore
from voicebot.sim.persona import all_personas
from voicebot.sim.trial import Trial

__all__ = ["PersonaLines", "SimulatedTrunk", "SipLines", "persona_names", "simulated_trunk"]


def simulated_trunk(clock: CampaignClock, seed: int = 0, speed: float = 1.0) -> SimulatedTrunk:
    return SimulatedTrunk(clock, seed, speed)


def persona_names() -> list[str]:
    """The shipped simulated callees (a contact's `persona` variable picks one)."""
    return [p.name for p in all_personas()]


class PersonaLines:
    """One script's stages with simulated callees, loaded and pre-rendered once; each call
    writes its stereo recording to `record_to/<call_id>.wav`."""

    def __init__(
        self, script: Path, models: ModelStore, config: VoicebotConfig, record_to: Path
    ) -> None:
        self.trial = Trial(script, models, config.call, record_to=record_to)
        self.trial.prerender()

    def trunk(self, clock: Clock, reports: Path) -> PersonaTrunk:
        return PersonaTrunk(self.trial, clock, reports)


class SipLines:
    """One script's stages for real calls over the config's SIP trunk, loaded and pre-rendered
    once; each run gets its own SIP stack on its own thread and loop. At the end of a run, calls
    handed to an agent (bridged) run on to their own end before the stack stops."""

    def __init__(self, script: Path, models: ModelStore, config: VoicebotConfig) -> None:
        if config.sip is None:
            raise ValueError("SipLines needs a config with a `sip:` section")
        self.sip = config.sip
        self.stages = ScriptStages(script, models, config.call)
        self.stages.prerender()

    @asynccontextmanager
    async def trunk(
        self, clock: CampaignClock, reports: Path, recording: bool | None
    ) -> AsyncIterator[SipTrunk]:
        from voicebot.app.outbound import SipCaller
        from voicebot.telephony.sip.stack import SipStack

        async with SipStack(self.sip.trunk) as stack:
            caller = SipCaller(self.stages, stack, self.sip)
            try:
                yield SipTrunk(caller, reports, clock, recording=recording)
            finally:
                await caller.wait_bridges()


def console_models(config: VoicebotConfig | None = None) -> tuple[ModelStore, VoicebotConfig]:
    """The server's models (one load per process), fixed lines cached like the demo's."""
    config = config or VoicebotConfig()
    if config.tts.prerender_dir is None:
        tts = config.tts.model_copy(update={"prerender_dir": cache_dir() / "lines"})
        config = config.model_copy(update={"tts": tts})
    return ModelStore(config), config
