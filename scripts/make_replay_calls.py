"""Regenerates benchmarks/data/calls: the callee side of simulated calls (what the bot heard,
8 kHz mono) with the expected outcome and answers, for `voicebot bench replay`: English survey
calls, and Mandarin calls of the upgrade and follow-up scripts (`<script>_<persona>.wav`; the
replay runs each against the script its JSON names).

    .venv/bin/python scripts/make_replay_calls.py [--only zh]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path

from voicebot.app.stages import LINE_RATE
from voicebot.audio.wav import read_wav, write_wav
from voicebot.core.clock import VirtualClock
from voicebot.core.runtime import configure_threads
from voicebot.models.registry import cache_dir
from voicebot.models.store import ModelSettings, ModelStore
from voicebot.sim.persona import load_persona
from voicebot.sim.trial import Trial

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "data" / "calls"
MAX_BYTES = 800_000  # a shipped call stays small (50 s of 8 kHz 16-bit audio)
# script -> (language, personas, file prefix); the English files keep their bare persona names
CALLS = {
    "survey_en": (
        "en",
        ["cooperative", "refuses", "busy", "asks_for_person", "wrong_person", "talks_over"],
        "",
    ),
    "upgrade_zh": (
        "zh",
        ["cooperative", "busy", "refuses", "asks_for_person", "wrong_person", "asks_slower"],
        "upgrade_zh_",
    ),
    "followup_zh": (
        "zh",
        ["cooperative", "wrong_person", "busy", "refuses", "asks_for_person"],
        "followup_zh_",
    ),
}


# the fixed lines persist in the line cache folder, as in trials (Mandarin ones take minutes)
_TTS = ModelSettings().tts.model_copy(update={"prerender_dir": cache_dir() / "lines"})
STORE = ModelStore(ModelSettings(tts=_TTS))


def make(script: str, personas: list[str], prefix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        trial = Trial(ROOT / "prompts" / f"{script}.yaml", STORE, record_to=Path(tmp))
        trial.prerender()
        OUT.mkdir(parents=True, exist_ok=True)
        for name in personas:
            clock = VirtualClock()
            call = asyncio.run(clock.run(trial.call(load_persona(name), clock)))
            report = call.report
            if not call.passed:
                print(f"{script} {name}: got {report.outcome}, expected {call.expected}; not kept")
                continue
            caller, _ = read_wav(Path(tmp) / f"{report.call_id}.wav", channel=1)
            if caller.nbytes > MAX_BYTES:
                print(f"{script} {name}: {caller.nbytes} bytes of audio; not kept (too long)")
                continue
            write_wav(OUT / f"{prefix}{name}.wav", caller, LINE_RATE)
            # answers the caller gave as values (numbers, yes/no); words and times are not
            answers = {
                k: v
                for k, v in report.records.items()
                if k != "lead.grade" and isinstance(v, (bool, int, float))
            }
            expected = {"script": script, "outcome": report.outcome, "records": answers}
            (OUT / f"{prefix}{name}.json").write_text(
                json.dumps(expected, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
            )
            print(f"{script} {name}: {report.outcome}, {len(caller) / LINE_RATE:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=["en", "zh"], help="one language's calls only")
    args = parser.parse_args()
    configure_threads()
    for script, (language, personas, prefix) in CALLS.items():
        if args.only in (None, language):
            make(script, personas, prefix)


if __name__ == "__main__":
    main()
