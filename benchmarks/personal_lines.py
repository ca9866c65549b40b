"""Memory of a long campaign's personal lines: each contact's lines (their name, their date)
are rendered while the number rings and kept in a byte-capped LRU, in memory only; the process
must stay flat however many contacts are called.

    .venv/bin/python benchmarks/personal_lines.py [--contacts 2000] [--cap-mb 32]
    ./dev bench lines

Renders every personal line of the script for `--contacts` distinct made-up contacts through
the real voice, as `ScriptStages.ring()` does for each dial, and samples the process RSS every
`--every` contacts. Flat = the RSS growth over the second half of the run, per 1,000 contacts.
Writes benchmarks/results/personal_lines.{json,md}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voicebot.app.stages import ScriptStages  # noqa: E402
from voicebot.core.clock import RealClock  # noqa: E402
from voicebot.models.store import ModelStore  # noqa: E402

FIRST = ["Ann", "Bo", "Chen", "Dana", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jia", "Kofi", "Lena"]
LAST = ["Lee", "Okafor", "Silva", "Novak", "Tanaka", "Haddad", "Moreau", "Kowalski", "Reyes"]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=2000)
    parser.add_argument("--cap-mb", type=float, default=32.0, help="the personal-line LRU cap")
    parser.add_argument("--every", type=int, default=100, help="sample RSS every N contacts")
    parser.add_argument("--script", default=str(ROOT / "prompts" / "survey_en.yaml"))
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = parser.parse_args()

    stages = ScriptStages(Path(args.script), ModelStore())
    stages.prerender()
    stages.tts.cache.personal_bytes = int(args.cap_mb * 2**20)
    rng = random.Random(7)
    base = stages.script.example_contact
    samples: list[dict[str, float]] = [{"contacts": 0, "rss_mb": rss_mb(), "cache_mb": 0.0}]
    started = time.monotonic()
    for i in range(1, args.contacts + 1):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}"  # every contact says a new name
        asyncio.run(stages.ring(RealClock(), {**base, "name": name}))
        if i % args.every == 0 or i == args.contacts:
            cache = stages.tts.cache.personal_size / 2**20
            samples.append({"contacts": i, "rss_mb": rss_mb(), "cache_mb": cache})
            print(f"{i:6d} contacts  rss {samples[-1]['rss_mb']:7.1f} MB  cache {cache:5.1f} MB")
    seconds = time.monotonic() - started
    half = [s for s in samples if s["contacts"] >= args.contacts / 2]
    span = max(1.0, half[-1]["contacts"] - half[0]["contacts"])
    growth = (half[-1]["rss_mb"] - half[0]["rss_mb"]) / span * 1000
    result = {
        "contacts": args.contacts,
        "cap_mb": args.cap_mb,
        "rss_start_mb": round(samples[0]["rss_mb"], 1),
        "rss_peak_mb": round(max(s["rss_mb"] for s in samples), 1),
        "rss_end_mb": round(samples[-1]["rss_mb"], 1),
        "second_half_growth_mb_per_1000": round(growth, 2),
        "cache_end_mb": round(samples[-1]["cache_mb"], 1),
        "seconds": round(seconds, 1),
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "samples": samples,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "personal_lines.json").write_text(json.dumps(result, indent=2))
    (out / "personal_lines.md").write_text(
        "# Personal lines: memory over a campaign\n\n"
        f"`benchmarks/personal_lines.py --contacts {args.contacts} --cap-mb {args.cap_mb:g}`\n\n"
        "| contacts | cap MB | RSS start | RSS peak | RSS end | growth, 2nd half (MB / 1,000) |\n"
        "|---|---|---|---|---|---|\n"
        f"| {args.contacts} | {args.cap_mb:g} | {result['rss_start_mb']} | "
        f"{result['rss_peak_mb']} | {result['rss_end_mb']} | "
        f"{result['second_half_growth_mb_per_1000']} |\n"
    )
    print(json.dumps({k: v for k, v in result.items() if k != "samples"}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
