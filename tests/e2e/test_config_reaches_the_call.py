"""A setting in the user's config file reaches a real call: the end-of-turn hangover written in
`call.endpoint` changes when the bot answers, through the `voicebot console` entry point."""

from __future__ import annotations

import json
from pathlib import Path
from statistics import median

import pytest

from tests.conftest import ROOT
from voicebot.app.console import run_console
from voicebot.cli import main
from voicebot.metrics.report import CallReport

pytestmark = pytest.mark.e2e
CALLER = ROOT / "benchmarks" / "data" / "calls" / "cooperative.wav"
SCRIPT = ROOT / "prompts" / "survey_en.yaml"


def endpoint_waits(report: CallReport) -> list[float]:
    return [t.latency.endpoint_at - t.latency.speech_end for t in report.turns]


def test_a_longer_hangover_in_the_config_makes_the_bot_wait_longer(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    default = run_console(
        SCRIPT, store, {}, mic=CALLER, speaker=tmp_path / "a.wav", write=lambda _: None
    )
    config = tmp_path / "voicebot.yaml"
    config.write_text("call:\n  endpoint:\n    hangover_ms: 900\n", encoding="utf-8")
    out = tmp_path / "slow.json"
    argv = ["console", str(SCRIPT), "--mic", str(CALLER), "--speaker", str(tmp_path / "b.wav")]
    assert main([*argv, "--config", str(config), "--report", str(out)]) == 0
    slow = CallReport.model_validate(json.loads(out.read_text(encoding="utf-8")))

    assert slow.config["endpoint"]["hangover_ms"] == 900
    assert default.config["endpoint"]["hangover_ms"] == 300
    assert median(endpoint_waits(default)) == pytest.approx(0.3, abs=0.05)
    assert median(endpoint_waits(slow)) == pytest.approx(0.9, abs=0.05)
    gap = median(slow.latencies_ms("end_to_end")) - median(default.latencies_ms("end_to_end"))
    assert gap > 450  # the caller hears the bot later, by about the extra hangover
