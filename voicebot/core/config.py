"""The user's configuration: one typed object, validated at start (YAML file or defaults)."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError

from voicebot.asr.whisper import AsrOptions
from voicebot.core.errors import ConfigError
from voicebot.telephony.livekit.config import LiveKitOutbound
from voicebot.telephony.sip.config import SipConfig
from voicebot.vad.endpoint import EndpointConfig


class TtsConfig(BaseModel):
    en_voice: Path | None = Field(None, description="piper .onnx for English; default: bundled")
    zh_voice: Path | None = Field(
        None, description="piper zh_CN .onnx; default: the Kokoro fallback (accented)"
    )
    length_scale: float = Field(1.0, gt=0.3, lt=3.0, description="speaking rate, >1 is slower")
    prerender_dir: Path | None = Field(None, description="persist pre-rendered lines here")


class VoicebotConfig(BaseModel):
    """Everything a user configures for the speech stages."""

    models: dict[str, Path] = Field(
        default_factory=dict, description="manifest model name -> user-supplied path"
    )
    asr: dict[str, AsrOptions] = Field(
        default_factory=lambda: {"en": AsrOptions(language="en"), "zh": AsrOptions(language="zh")}
    )
    endpoint: EndpointConfig = Field(default_factory=EndpointConfig)
    vad_aggressiveness: int = Field(2, ge=0, le=3)
    tts: TtsConfig = Field(default_factory=TtsConfig)
    sip: SipConfig | None = Field(None, description="trunk and agents for real calls")
    livekit: LiveKitOutbound | None = Field(None, description="calls through LiveKit SIP")

    @classmethod
    def load(cls, path: Path | None) -> VoicebotConfig:
        if path is None:
            return cls()
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            return cls.model_validate(data)
        except OSError as e:
            raise ConfigError(f"{path}: cannot read config ({e.strerror})") from None
        except yaml.YAMLError as e:
            raise ConfigError(f"{path}: not valid YAML: {e}") from None
        except ValidationError as e:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()
            )
            raise ConfigError(f"{path}: {problems}") from None
