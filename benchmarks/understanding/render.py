"""Caller audio for the understanding benchmark: voices that are not the bot's own, a phone
channel (8 kHz mu-law; clean, 20-30 dB noise or 1-3 % frame loss) and non-speech turns (tones,
coughs, line noise). Rendered clips are cached as WAV under the cache folder, never committed."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voicebot.audio.frames import as_int16
from voicebot.audio.g711 import ulaw_decode, ulaw_encode
from voicebot.audio.resample import resample
from voicebot.audio.wav import read_wav, write_wav

LINE_RATE = 8000
FRAME = LINE_RATE // 50
LEAD_S, TAIL_S = 0.4, 0.8
CONDITIONS = ("clean", "noise", "loss")


@dataclass(frozen=True)
class VoiceSpec:
    """One caller voice from voices.yaml."""

    name: str
    language: str
    engine: str
    params: dict[str, Any]

    @property
    def key(self) -> str:
        return json.dumps([self.engine, self.params], sort_keys=True)


@dataclass(frozen=True)
class Channel:
    """What the line does to one clip: a condition with its level and a seed."""

    condition: str  # clean | noise | loss
    snr_db: float = 0.0
    loss: float = 0.0
    seed: int = 0

    @classmethod
    def pick(cls, index: int, seed: int) -> Channel:
        rng = np.random.default_rng(seed)
        condition = CONDITIONS[index % len(CONDITIONS)]
        if condition == "noise":
            return cls(condition, snr_db=float(rng.uniform(20, 30)), seed=seed)
        if condition == "loss":
            return cls(condition, loss=float(rng.uniform(0.01, 0.03)), seed=seed)
        return cls(condition, seed=seed)


class Synthesizers:
    """Loads each engine once and synthesises text as (int16 PCM, rate)."""

    def __init__(self) -> None:
        self._piper: Any = None
        self._kokoro: dict[tuple[str, float], Any] = {}

    def synthesize(self, voice: VoiceSpec, text: str) -> tuple[np.ndarray, int]:
        p = voice.params
        if voice.engine == "espeak":
            pcm, rate = _espeak(text, voice.language, p["voice"], p["speed"], p["pitch"])
        elif voice.engine == "piper":
            pcm, rate = self._piper_say(text, p.get("length", 1.0), p.get("noise", 0.667))
        elif voice.engine == "kokoro":
            pcm, rate = self._kokoro_say(text, p["speaker"], p.get("speed", 1.0))
        else:
            raise ValueError(f"voice {voice.name}: unknown engine {voice.engine!r}")
        if "shift" in p:
            pcm = _sox_shift(pcm, rate, p["shift"].get("pitch", 0), p["shift"].get("tempo", 1.0))
        return pcm, rate

    def _piper_say(self, text: str, length: float, noise: float) -> tuple[np.ndarray, int]:
        from piper import PiperVoice, SynthesisConfig

        from voicebot.models.registry import ModelRegistry

        if self._piper is None:
            registry = ModelRegistry()
            spec = registry.spec("piper-en-us-joe")
            model = registry.resolve(spec.name) / spec.main
            self._piper = PiperVoice.load(model, config_path=model.with_name(model.name + ".json"))
        config = SynthesisConfig(length_scale=length, noise_scale=noise)
        chunks = [c.audio_int16_array for c in self._piper.synthesize(text, config)]
        return np.concatenate(chunks), int(self._piper.config.sample_rate)

    def _kokoro_say(self, text: str, speaker: str, speed: float) -> tuple[np.ndarray, int]:
        from voicebot.models.registry import ModelRegistry
        from voicebot.tts.voices import KokoroZhTts

        key = (speaker, speed)
        if key not in self._kokoro:
            folder = ModelRegistry().resolve("kokoro-zh-fallback")
            self._kokoro[key] = KokoroZhTts(folder, voice=speaker, speed=speed)
        voice = self._kokoro[key]
        return voice.synthesize(text), voice.sample_rate


def _espeak(text: str, language: str, voice: str, speed: int, pitch: int) -> tuple[np.ndarray, int]:
    if language == "zh":
        text = _pinyin(text)
    out = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", text],
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout
    with _wav_from_bytes(out) as (pcm, rate):
        return pcm, rate


def _pinyin(text: str) -> str:
    """Mandarin for espeak's cmn-latn-pinyin voice: tone-numbered pinyin, digits as words."""
    import cn2an
    from pypinyin import Style, lazy_pinyin

    text = cn2an.transform(text, "an2cn")
    syllables = lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True)
    return " ".join(
        s if s[-1:].isdigit() else s.replace("，", ",").replace("。", ".") for s in syllables
    )


