"""Memory of a long campaign's personal lines: each contact's first lines (the greeting; with
AMD the voicemail message and the screening line) are rendered while the number rings, the
rest once a person answered, and the lines that carry the contact's details are dropped when
the call ends; what every contact shares stays in a byte-capped LRU. The process must stay
flat however many contacts are called.

    .venv/bin/python benchmarks/personal_lines.py [--contacts 2000] [--cap-mb 32]
        [--answered 0.3] [--voice piper|tone] [--every 100]
    ./dev bench lines --contacts 10000 --voice tone --every 1000

For `--contacts` distinct made-up contacts, one event loop (as a dialer), it goes through the
calls' own code path without audio: `ScriptStages.ring()`, then for the `--answered` share of
them `ScriptStages.in_call()` (what a call session runs once a person answered), then
`ScriptStages.ended()` (what it runs when the call ends). `--voice piper` synthesises through
the real voice (about 0.2-1 s per new sentence on a loaded 2-core machine); `--voice tone`
swaps in a voice that returns a tone as long as piper's audio would be (60 ms per character),
so 10,000 contacts run in minutes through the same stage, normalisation, sentence split,
resampling, trimming and cache, without the ONNX model. RSS is sampled every `--every`
contacts; the slope is a least-squares fit over the second half, in MB per 1,000 contacts.
Writes benchmarks/results/personal_lines[_<voice>].{json,md}.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import platform
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voicebot.app.stages import ScriptStages  # noqa: E402
from voicebot.core.clock import RealClock  # noqa: E402
from voicebot.models.store import ModelStore  # noqa: E402

FIRST = ["Ann", "Bo", "Chen", "Dana", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jia", "Kofi", "Lena"]
LAST = ["Lee", "Okafor", "Silva", "Novak", "Tanaka", "Haddad", "Moreau", "Kowalski", "Reyes"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]


class ToneVoice:
    """Audio as long as a piper voice's for the same text (60 ms per character at 22.05 kHz),
    a tone, in a fraction of the time: the stage around the voice is what is measured."""

    sample_rate = 22050

    def __init__(self, name: str) -> None:
        self.name = f"tone:{name}"

    def synthesize(self, sentence: str) -> np.ndarray:
        n = int(0.06 * self.sample_rate * max(1, len(sentence)))
        t = np.arange(n) / self.sample_rate
        return (8000 * np.sin(2 * np.pi * (180 + len(sentence) % 40) * t)).astype(np.int16)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def contact_for(i: int, rng: random.Random, base: dict[str, Any]) -> dict[str, Any]:
    """Contact `i`: a name no earlier contact had (a middle initial and a number spelt out by
    letters, so that names do not grow longer over the run), a visit day."""
    tag = "".join(chr(65 + (i // 26**k) % 26) for k in range(3))
    name = f"{rng.choice(FIRST)} {tag[0]}. {tag[1:].capitalize()} {rng.choice(LAST)}"
    return {**base, "name": name, "visit_date": rng.choice(DAYS)}


async def campaign(
    stages: ScriptStages,
    contacts: int,
    answered: float,
    every: int,
    seed: int = 7,
) -> list[dict[str, float]]:
    """Call `contacts` contacts (ring, in_call for the answered share, ended); RSS samples."""
    rng = random.Random(seed)
    base = dict(stages.script.example_contact)
    clock = RealClock()
    cache = stages.tts.cache
    started = time.monotonic()
    samples = [_sample(0, stages, started)]
    for i in range(1, contacts + 1):
        contact = contact_for(i, rng, base)
        await stages.ring(clock, contact)
        if rng.random() < answered:
            await stages.in_call(clock, contact)
        assert cache.personal_size <= cache.personal_bytes or cache.personal_count == 1
        stages.ended(contact)
        if i % every == 0 or i == contacts:
            gc.collect()
            samples.append(_sample(i, stages, started))
            s = samples[-1]
            print(
                f"{i:6d} contacts  rss {s['rss_mb']:7.1f} MB  cache {s['cache_mb']:5.2f} MB "
                f"({s['cache_lines']:.0f} lines)  {s['seconds']:7.1f} s",
                flush=True,
            )
    return samples


def _sample(i: int, stages: ScriptStages, started: float) -> dict[str, float]:
    cache = stages.tts.cache
    return {
        "contacts": i,
        "rss_mb": round(rss_mb(), 1),
        "cache_mb": round(cache.personal_size / 2**20, 3),
        "cache_lines": cache.personal_count,
        "seconds": round(time.monotonic() - started, 1),
    }


def slope_per_1000(samples: list[dict[str, float]]) -> float:
    """Least-squares RSS growth over the second half of the run, MB per 1,000 contacts."""
    last = samples[-1]["contacts"]
    half = [s for s in samples if s["contacts"] >= last / 2]
    if len(half) < 2:
        return 0.0
    x = np.array([s["contacts"] for s in half], float)
    y = np.array([s["rss_mb"] for s in half], float)
    return float(np.polyfit(x, y, 1)[0] * 1000)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=2000)
    parser.add_argument("--cap-mb", type=float, default=32.0, help="the personal-line LRU cap")
    parser.add_argument("--every", type=int, default=100, help="sample RSS every N contacts")
    parser.add_argument(
        "--answered", type=float, default=0.3, help="share of calls a person answers"
    )
    parser.add_argument("--voice", choices=("piper", "tone"), default="piper")
    parser.add_argument("--script", default=str(ROOT / "prompts" / "survey_en.yaml"))
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = parser.parse_args()

    stages = ScriptStages(Path(args.script), ModelStore())
    if args.voice == "tone":
        stages.tts.voice = ToneVoice(stages.tts.voice.name)
    stages.prerender()
    stages.tts.cache.personal_bytes = int(args.cap_mb * 2**20)
    samples = asyncio.run(campaign(stages, args.contacts, args.answered, args.every))
    growth = slope_per_1000(samples)
    result = {
        "contacts": args.contacts,
        "voice": args.voice,
        "answered": args.answered,
        "cap_mb": args.cap_mb,
        "script": Path(args.script).name,
        "rss_start_mb": samples[0]["rss_mb"],
        "rss_peak_mb": max(s["rss_mb"] for s in samples),
        "rss_end_mb": samples[-1]["rss_mb"],
        "second_half_slope_mb_per_1000": round(growth, 2),
        "cache_end_mb": samples[-1]["cache_mb"],
        "cache_end_lines": samples[-1]["cache_lines"],
        "seconds": samples[-1]["seconds"],
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "samples": samples,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = "personal_lines" if args.voice == "piper" else f"personal_lines_{args.voice}"
    (out / f"{stem}.json").write_text(json.dumps(result, indent=2))
    command = (
        f"benchmarks/personal_lines.py --contacts {args.contacts} --cap-mb {args.cap_mb:g} "
        f"--answered {args.answered:g} --voice {args.voice} --every {args.every}"
    )
    rows = "".join(
        f"| {s['contacts']:.0f} | {s['rss_mb']} | {s['cache_mb']} | {s['cache_lines']:.0f} | "
        f"{s['seconds']} |\n"
        for s in samples
    )
    (out / f"{stem}.md").write_text(
        "# Personal lines: memory over a campaign\n\n"
        f"`{command}` ({result['machine']})\n\n"
        f"RSS {result['rss_start_mb']} -> {result['rss_end_mb']} MB (peak "
        f"{result['rss_peak_mb']}), slope over the second half "
        f"{result['second_half_slope_mb_per_1000']} MB per 1,000 contacts; cache at the end "
        f"{result['cache_end_mb']} MB in {result['cache_end_lines']} lines "
        f"(cap {args.cap_mb:g} MB).\n\n"
        "| contacts | RSS MB | cache MB | cache lines | seconds |\n|---|---|---|---|---|\n" + rows
    )
    print(json.dumps({k: v for k, v in result.items() if k != "samples"}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
