"""The transports a campaign started from the operator console (`voicebot serve`) dials
through: the simulated trunk, or simulated callees through the whole pipeline, whose script
stages load once per server and serve every run of that script."""

from __future__ import annotations

from pathlib import Path

from voicebot.app.config import VoicebotConfig
from voicebot.app.trunks import PersonaTrunk, SimulatedTrunk
from voicebot.campaign.dialer import CampaignClock
from voicebot.core.clock import Clock
from voicebot.models.registry import cache_dir
from voicebot.models.store import ModelStore
from voicebot.sim.persona import all_personas
from voicebot.sim.trial import Trial

__all__ = ["PersonaLines", "SimulatedTrunk", "persona_names", "simulated_trunk"]


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


def console_models(config: VoicebotConfig | None = None) -> tuple[ModelStore, VoicebotConfig]:
    """The server's models (one load per process), fixed lines cached like the demo's."""
    config = config or VoicebotConfig()
    if config.tts.prerender_dir is None:
        tts = config.tts.model_copy(update={"prerender_dir": cache_dir() / "lines"})
        config = config.model_copy(update={"tts": tts})
    return ModelStore(config), config
