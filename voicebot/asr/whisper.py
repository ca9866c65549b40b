"""faster-whisper recogniser for one caller turn.

Whisper pads every decode to a 30 s window, which costs ~0.35 s of encoder time on 2 cores even
for a one-second "yes". We encode a shorter window (10 s by default, ~20 ms of encoder time) and
fall back to the full window when the short one makes the decoder loop ("No? No? No?").
"""

from __future__ import annotations

import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from voicebot.audio.frames import as_float32

SAMPLE_RATE = 16000
_FULL_WINDOW_S = 30.0
_MAX_CONTEXT_TOKENS = 64
_TOKEN = re.compile(r"[\u4e00-\u9fff]|\w+")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_LOOP = re.compile(r"(\S.{0,40}?)(?:[\s,.!?，。？！、]*\1){2,}")


class AsrOptions(BaseModel):
    """Decoder settings for one language."""

    model_config = ConfigDict(extra="forbid")

    language: str = "en"
    window_s: float = Field(10.0, ge=1.0, le=30.0, description="encoder window for short turns")
    beam_size: int = Field(1, ge=1, description="1 = greedy, fastest")
    threads: int = Field(2, ge=1, description="threads per decode")
    workers: int = Field(2, ge=1, description="decodes run in parallel (calls at once)")
    max_no_speech_prob: float = Field(0.6, description="drop text above this and low logprob")
    min_avg_logprob: float = Field(-1.0, description="drop text whose mean token logprob is lower")


@dataclass(frozen=True, slots=True)
class Transcript:
    """What the caller said in one turn; empty text when nothing trustworthy was heard."""

    text: str
    language: str
    confidence: float  # exp(mean token logprob)
    no_speech_prob: float
    audio_s: float
    decode_s: float
    window_s: float
    dropped: str = ""  # why the text was dropped, if it was


class WhisperRecognizer:
    """Loads a CTranslate2 whisper model once; `transcribe` is blocking and thread-safe."""

    def __init__(self, model_dir: Path, options: AsrOptions | None = None) -> None:
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer

        self.options = options or AsrOptions()
        self.model = WhisperModel(
            str(model_dir), device="cpu", compute_type="int8", cpu_threads=self.options.threads,
            num_workers=self.options.workers,
        )  # fmt: skip
        multilingual = self.model.model.is_multilingual
        self._tokenizer = Tokenizer(
            self.model.hf_tokenizer,
            multilingual,
            task="transcribe",
            language=self.options.language if multilingual else None,
        )
        self._prompt = [*self._tokenizer.sot_sequence, self._tokenizer.no_timestamps]
        self._to_simplified = _simplifier() if self.options.language == "zh" else None

    def transcribe(self, pcm: np.ndarray, context: str = "") -> Transcript:
        """Decode 16 kHz mono PCM (one turn, up to 30 s). `context` is what the caller is
        answering (the bot's question): a decoder prompt that makes short answers such as
        "four" or "是的" far more reliable."""
        audio = as_float32(pcm)[: int(_FULL_WINDOW_S * SAMPLE_RATE)]
        seconds = len(audio) / SAMPLE_RATE
        start = time.perf_counter()
        if is_tone(audio):  # beeps and tones are not speech (whisper hears "Beep Beep ...")
            return Transcript("", self.options.language, 0.0, 1.0, seconds,
                              time.perf_counter() - start, 0.0, dropped="tone")  # fmt: skip
        window = self.options.window_s if seconds + 1.0 <= self.options.window_s else _FULL_WINDOW_S
        text, logprob, no_speech = self._decode(audio, window, context)
        text = _undouble(text)
        if window < _FULL_WINDOW_S and _looping(text):
            window = _FULL_WINDOW_S
            text, logprob, no_speech = self._decode(audio, window, context)
        if self._to_simplified is not None:
            text = self._to_simplified(text)
        dropped = self._why_drop(text, logprob, no_speech)
        return Transcript(
            text="" if dropped else text,
            language=self.options.language,
            confidence=0.0 if dropped else float(np.exp(logprob)),
            no_speech_prob=no_speech,
            audio_s=seconds,
            decode_s=time.perf_counter() - start,
            window_s=window,
            dropped=dropped,
        )

    def _decode(self, audio: np.ndarray, window_s: float, context: str) -> tuple[str, float, float]:
        import ctranslate2

        features = self.model.feature_extractor(audio, padding=0)
        frames = int(window_s * 100)
        features = np.pad(features, ((0, 0), (0, max(0, frames - features.shape[1]))))
        batch = np.ascontiguousarray(features[None, :, :frames], dtype=np.float32)
        prompt = self._prompt
        if context:
            previous = self._tokenizer.encode(" " + context.strip())[-_MAX_CONTEXT_TOKENS:]
            prompt = [self._tokenizer.sot_prev, *previous, *self._prompt]
        max_tokens = len(prompt) + min(224, 10 + int(len(audio) / SAMPLE_RATE * 12))
        encoded = self.model.model.encode(ctranslate2.StorageView.from_array(batch))
        result = self.model.model.generate(
            encoded,
            [prompt],
            beam_size=self.options.beam_size,
            max_length=max_tokens,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
        )[0]
        tokens = [t for t in result.sequences_ids[0] if t < self._tokenizer.eot]
        text = self._tokenizer.decode(tokens).strip()
        return text, float(result.scores[0]) if result.scores else -10.0, result.no_speech_prob

    def _why_drop(self, text: str, logprob: float, no_speech: float) -> str:
        o = self.options
        if not re.search(r"\w", text):
            return "no words"
        if no_speech > o.max_no_speech_prob and logprob < -0.5:
            return f"no_speech_prob {no_speech:.2f}"
        if logprob < o.min_avg_logprob:
            return f"avg_logprob {logprob:.2f}"
        if _compression_ratio(text) > 2.4 or _looping(text):
            return "repetition loop"
        return ""