class _wav_from_bytes:
    """Parses a WAV held in memory (espeak writes a header with unknown length)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __enter__(self) -> tuple[np.ndarray, int]:
        rate = int.from_bytes(self.data[24:28], "little")
        start = self.data.find(b"data") + 8
        return np.frombuffer(self.data[start:], np.int16).copy(), rate

    def __exit__(self, *exc: object) -> None:
        return None


def _sox_shift(pcm: np.ndarray, rate: int, cents: float, tempo: float) -> np.ndarray:
    raw = ["-t", "raw", "-r", str(rate), "-e", "signed", "-b", "16", "-c", "1"]
    effects = [
        *(["pitch", str(cents)] if cents else []),
        *(["tempo", str(tempo)] if tempo != 1.0 else []),
    ]
    out = subprocess.run(
        ["sox", *raw, "-", *raw, "-", *effects],
        input=pcm.astype("<i2").tobytes(),
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout
    return np.frombuffer(out, "<i2").astype(np.int16)


def phone_line(pcm: np.ndarray, rate: int, channel: Channel, level_db: float) -> np.ndarray:
    """Speech at a caller's level through the line: 8 kHz, noise, mu-law, lost 20 ms frames,
    with silence before and after as the VAD would see it."""
    rng = np.random.default_rng(channel.seed)
    x = resample(as_int16(pcm), rate, LINE_RATE).astype(np.float64)
    rms = float(np.sqrt(np.mean(x**2))) or 1.0
    x *= 32768 * 10 ** (level_db / 20) / rms
    x = np.concatenate([np.zeros(int(LEAD_S * LINE_RATE)), x, np.zeros(int(TAIL_S * LINE_RATE))])
    if channel.condition == "noise":
        speech_rms = 32768 * 10 ** (level_db / 20)
        x += rng.normal(0, speech_rms * 10 ** (-channel.snr_db / 20), len(x))
    out = ulaw_decode(ulaw_encode(np.clip(x, -32768, 32767).astype(np.int16))).copy()
    if channel.condition == "loss":
        frames = len(out) // FRAME
        for i in np.flatnonzero(rng.random(frames) < channel.loss):
            out[i * FRAME : (i + 1) * FRAME] = 0
    return out


NON_SPEECH = ("dial_tone", "beep", "dtmf", "cough", "line_noise", "clicks", "breath", "hum")


def non_speech(kind: str, seed: int) -> np.ndarray:
    """A turn with no words in it, at the line rate, through mu-law."""
    rng = np.random.default_rng(seed)
    n = int(rng.uniform(0.8, 1.6) * LINE_RATE)
    t = np.arange(n) / LINE_RATE
    if kind == "dial_tone":
        x = 4000 * (np.sin(2 * np.pi * 350 * t) + np.sin(2 * np.pi * 440 * t))
    elif kind == "beep":
        x = 8000 * np.sin(2 * np.pi * rng.choice([440, 850, 1000, 1400]) * t)
    elif kind == "dtmf":
        low, high = rng.choice([697, 770, 852, 941]), rng.choice([1209, 1336, 1477])
        x = 5000 * (np.sin(2 * np.pi * low * t) + np.sin(2 * np.pi * high * t))
    elif kind == "cough":
        x = np.zeros(n)
        for start in rng.uniform(0.05, 0.6, int(rng.integers(1, 3))):
            i, m = int(start * LINE_RATE), int(0.18 * LINE_RATE)
            burst = rng.normal(0, 6000, m) * np.exp(-np.arange(m) / (0.05 * LINE_RATE))
            burst = np.convolve(burst, np.ones(6) / 6, mode="same")  # throaty, low-passed
            x[i : i + m] += burst[: max(0, min(m, n - i))]
    elif kind == "line_noise":
        x = rng.normal(0, float(rng.uniform(800, 2500)), n)
    elif kind == "clicks":
        x = np.zeros(n)
        x[rng.integers(0, n, 12)] = rng.choice([-20000, 20000], 12)
    elif kind == "breath":
        x = np.convolve(rng.normal(0, 1500, n), np.ones(20) / 20, mode="same") * np.hanning(n)
    else:  # mains hum with harmonics
        x = np.sum([2000 / k * np.sin(2 * np.pi * 50 * k * t) for k in (1, 2, 3, 4, 5)], axis=0)
    lead = np.zeros(int(LEAD_S * LINE_RATE))
    pcm = np.clip(np.concatenate([lead, x, lead]), -32768, 32767).astype(np.int16)
    return ulaw_decode(ulaw_encode(pcm)).copy()


class ClipCache:
    """Rendered clips on disk, keyed by everything that shapes them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def get(self, key: str, make: Callable[[], np.ndarray]) -> np.ndarray:
        name = hashlib.sha1(key.encode()).hexdigest()[:16]
        path = self.folder / name[:2] / f"{name}.wav"
        if path.is_file():
            return read_wav(path, rate=LINE_RATE)[0]
        pcm = make()
        path.parent.mkdir(parents=True, exist_ok=True)
        write_wav(path, pcm, LINE_RATE)
        return pcm


class CallerVoice:
    """A benchmark voice as a `voicebot.tts.voices.Voice`: for simulated callers in calls."""

    sample_rate = 16000

    def __init__(self, spec: VoiceSpec, synthesizers: Synthesizers | None = None) -> None:
        self.spec, self.name = spec, spec.name
        self._synth = synthesizers or Synthesizers()

    def synthesize(self, sentence: str) -> np.ndarray:
        pcm, rate = self._synth.synthesize(self.spec, sentence)
        return resample(as_int16(pcm), rate, self.sample_rate)
