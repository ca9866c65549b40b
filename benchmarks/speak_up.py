"""The "speak up" thresholds (voicebot/vad/level.py) on rendered caller turns: voices of the
understanding benchmark's split said at several levels (clean) and at several SNRs (white noise
at a normal level), through the 8 kHz mu-law line. For each condition it reports what the
listener's VAD and level meter measure, how often the meter calls the turn quiet or noisy, and
(with --asr) how often the bot's real hearing still understands the turn.

    python -m benchmarks.speak_up --split dev --asr      # choose the thresholds
    python -m benchmarks.speak_up --split test --asr     # check them on held-out voices
"""

from __future__ import annotations

import argparse
import json
import statistics
import zlib
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.understanding.cases import Clip, load_cases, load_voices
from benchmarks.understanding.evaluate import correct
from benchmarks.understanding.render import (
    LEAD_S,
    LINE_RATE,
    TAIL_S,
    Channel,
    ClipCache,
    Synthesizers,
)
from voicebot.audio.frames import AudioFrame, as_int16
from voicebot.audio.g711 import ulaw_decode, ulaw_encode
from voicebot.audio.resample import resample
from voicebot.models.registry import ModelRegistry, cache_dir
from voicebot.vad.endpoint import SpeechEnded, SpeechStarted
from voicebot.vad.level import Audibility, LevelMeter, TurnLevel
from voicebot.vad.webrtc import VoiceActivity, frame_dbfs

LEVELS = (-24.0, -32.0, -38.0, -44.0, -50.0, -56.0)  # clean speech, dBFS
SNRS = (30.0, 20.0, 14.0, 10.0, 6.0, 2.0)  # white noise under speech at -24 dBFS
FRAME = LINE_RATE // 50
HANGOVER_ROOM_S = 0.6  # line after the clip, for the end of turn to be confirmed


def render(speech: np.ndarray, rate: int, level_db: float, snr_db: float | None, seed: int) -> Any:
    """Speech at `level_db` (RMS of the utterance), noise at `snr_db` under it, mu-law."""
    rng = np.random.default_rng(seed)
    x = resample(as_int16(speech), rate, LINE_RATE).astype(np.float64)
    x *= 32768 * 10 ** (level_db / 20) / (float(np.sqrt(np.mean(x**2))) or 1.0)
    tail = np.zeros(int((TAIL_S + HANGOVER_ROOM_S) * LINE_RATE))
    x = np.concatenate([np.zeros(int(LEAD_S * LINE_RATE)), x, tail])
    if snr_db is not None:
        x += rng.normal(0, 32768 * 10 ** ((level_db - snr_db) / 20), len(x))
    return ulaw_decode(ulaw_encode(np.clip(x, -32768, 32767).astype(np.int16))).copy()


