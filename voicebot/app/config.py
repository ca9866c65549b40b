"""The user's configuration: one typed object, validated at start (YAML file or defaults).

The model part (`models`, `asr`, `tts`) is `ModelSettings`; `call` holds the timers and switches
of every call (end-of-turn hangover, VAD aggressiveness, silence timers, deadline ...); `sip` and
`livekit` describe the trunks. Unknown keys are errors, so a misspelt setting never silently
does nothing."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationError

from voicebot.campaign.safeguards import DialPolicy
from voicebot.core.errors import ConfigError
from voicebot.core.yamlfile import YamlFileError, read_yaml
from voicebot.models.store import ModelSettings
from voicebot.session.call import CallOptions
from voicebot.telephony.livekit.config import LiveKitOutbound
from voicebot.telephony.sip.config import SipConfig

MOVED = {"endpoint": "call.endpoint", "vad_aggressiveness": "call.vad_aggressiveness"}


class VoicebotConfig(ModelSettings):
    """Everything a user configures: models, call options, trunks."""

    call: CallOptions = Field(default_factory=CallOptions, description="timers and switches")
    dial: DialPolicy = Field(
        default_factory=DialPolicy, description="what may be dialled, how often"
    )
    sip: SipConfig | None = Field(None, description="trunk and agents for real calls")
    livekit: LiveKitOutbound | None = Field(None, description="calls through LiveKit SIP")

    @classmethod
    def load(cls, path: Path | None) -> VoicebotConfig:
        if path is None:
            return cls()
        try:
            data = read_yaml(path)[0] or {}
        except YamlFileError as e:
            raise ConfigError(str(e)) from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: a mapping of settings is expected")
        if moved := [f"{old} is now {new}" for old, new in MOVED.items() if old in data]:
            raise ConfigError(f"{path}: {'; '.join(moved)}")
        try:
            return cls.model_validate(data)
        except ValidationError as e:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()
            )
            raise ConfigError(f"{path}: {problems}") from None
