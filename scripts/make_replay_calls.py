"""Regenerates benchmarks/data/calls: the callee side of simulated survey calls (what the bot
heard, 8 kHz mono) with the expected outcome and answers, for `voicebot bench replay`.

    .venv/bin/python scripts/make_replay_calls.py
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path

from voicebot.app.stages import LINE_RATE
from voicebot.audio.wav import read_wav, write_wav
from voicebot.core.clock import VirtualClock
from voicebot.core.runtime import configure_threads
from voicebot.models.store import ModelStore
from voicebot.sim.persona import load_persona
from voicebot.sim.trial import Trial

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "data" / "calls"
PERSONAS = ["cooperative", "refuses", "busy", "asks_for_person", "wrong_person", "talks_over"]


def main() -> None:
    configure_threads()
    with tempfile.TemporaryDirectory() as tmp:
        trial = Trial(ROOT / "prompts" / "survey_en.yaml", ModelStore(), record_to=Path(tmp))
        trial.prerender()
        OUT.mkdir(parents=True, exist_ok=True)
        for name in PERSONAS:
            clock = VirtualClock()
            call = asyncio.run(clock.run(trial.call(load_persona(name), clock)))
            report = call.report
            if not call.passed:
                print(f"{name}: got {report.outcome}, expected {call.expected}; not kept")
                continue
            caller, _ = read_wav(Path(tmp) / f"{report.call_id}.wav", channel=1)
            write_wav(OUT / f"{name}.wav", caller, LINE_RATE)
            answers = {
                k: v
                for k, v in report.records.items()
                if k.startswith("survey.") and not isinstance(v, str)
            }
            expected = {"script": "survey_en", "outcome": report.outcome, "records": answers}
            (OUT / f"{name}.json").write_text(json.dumps(expected, indent=2) + "\n")
            print(f"{name}: {report.outcome}, {len(caller) / LINE_RATE:.0f} s")


if __name__ == "__main__":
    main()