def measure(pcm: np.ndarray) -> tuple[float, float, float] | None:
    """The listener's view: (speech dBFS, noise dBFS, speech s) of the longest turn, or None.
    A turn the noise keeps open is measured up to the end of the clip."""
    vad, meter = VoiceActivity(), LevelMeter()
    best: tuple[float, float, float] | None = None
    started = None
    for i in range(len(pcm) // FRAME):
        frame = AudioFrame(pcm[i * FRAME : (i + 1) * FRAME], LINE_RATE, i * 0.02)
        speech = vad.classifier.is_speech(frame)
        meter.push(frame.t, frame_dbfs(frame), speech)
        for event in vad.endpoint.step(speech, frame.t):
            if isinstance(event, SpeechStarted):
                started = event.t
            if isinstance(event, SpeechEnded):
                level = meter.turn(event.start, event.end)
                length = event.end - event.start
                if best is None or length > best[2]:
                    best = (level.speech_dbfs, level.noise_dbfs, length)
    if vad.in_speech and started is not None and best is None:
        level = meter.turn(started, len(pcm) / LINE_RATE)
        best = (level.speech_dbfs, level.noise_dbfs, len(pcm) / LINE_RATE - started)
    return best


def conditions() -> list[tuple[str, float, float | None]]:
    return [(f"level {lv:g}", lv, None) for lv in LEVELS] + [(f"snr {s:g}", -24.0, s) for s in SNRS]


def run_language(language: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    voices = load_voices(language, args.split)
    cases = [c for c in load_cases(language) if c.split == args.split and c.kind != "noise"]
    cases = cases[:: max(1, len(cases) // args.phrasings)][: args.phrasings]
    synth, cache = Synthesizers(), ClipCache(Path(args.cache))
    hearing = None
    if args.asr:
        from benchmarks.understanding.run import load_hearing

        hearing = load_hearing(language, None, ModelRegistry())
    rows = []
    for i, case in enumerate(cases):
        voice = voices[i % len(voices)]
        speech = cache.get(
            f"speak_up|{voice.key}|{case.text}",
            lambda v=voice, c=case: as_int16(resample(*synth.synthesize(v, c.text), LINE_RATE)),
        )
        for name, level, snr in conditions():
            seed = zlib.crc32(f"{case.id}|{name}".encode())
            pcm = render(speech, LINE_RATE, level, snr, seed)
            got = measure(pcm)
            row: dict[str, Any] = {"language": language, "condition": name, "voice": voice.name}
            if got is None:
                row.update(turn=False, audibility="no turn")
            else:
                heard = TurnLevel(got[0], got[1])
                row.update(
                    turn=True,
                    speech_dbfs=round(got[0], 1),
                    snr_db=round(heard.snr_db, 1),
                    audibility=heard.audibility().value,
                )
            if hearing is not None:
                clip = Clip(case, voice, Channel("clean", seed=seed), level)
                out = hearing.hear(clip, pcm)
                row["understood"] = correct(case.expect, case.also, out.labels)
                row["words"] = bool(out.heard)
            rows.append(row)
    return rows


def summary(rows: list[dict[str, Any]]) -> list[str]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[(row["language"], row["condition"])].append(row)
    out = [
        "| lang | condition | n | turn | speech dBFS (median) | SNR dB (median) "
        "| quiet | noisy | understood |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (lang, cond), rs in groups.items():
        turns = [r for r in rs if r["turn"]]
        und = _share(rs, lambda r: r.get("understood", False)) if "understood" in rs[0] else "-"
        quiet = _share(rs, lambda r: r["audibility"] == Audibility.QUIET.value)
        noisy = _share(rs, lambda r: r["audibility"] == Audibility.NOISY.value)
        out.append(
            f"| {lang} | {cond} | {len(rs)} | {_share(rs, lambda r: r['turn'])} "
            f"| {_median(turns, 'speech_dbfs')} | {_median(turns, 'snr_db')} | {quiet} | {noisy} "
            f"| {und} |"
        )
    return out


def _share(rows: list[dict[str, Any]], test: Any) -> str:
    return f"{sum(1 for r in rows if test(r)) / len(rows):.0%}"


def _median(rows: list[dict[str, Any]], key: str) -> str:
    return f"{statistics.median(r[key] for r in rows):.1f}" if rows else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--split", choices=["dev", "test"], default="dev")
    parser.add_argument("--languages", nargs="+", choices=["en", "zh"], default=["en", "zh"])
    parser.add_argument("--phrasings", type=int, default=8, help="phrasings per language")
    parser.add_argument("--asr", action="store_true", help="also run the bot's hearing")
    parser.add_argument("--cache", default=str(cache_dir() / "understanding"))
    parser.add_argument("--out", default="benchmarks/results/speak_up")
    args = parser.parse_args(argv)
    rows = [r for lang in args.languages for r in run_language(lang, args)]
    table = summary(rows)
    print("\n".join(table))
    out = Path(f"{args.out}_{args.split}")
    out.with_suffix(".json").write_text(json.dumps(rows, indent=1, ensure_ascii=False))
    out.with_suffix(".md").write_text(
        f"# speak up thresholds, {args.split} split\n\n`python -m benchmarks.speak_up "
        f"--split {args.split}{' --asr' if args.asr else ''}`\n\n" + "\n".join(table) + "\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
