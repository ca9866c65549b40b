"""What the LiveKit Agents path costs the caller: the same recorded calls through the native
call session (loopback, real time) and through an AgentSession with the voicebot plugins (WAV
in and out, real time), measured the same way on both: the call reports' per-turn stamps on the
call clock (end of speech -> endpoint -> ASR final -> intent -> policy -> first audio).

    .venv/bin/python benchmarks/livekit_path.py [--calls cooperative talks_over ...]

Only turns answered while the bot was silent count (`stage_ms()` leaves the others out).
Writes benchmarks/results/livekit_path.{json,md}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import time
from pathlib import Path

from voicebot.app.stages import ScriptStages
from voicebot.bench.replay import load_recording, replay_one
from voicebot.core.clock import RealClock
from voicebot.core.runtime import configure_threads
from voicebot.livekit.fileio import run_wav_call
from voicebot.metrics.report import CallReport
from voicebot.metrics.stats import summarize
from voicebot.models.store import ModelStore
from voicebot.session.call import CallOptions

ROOT = Path(__file__).resolve().parent.parent
CALLS = ROOT / "benchmarks" / "data" / "calls"
RESULTS = ROOT / "benchmarks" / "results"
STAGES = ("endpoint", "asr", "intent", "tts_first_audio", "end_to_end")
NAMES = ["cooperative", "refuses", "busy", "asks_for_person", "talks_over"]


def samples(reports: list[CallReport]) -> dict[str, list[float]]:
    return {stage: [ms for r in reports for ms in r.latencies_ms(stage)] for stage in STAGES}


async def both(stages: ScriptStages, name: str) -> tuple[CallReport, CallReport]:
    native = await replay_one(
        stages, load_recording(CALLS / f"{name}.wav", stages.script), RealClock()
    )
    agents = await run_wav_call(stages, CALLS / f"{name}.wav")
    return native, agents.report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", nargs="*", default=NAMES)
    args = parser.parse_args()
    configure_threads()
    stages = ScriptStages(ROOT / "prompts" / "survey_en.yaml", ModelStore(), CallOptions())
    stages.prerender()
    native: list[CallReport] = []
    livekit: list[CallReport] = []
    calls = []
    for name in args.calls:
        a, b = asyncio.run(both(stages, name))
        native.append(a)
        livekit.append(b)
        calls.append(
            {
                "call": name,
                "native": [str(a.outcome), [t.intent for t in a.turns]],
                "livekit": [str(b.outcome), [t.intent for t in b.turns]],
            }
        )
    paths = {"native": samples(native), "livekit": samples(livekit)}
    out = {
        "when": time.strftime("%Y-%m-%d %H:%M"),
        "machine": platform.processor() or platform.machine(),
        "calls": calls,
        "ms": {p: {s: summarize(v).model_dump() for s, v in d.items()} for p, d in paths.items()},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "livekit_path.json").write_text(json.dumps(out, indent=2))
    lines = [
        "| stage | native p50 | native p95 | LiveKit p50 | LiveKit p95 | n (native/LiveKit) |",
        "|---|---|---|---|---|---|",
    ]
    for stage in STAGES:
        a, b = out["ms"]["native"][stage], out["ms"]["livekit"][stage]
        lines.append(
            f"| {stage} | {a['p50']:.0f} | {a['p95']:.0f} | {b['p50']:.0f} | "
            f"{b['p95']:.0f} | {a['n']}/{b['n']} |"
        )
    for call in calls:
        lines.append(f"\n{call['call']}: native {call['native']}, LiveKit {call['livekit']}")
    (RESULTS / "livekit_path.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
