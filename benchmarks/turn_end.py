"""End-of-turn settings on the understanding benchmark's answers: how often one answer is cut in
two (the bot would speak while the caller is mid-sentence) and how soon the end is confirmed
after the caller's audible speech ends, side by side in one run.

    python -m benchmarks.turn_end --split dev --limit 40 --settings fixed adaptive

Each clip (one caller answer, as the understanding benchmark renders it) plays through the call's
own `Listener` (webrtcvad, end of turn, the speculative decode at the first pause) on a virtual
clock whose blocking work takes real time. An answer that comes out as more than one turn was cut.
"Audible end" is the caller's-ear detector's (voicebot.metrics.ear). Groups: `hesitant` answers
hold a filler or a number ("um", "four"), `long` ones five words or more, `short` the rest.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.understanding.cases import clips
from benchmarks.understanding.render import ClipCache, Synthesizers, phone_line
from voicebot.asr.whisper import AsrOptions, WhisperRecognizer
from voicebot.audio.frames import AudioFrame, split_frames
from voicebot.core.clock import VirtualClock
from voicebot.metrics.ear import frame_dbfs, utterances
from voicebot.models.registry import ModelRegistry, cache_dir
from voicebot.policy.schema import load_script, text_of
from voicebot.session.listener import HeardTurn, Listener
from voicebot.vad.endpoint import EndpointConfig

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = {"en": ["survey_en", "reminder_en"], "zh": ["upgrade_zh", "followup_zh"]}
RATE, TAIL_S = 8000, 1.5
SETTINGS: dict[str, dict[str, Any]] = {
    "fixed": {},  # the shipped default
    "floor": {"energy_floor_dbfs": -50.0},
    "adaptive": {"adaptive": True},
    "adaptive_floor": {"adaptive": True, "energy_floor_dbfs": -50.0},
    "adaptive_200": {"adaptive": True, "complete_hangover_ms": 200},
    "adaptive_240": {"adaptive": True, "complete_hangover_ms": 240},
    "incomplete_only": {"adaptive": True, "complete_hangover_ms": 300},
}
_HESITANT = re.compile(
    r"\b(um+|uh+|er|erm|hmm+|zero|one|two|three|four|five|six|seven|eight|nine|ten|\d+)\b|"
    r"[嗯呃额那个零一二三四五六七八九十]",
    re.IGNORECASE,
)


def group_of(text: str, language: str) -> str:
    if _HESITANT.search(text):
        return "hesitant"
    size = len(re.sub(r"\W", "", text)) / 2 if language == "zh" else len(text.split())
    return "long" if size >= 5 else "short"


def answers(language: str, split: str, limit: int | None) -> list[dict[str, Any]]:
    cache, synth = ClipCache(cache_dir() / "understanding"), Synthesizers()
    scripts = {n: load_script(ROOT / "prompts" / f"{n}.yaml") for n in SCRIPTS[language]}
    out = []
    for clip in clips(language, split, 1, limit):
        if clip.voice is None:
            continue

        def make(clip: Any = clip) -> Any:
            pcm, rate = synth.synthesize(clip.voice, clip.case.text)
            return phone_line(pcm, rate, clip.channel, clip.level_db)

        pcm = cache.get(clip.key, make)
        script = scripts[clip.case.script]
        context = text_of(script.nodes[clip.case.node].say, language)
        out.append({"text": clip.case.text, "pcm": pcm, "context": context})
    return out


async def _listen(listener: Listener, pcm: np.ndarray, clock: VirtualClock) -> list[HeardTurn]:
    tail = np.zeros(int(TAIL_S * RATE), np.int16)
    for i, frame in enumerate(split_frames(np.concatenate([pcm, tail]), RATE)):
        t = i * 0.02
        await clock.sleep_until(t)
        listener.push(AudioFrame(frame.pcm, RATE, t))
    await listener.drain()
    turns = []
    while not listener.turns.empty():
        turns.append(listener.turns.get_nowait())
    return turns


class InstantClock(VirtualClock):
    """Decodes take no call time: the end of turn as a much faster machine would see it (the
    adaptive hangover always has the words in time), independent of this machine's load."""

    async def run_blocking(self, fn: Any, *args: object) -> Any:
        return fn(*args)


def one(
    asr: WhisperRecognizer, config: EndpointConfig, answer: dict[str, Any], lang: str, instant: bool
) -> Any:
    clock = InstantClock() if instant else VirtualClock()
    listener = Listener(asr, clock, config.model_copy(), language=lang)
    listener.recognizer.context = answer["context"]
    turns = clock_run(clock, _listen(listener, answer["pcm"], clock))
    spans = utterances(frame_dbfs(answer["pcm"], RATE))
    audible_end = spans[-1][1] if spans else None
    wait = turns[-1].endpoint_at - audible_end if turns and audible_end is not None else None
    return len(turns), wait, " | ".join(t.transcript.text for t in turns)


def clock_run(clock: VirtualClock, coro: Any) -> Any:
    async def main() -> Any:
        return await clock.run(coro)

    return asyncio.run(main())


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for group in ("short", "long", "hesitant", "all"):
        sel = [r for r in rows if group in ("all", r["group"])]
        heard = [r for r in sel if r["turns"] >= 1]
        waits = [r["wait_ms"] for r in sel if r["wait_ms"] is not None]
        out[group] = {
            "answers": len(sel),
            "cut": sum(r["turns"] > 1 for r in sel),
            "unheard": len(sel) - len(heard),
            "end_p50_ms": round(float(np.percentile(waits, 50)), 1) if waits else None,
            "end_p95_ms": round(float(np.percentile(waits, 95)), 1) if waits else None,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.turn_end", description=__doc__)
    p.add_argument("--language", choices=["en", "zh"], default="en")
    p.add_argument("--split", choices=["dev", "test"], default="dev")
    p.add_argument("--limit", type=int, default=40, help="phrasings (one voice each)")
    p.add_argument("--settings", nargs="+", default=["fixed", "adaptive"], choices=SETTINGS)
    p.add_argument("--instant", action="store_true", help="decodes take no call time")
    p.add_argument("--verbose", action="store_true", help="one line per cut answer")
    p.add_argument("--out", help="write the summary to this JSON file")
    args = p.parse_args(argv)
    registry = ModelRegistry()
    folder = registry.resolve(registry.default("asr", args.language).name)
    asr = WhisperRecognizer(folder, AsrOptions(language=args.language))
    batch = answers(args.language, args.split, args.limit)
    result: dict[str, Any] = {
        "split": args.split,
        "language": args.language,
        "instant": args.instant,
        "settings": {},
    }
    for name in args.settings:
        config = EndpointConfig(**SETTINGS[name])
        rows = []
        for answer in batch:
            turns, wait, said = one(asr, config, answer, args.language, args.instant)
            rows.append(
                {
                    "group": group_of(answer["text"], args.language),
                    "turns": turns,
                    "wait_ms": None if wait is None else round(wait * 1000, 1),
                }
            )
            if args.verbose and turns > 1:
                print(f"  {name}: cut {answer['text']!r} -> {said!r}")
        result["settings"][name] = summarise(rows)
        print(name, json.dumps(result["settings"][name]), flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
