"""faster-whisper recogniser for one caller turn.

Whisper pads every decode to a 30 s window, which costs 0.46 s (tiny.en) to 0.8 s (base) of
encoder time on 2 cores even for a one-second "yes". We encode a shorter window (10 s by default:
0.13 s tiny.en, 0.18 s base, measured 2026-12-03) and fall back to the full window when the short
one makes the decoder loop ("No? No? No?"). The encoder is most of a short turn's decode, so its
output is kept for the turn's second pass.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from voicebot.asr import voiced
from voicebot.audio.frames import as_float32

SAMPLE_RATE = 16000
_FULL_WINDOW_S = 30.0
_MAX_CONTEXT_TOKENS = 64
_TOKEN = re.compile(r"[\u4e00-\u9fff]|\w+")
_CJK = re.compile(r"[\u4e00-\u9fff]")
# Calibrated on the dev split of `./dev bench understanding`: below these, English decodes are
# mostly wrong words (WER > 0.9), while Mandarin ones still carry half their characters.
_MIN_AVG_LOGPROB = {"en": -1.0, "zh": -2.0}
_SURE_NO_SPEECH = 0.75  # above this, text is dropped whatever its log-probability
_LOOP = re.compile(r"(\w.{0,40}?)(?:[\s,.!?，。？！、]*\1){2,}")
# the encoder's output for the last few turns: a closed question's second pass (`score`) and a
# decode retried without its prompt read the audio the first decode already encoded (the
# encoder is most of a short turn's decode on 2 cores); a 10 s window is ~1 MB (base)
_ENCODED_KEPT = 8


class AsrOptions(BaseModel):
    """Decoder settings for one language."""

    model_config = ConfigDict(extra="forbid")

    language: str = "en"
    window_s: float = Field(10.0, ge=1.0, le=30.0, description="encoder window for short turns")
    beam_size: int = Field(
        5, ge=1, description="beam width when no other decode waits (1 = greedy, fastest)"
    )
    threads: int = Field(2, ge=1, description="threads per decode")
    workers: int = Field(2, ge=1, description="decodes run in parallel (calls at once)")
    max_no_speech_prob: float = Field(0.6, description="drop text above this and low logprob")
    min_avg_logprob: float | None = Field(
        None, description="drop text whose mean token logprob is lower (default per language)"
    )


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
    raw_text: str = ""  # what the decoder said, kept even when dropped (for calibration)
    avg_logprob: float = 0.0  # mean token log-probability of the decode
    # seconds of voice in the turn (asr/voiced.py), measured only when the text was dropped
    voiced_s: float | None = None


class WhisperRecognizer:
    """Loads a CTranslate2 whisper model once; `transcribe` is blocking and thread-safe."""

    def __init__(self, model_dir: Path, options: AsrOptions | None = None) -> None:
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer

        self.options = options or AsrOptions()
        self.model = WhisperModel(
            str(model_dir),
            device="cpu",
            compute_type="int8",
            cpu_threads=self.options.threads,
            num_workers=self.options.workers,
        )
        multilingual = self.model.model.is_multilingual
        self._tokenizer = Tokenizer(
            self.model.hf_tokenizer,
            multilingual,
            task="transcribe",
            language=self.options.language if multilingual else None,
        )
        self._prompt = [*self._tokenizer.sot_sequence, self._tokenizer.no_timestamps]
        self._to_simplified = _simplifier() if self.options.language == "zh" else None
        self._encoded: OrderedDict[tuple[bytes, int], object] = OrderedDict()
        self._encoded_lock = threading.Lock()
        voiced.load()  # the voice detector that judges turns whose text is dropped

    def transcribe(self, pcm: np.ndarray, context: str = "", beam: int | None = None) -> Transcript:
        """Decode 16 kHz mono PCM (one turn, up to 30 s). `context` is what the caller is
        answering (the bot's question): a decoder prompt that makes short answers such as
        "four" or "是的" far more reliable. `beam`: this decode's beam width (default: the
        options' `beam_size`; the turn recogniser asks for 1 when other decodes wait)."""
        beam = beam or self.options.beam_size
        audio = as_float32(pcm)[: int(_FULL_WINDOW_S * SAMPLE_RATE)]
        audio = _dc_block(audio)  # a DC offset is no tone and no speech
        seconds = len(audio) / SAMPLE_RATE
        start = time.perf_counter()
        # beeps and tones are not speech (whisper hears "Beep Beep ..."); a flat, steady voice
        # can look like one to the spectrum, not to the voice detector
        if is_tone(audio) and (voice_s := voiced.voiced_seconds(audio)) < voiced.MIN_VOICED_S:
            return Transcript(
                "",
                self.options.language,
                0.0,
                1.0,
                seconds,
                time.perf_counter() - start,
                0.0,
                dropped="tone",
                voiced_s=voice_s,
            )
        window = self.options.window_s if seconds + 1.0 <= self.options.window_s else _FULL_WINDOW_S
        prompt = context
        text, logprob, no_speech = self._decode(audio, window, context, beam)
        if context and (echoes(text, context) or opens_a_sentence_of(text, context)):
            # on noise whisper recites the prompt; on a short answer it may start it again
            context = ""
            text, logprob, no_speech = self._decode(audio, window, context, beam)
        text = _undouble(text)
        if window < _FULL_WINDOW_S and _looping(text):
            window = _FULL_WINDOW_S
            text, logprob, no_speech = self._decode(audio, window, context, beam)
        if self._to_simplified is not None:
            text = self._to_simplified(text)
        dropped = "echo of the question" if prompt and echoes(text, prompt) else ""
        dropped = dropped or self._why_drop(text, logprob, no_speech)
        return Transcript(
            text="" if dropped else text,
            language=self.options.language,
            confidence=0.0 if dropped else float(np.exp(logprob)),
            no_speech_prob=no_speech,
            audio_s=seconds,
            decode_s=time.perf_counter() - start,
            window_s=window,
            dropped=dropped,
            raw_text=text,
            avg_logprob=logprob,
            voiced_s=voiced.voiced_seconds(audio) if dropped else None,
        )

    def _decode(
        self, audio: np.ndarray, window_s: float, context: str, beam: int
    ) -> tuple[str, float, float]:
        encoded = self._encode(audio, window_s)
        prompt = self._prompt_with(context)
        max_tokens = len(prompt) + min(224, 10 + int(len(audio) / SAMPLE_RATE * 12))
        result = self.model.model.generate(
            encoded,
            [prompt],
            beam_size=beam,
            max_length=max_tokens,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
        )[0]
        tokens = [t for t in result.sequences_ids[0] if t < self._tokenizer.eot]
        text = self._tokenizer.decode(tokens).strip()
        return text, float(result.scores[0]) if result.scores else -10.0, result.no_speech_prob

    def _encode(self, audio: np.ndarray, window_s: float) -> object:
        import ctranslate2

        frames = int(window_s * 100)
        key = (hashlib.blake2b(audio.tobytes(), digest_size=16).digest(), frames)
        with self._encoded_lock:
            if key in self._encoded:
                self._encoded.move_to_end(key)
                return self._encoded[key]
        features = self.model.feature_extractor(audio, padding=0)
        features = np.pad(features, ((0, 0), (0, max(0, frames - features.shape[1]))))
        batch = np.ascontiguousarray(features[None, :, :frames], dtype=np.float32)
        encoded = self.model.model.encode(ctranslate2.StorageView.from_array(batch))
        with self._encoded_lock:
            self._encoded[key] = encoded
            while len(self._encoded) > _ENCODED_KEPT:
                self._encoded.popitem(last=False)
        return encoded

    def _prompt_with(self, context: str) -> list[int]:
        if not context:
            return self._prompt
        previous = self._tokenizer.encode(" " + context.strip())[-_MAX_CONTEXT_TOKENS:]
        return [self._tokenizer.sot_prev, *previous, *self._prompt]

    def score(self, pcm: np.ndarray, candidates: list[str], context: str = "") -> list[float]:
        """How well each candidate text fits the audio: the mean log-probability of its tokens
        when the decoder is forced to say it (one batched pass, the encoder runs once). For
        closed questions: the answers a node expects, rescored against what was said."""
        import ctranslate2

        audio = as_float32(pcm)[: int(self.options.window_s * SAMPLE_RATE)]
        if not candidates or len(audio) < SAMPLE_RATE // 10:
            return [-10.0] * len(candidates)
        audio = _dc_block(audio)  # as `transcribe` heard it: the encoding is reused
        encoded = np.asarray(self._encode(audio, self.options.window_s))
        batch = ctranslate2.StorageView.from_array(
            np.ascontiguousarray(np.repeat(encoded, len(candidates), axis=0))
        )
        tokens = [self._tokenizer.encode(" " + c.strip()) for c in candidates]
        frames = min(int(self.options.window_s * 100), len(audio) // 160 + 1)
        results = self.model.model.align(
            batch, self._prompt_with(context), tokens, [frames] * len(candidates)
        )
        return [
            float(np.mean(np.log(np.maximum(np.asarray(r.text_token_probs), 1e-9))))
            for r in results
        ]

    def _why_drop(self, text: str, logprob: float, no_speech: float) -> str:
        o = self.options
        if not re.search(r"\w", text):
            return "no words"
        if no_speech > _SURE_NO_SPEECH or (no_speech > o.max_no_speech_prob and logprob < -0.5):
            return f"no_speech_prob {no_speech:.2f}"
        floor = o.min_avg_logprob
        if floor is None:
            floor = _MIN_AVG_LOGPROB.get(o.language, -1.0)
        if logprob < floor:
            return f"avg_logprob {logprob:.2f}"
        if _compression_ratio(text) > 2.4 or _looping(text):
            return "repetition loop"
        return ""


# Calibrated on the dev split of `./dev bench understanding`: speech the filter drops vs tones,
# coughs and line noise that get past the VAD.
MIN_LOST_SPEECH_S = 0.3
MAX_LOST_NO_SPEECH = 0.3


def lasts_as_words(speech_s: float) -> bool:
    """Speech long enough to hold a word (15 frames of 20 ms are 0.3 s, though their float
    difference may fall a hair short of it)."""
    return speech_s >= MIN_LOST_SPEECH_S - 1e-6


def words_lost(transcript: Transcript, speech_s: float) -> bool:
    """The VAD heard speech of real length but the recogniser has no usable text: the caller
    said something ("heard, not understood"), unlike a tone, a cough or line noise. Two
    detectors, each calibrated to pass no non-speech on the dev split, either of them enough:
    Silero VAD (asr/voiced.py) and whisper's own no-speech probability. Each misses voices the
    other hears: whisper is unsure of flat synthetic Mandarin, Silero of a fast high "three"."""
    if transcript.text or not lasts_as_words(speech_s):
        return False
    if transcript.dropped in ("tone", "asr error"):
        return transcript.dropped == "asr error"
    voice = transcript.voiced_s is not None and transcript.voiced_s >= voiced.MIN_VOICED_S
    return voice or transcript.no_speech_prob <= MAX_LOST_NO_SPEECH


def is_tone(audio: np.ndarray, share: float = 0.6) -> bool:
    """Most of the energy within 25 Hz of one or two frequencies: a beep, a dial tone (350 +
    440 Hz), a DTMF digit (two tones). Speech spreads its energy over harmonics and formants."""
    if len(audio) < SAMPLE_RATE // 10:
        return False
    power = np.abs(np.fft.rfft(audio.astype(np.float64))) ** 2
    power[: int(80 * len(audio) / SAMPLE_RATE) + 1] = 0.0  # DC and offsets steps are no tone
    total = power.sum()
    if total <= 0:
        return False
    width = int(25 * len(audio) / SAMPLE_RATE)
    held = 0.0
    for peaks in (1, 2):
        peak = int(np.argmax(power))
        band = slice(max(0, peak - width), peak + width + 1)
        held += float(power[band].sum())
        power[band] = 0.0
        if held / total >= share + 0.15 * (peaks - 1):
            return True
    return False


def _dc_block(audio: np.ndarray) -> np.ndarray:
    """A one-pole high-pass (~20 Hz): removes a DC offset and its steps, keeps speech."""
    from scipy.signal import lfilter

    if not len(audio):
        return audio
    return np.asarray(lfilter([1.0, -1.0], [1.0, -0.992], audio - audio[0]), dtype=np.float32)


def echoes(text: str, context: str) -> bool:
    """The decode is mostly the prompt itself (the bot's question) said back: what whisper
    produces on noise and breath when given a context."""
    a, b = _plain(text), _plain(context)
    if len(a) < 5:
        return False
    match = difflib.SequenceMatcher(None, a, b, autojunk=False).find_longest_match()
    # a caller may repeat a few words of the question ("Friday at three"): an echo recites
    # much of it
    return match.size >= max(5, 0.6 * len(a)) and (match.size >= 0.5 * len(b) or match.size >= 20)


def opens_a_sentence_of(text: str, context: str) -> bool:
    """The decode is the opening words of one of the question's sentences and nothing else
    ("请问您。" for "请问您对工作人员的服务态度满意吗？"): the decoder went on from its prompt
    instead of hearing the answer. At least 3 characters (Chinese) or 2 words; worth a decode
    without the prompt, not a reason to drop the words."""
    a = re.sub(r"\W+", "", text.lower())
    if len(a) < 3 or (a.isascii() and len(_plain(text).split()) < 2):
        return False
    sentences = re.split(r"[。？！?!.]+", context.lower())
    return any((b := re.sub(r"\W+", "", s)).startswith(a) and len(b) > len(a) for s in sentences)


def _plain(text: str) -> str:
    return re.sub(r"[^\w]+", " ", text.lower()).strip()


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
            return _cut_after(text, tokens[size - 1])
    return _drop_said_again(text)


_MIN_SAID_AGAIN = 3  # words (characters) in a repeated last clause; "谢谢", "考虑考虑" stay


def _drop_said_again(text: str) -> str:
    """A beam search may say the turn's last clause again ("Can I take a message? Can I take a
    message?", "... so please be quick. I'm driving at the moment, so please be quick."):
    2 of 78 two-sentence turns in benchmarks/long_turns.py. The later copy goes."""
    tokens = list(_TOKEN.finditer(text))
    n = len(tokens)
    words = [t.group().lower() for t in tokens]
    for size in range(n // 2, _MIN_SAID_AGAIN - 1, -1):
        if words[n - 2 * size : n - size] == words[n - size :]:
            return _cut_after(text, tokens[n - size - 1])
    return text


def _cut_after(text: str, token: re.Match[str]) -> str:
    """The text up to `token` and the punctuation right after it ("Yes?", "好的")."""
    end = token.end()
    tail = re.match(r"[^\w\s]*", text[end:])
    return text[: end + (tail.end() if tail else 0)].strip().rstrip(",，、")


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