def is_tone(audio: np.ndarray, share: float = 0.6) -> bool:
    """Most of the energy within 25 Hz of one frequency: a beep, a dial tone, a DTMF digit's
    stronger half. Speech spreads its energy over harmonics and formants."""
    if len(audio) < SAMPLE_RATE // 10:
        return False
    power = np.abs(np.fft.rfft(audio.astype(np.float64))) ** 2
    total = power.sum()
    if total <= 0:
        return False
    peak, width = int(np.argmax(power)), int(25 * len(audio) / SAMPLE_RATE)
    return float(power[max(0, peak - width) : peak + width + 1].sum() / total) >= share


def _undouble(text: str) -> str:
    """A short turn in a padded window often comes back said again and again ("Yes? Yes",
    "9 9", "好的好的"): keep the first copy, no re-decode needed. Words are compared without
    punctuation; a single Chinese character may repeat ("谢谢")."""
    tokens = list(_TOKEN.finditer(text))
    n = len(tokens)
    for size in range(1, n // 2 + 1):
        if size == 1 and _CJK.fullmatch(tokens[0].group()):
            continue
        if n % size == 0 and all(
            tokens[i].group().lower() == tokens[i % size].group().lower() for i in range(n)
        ):
            end = tokens[size - 1].end()
            tail = re.match(r"[^\w\s]*", text[end:])
            return text[: end + (tail.end() if tail else 0)].strip().rstrip(",，、")
    return text


def _looping(text: str) -> bool:
    """A decoder loop: a word run repeated, or the whole text being one phrase said twice
    (short turns in a padded window: "Yes, sure. Yes, sure.", "9 9")."""
    words = re.findall(r"\w+", text.lower())
    half = len(words) // 2
    doubled = len(words) >= 2 and len(words) % 2 == 0 and words[:half] == words[half:]
    return doubled or bool(_LOOP.search(text.lower()))


def _compression_ratio(text: str) -> float:
    raw = text.encode("utf-8")
    return len(raw) / max(1, len(zlib.compress(raw)))


def _simplifier() -> Callable[[str], str]:
    """Whisper sometimes answers Mandarin in traditional characters; callers expect simplified."""
    import opencc

    convert: Callable[[str], str] = opencc.OpenCC("t2s").convert
    return convert
