"""ASR decoder settings on the understanding benchmark's clips: word (character) error rate,
repetition loops and decode time per setting, side by side in one run.

    python -m benchmarks.asr_window --language en --split dev --limit 30 --settings 30/1/2 10/1/2
    python -m benchmarks.asr_window --language zh --settings 10/1/2 --after-ms 100 20

Each clip is cut as the call's VAD cuts it and decoded with the bot's own recogniser
(`WhisperRecognizer.transcribe`, with the bot's question as context) once per setting. Settings
are `window_s/beam/threads`; a short window falls back to 30 s on a loop, which the `fell_back`
column counts. `--after-ms`: how much audio after the VAD's end of speech the decode gets (the
speculative decode starts that long into the pause, `endpoint.speculate_ms`). Tune on dev; report
test once.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.turn_end import answers
from benchmarks.understanding.evaluate import AFTER_S, PREROLL_S, _vad_turns
from benchmarks.understanding.metrics import edit_distance, normalise
from voicebot.asr.whisper import SAMPLE_RATE, AsrOptions, WhisperRecognizer, _looping
from voicebot.audio.resample import resample
from voicebot.models.registry import ModelRegistry


def turn_audio(
    language: str, split: str, limit: int | None, after_s: float = AFTER_S
) -> list[dict[str, Any]]:
    """The speech clips of a split as the recogniser gets them, with the question asked."""
    out = []
    for answer in answers(language, split, limit):  # the turn-end benchmark's clips
        pcm = answer["pcm"]
        turns = _vad_turns(pcm)
        if not turns:
            continue
        start, end = turns[0][0], turns[-1][1]
        span = pcm[max(0, int((start - PREROLL_S) * 8000)) : int((end + after_s) * 8000)]
        audio = resample(span, 8000, SAMPLE_RATE)
        out.append({"text": answer["text"], "audio": audio, "context": answer["context"]})
    return out


def measure(asr: WhisperRecognizer, turns: list[dict[str, Any]], language: str) -> dict[str, Any]:
    errors = tokens = loops = fell_back = dropped = 0
    times: list[float] = []
    for turn in turns:
        begin = time.perf_counter()
        t = asr.transcribe(turn["audio"], turn["context"])
        times.append(time.perf_counter() - begin)
        ref = normalise(turn["text"], language)
        errors += edit_distance(ref, normalise(t.text, language))
        tokens += len(ref)
        loops += t.dropped == "repetition loop" or _looping(t.raw_text)
        fell_back += t.window_s == 30.0 and asr.options.window_s < 30.0
        dropped += bool(t.dropped)
    return {
        "clips": len(turns),
        "error_rate": round(errors / max(tokens, 1), 4),
        "loops": loops,
        "fell_back": fell_back,
        "dropped": dropped,
        "decode_p50_ms": round(float(np.percentile(times, 50)) * 1000, 1),
        "decode_p95_ms": round(float(np.percentile(times, 95)) * 1000, 1),
        "seconds_per_clip": round(sum(times) / max(len(times), 1), 3),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.asr_window", description=__doc__)
    p.add_argument("--language", choices=["en", "zh"], default="en")
    p.add_argument("--split", choices=["dev", "test"], default="dev")
    p.add_argument("--limit", type=int, default=30, help="phrasings (one voice each)")
    p.add_argument("--settings", nargs="+", default=["30/1/2", "15/1/2", "10/1/2", "5/1/2"])
    p.add_argument(
        "--after-ms",
        nargs="+",
        type=int,
        default=[round(AFTER_S * 1000)],
        help="audio kept after the end of speech (ms), one run each",
    )
    p.add_argument("--out", help="write the rows to this JSON file")
    args = p.parse_args(argv)
    registry = ModelRegistry()
    folder = registry.resolve(registry.default("asr", args.language).name)
    rows = []
    for after_ms in args.after_ms:
        turns = turn_audio(args.language, args.split, args.limit, after_ms / 1000)
        rows += [run(folder, setting, turns, args.language, after_ms) for setting in args.settings]
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return 0


def run(
    folder: Path, setting: str, turns: list[dict[str, Any]], language: str, after_ms: int
) -> dict[str, Any]:
    """One setting on the clips: its row, printed as it finishes."""
    window, beam, threads = setting.split("/")
    options = AsrOptions(
        language=language,
        window_s=float(window),
        beam_size=int(beam),
        threads=int(threads),
        workers=1,
    )
    asr = WhisperRecognizer(folder, options)
    asr.transcribe(np.zeros(SAMPLE_RATE, np.float32))  # warm up (on no clip: encodings are kept)
    row = {"setting": setting, "after_ms": after_ms, **measure(asr, turns, language)}
    print(json.dumps(row), flush=True)
    return row


if __name__ == "__main__":
    raise SystemExit(main())
