"""Voices: text in, one int16 PCM block per sentence out (blocking; the TTS stage threads it)."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Protocol

import numpy as np

from voicebot.audio.frames import as_int16
from voicebot.models.registry import quiet_jieba

log = logging.getLogger(__name__)
_CLAUSE_END = re.compile(r"(?<=[.!?。！？；;,，、])\s*")
_MIN_CHUNK_CHARS = 12
_FIRST_PHRASE_WORDS = (3, 7)  # a long uncut first sentence is cut before a function word here
_PHRASE_START = frozenset(
    {
        "about",
        "after",
        "and",
        "at",
        "because",
        "before",
        "but",
        "by",
        "for",
        "from",
        "if",
        "in",
        "on",
        "or",
        "so",
        "to",
        "until",
        "when",
        "where",
        "while",
        "with",
    }
)


def split_sentences(text: str) -> list[str]:
    """Split a line into speakable chunks: sentences, and clauses of a comma-separated sentence
    (a short first chunk makes first audio come sooner). Tiny clauses join their neighbour."""
    chunks: list[str] = []
    for piece in (p.strip() for p in _CLAUSE_END.split(text)):
        if not piece:
            continue
        if chunks and (len(chunks[-1]) < _MIN_CHUNK_CHARS or len(piece) < _MIN_CHUNK_CHARS // 2):
            chunks[-1] = f"{chunks[-1]}{'' if _is_cjk(piece) else ' '}{piece}"
        else:
            chunks.append(piece)
    return [*_first_phrase(chunks[0]), *chunks[1:]] if chunks else chunks


def _first_phrase(chunk: str) -> list[str]:
    """Cut a long first chunk before a function word (a phrase boundary), so the caller hears
    the bot start after ~60-90 ms of synthesis instead of a whole sentence's ~150 ms."""
    words = chunk.split()
    low, high = _FIRST_PHRASE_WORDS
    if len(words) < 2 * low + 1:
        return [chunk]
    cuts = [
        i for i in range(low, min(high, len(words) - 3) + 1) if words[i].lower() in _PHRASE_START
    ]
    if not cuts:
        return [chunk]
    return [" ".join(words[: cuts[-1]]), " ".join(words[cuts[-1] :])]


def _is_cjk(text: str) -> bool:
    return bool(re.match(r"[\u3000-\u9fff]", text))


class Voice(Protocol):
    name: str
    sample_rate: int

    def synthesize(self, sentence: str) -> np.ndarray: ...


class PiperTts:
    """A piper voice (ONNX + JSON config); any piper voice works, zh_CN included."""

    def __init__(self, model_file: Path, name: str = "piper", length_scale: float = 1.0) -> None:
        import onnxruntime
        from piper import PiperConfig, PiperVoice, SynthesisConfig

        config = model_file.with_name(model_file.name + ".json")
        # no CPU memory arena: the arena keeps the largest buffers any sentence needed and the
        # process grew ~35 MB over the first few hundred distinct sentences of a campaign
        # (benchmarks/personal_lines.py); without it RSS stays flat at the same speed
        options = onnxruntime.SessionOptions()
        options.enable_cpu_mem_arena = False
        session = onnxruntime.InferenceSession(
            str(model_file), sess_options=options, providers=["CPUExecutionProvider"]
        )
        settings = PiperConfig.from_dict(json.loads(config.read_text(encoding="utf-8")))
        self._voice = PiperVoice(config=settings, session=session)
        self._config = SynthesisConfig(length_scale=length_scale)
        self.name = f"{name}@{length_scale:g}"
        self.sample_rate = int(self._voice.config.sample_rate)

    def synthesize(self, sentence: str) -> np.ndarray:
        chunks = [c.audio_int16_array for c in self._voice.synthesize(sentence, self._config)]
        return np.concatenate(chunks) if chunks else np.zeros(0, np.int16)


class KokoroZhTts:
    """Mandarin fallback when no zh piper voice is configured: Kokoro-82M (int8) reading misaki's
    Mandarin phonemes with a voice trained on Japanese. Intelligible, audibly accented."""

    sample_rate = 24000

    def __init__(self, model_dir: Path, voice: str = "jf_gongitsune", speed: float = 1.0) -> None:
        import onnxruntime as ort

        try:
            from misaki import zh
        except ImportError as e:
            raise ImportError(
                "the Mandarin fallback voice needs misaki[zh]: pip install 'voicebot[zh-voice]'"
            ) from e
        quiet_jieba()
        log.info("Mandarin voice: the Kokoro fallback (accented, Apache-2.0)")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 2
        options.enable_cpu_mem_arena = False  # as piper: no arena growing with long sentences
        self._session = ort.InferenceSession(
            str(model_dir / "kokoro.int8.onnx"), options, providers=["CPUExecutionProvider"]
        )
        self._vocab = json.loads((model_dir / "vocab.json").read_text(encoding="utf-8"))["vocab"]
        with np.load(model_dir / "voices_ja.npz") as voices:
            self._style = voices[voice]
        self._g2p = zh.ZHG2P()
        self._speed = speed
        self.name = f"kokoro-zh:{voice}@{speed:g}"

    def synthesize(self, sentence: str) -> np.ndarray:
        phonemes = self._g2p(sentence)
        if isinstance(phonemes, tuple):
            phonemes = phonemes[0]
        tokens = [self._vocab[c] for c in phonemes if c in self._vocab][:500]
        if not tokens:
            return np.zeros(0, np.int16)
        style = self._style[min(len(tokens), len(self._style)) - 1].reshape(1, -1)
        audio = self._session.run(
            None,
            {
                "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
                "style": style.astype(np.float32),
                "speed": np.array([self._speed], dtype=np.float32),
            },
        )[0]
        return as_int16(np.asarray(audio, np.float32).ravel())
