"""`voicebot bench replay` on recorded calls, in virtual time: results for good files and a clear
per-file error for each bad one, while the rest of the batch completes."""

from __future__ import annotations

import json
import shutil
import wave
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from tests.conftest import ROOT
from voicebot.app.stages import ScriptStages
from voicebot.audio.wav import write_wav
from voicebot.bench.replay import stages_for
from voicebot.bench.run import load_all, run_bench

pytestmark = pytest.mark.e2e
CALLS = ROOT / "benchmarks" / "data" / "calls"


def test_shipped_recordings_have_expectations_in_both_languages() -> None:
    wavs = sorted(CALLS.glob("*.wav"))
    scripts = []
    for wav in wavs:
        expected = json.loads(wav.with_suffix(".json").read_text(encoding="utf-8"))
        assert expected["outcome"] and (ROOT / "prompts" / f"{expected['script']}.yaml").is_file()
        assert wav.stat().st_size < 800_000, wav  # small files: 50 s of 8 kHz speech at most
        scripts.append(expected["script"])
    assert scripts.count("survey_en") >= 5
    assert scripts.count("upgrade_zh") >= 2


def test_each_recording_is_replayed_with_the_script_it_was_made_with(store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    calls = tmp_path / "calls"
    calls.mkdir()
    shutil.copy(CALLS / "refuses.wav", calls / "en_call.wav")  # no script named: the batch's
    for name, script in (("zh_call", "upgrade_zh"), ("lost", "no_such_script")):
        shutil.copy(CALLS / "refuses.wav", calls / f"{name}.wav")
        (calls / f"{name}.json").write_text(json.dumps({"script": script, "outcome": "refused"}))
    english = ScriptStages(ROOT / "prompts" / "survey_en.yaml", store)
    scripts = {english.script.name: english}
    recordings, errors = load_all(calls, english, None, scripts)
    [error] = errors
    assert "lost.json: expects script 'no_such_script'" in error
    assert str(ROOT / "prompts" / "no_such_script.yaml") in error
    assert {r.path.name: r.script for r in recordings} == {
        "en_call.wav": "survey_en",
        "zh_call.wav": "upgrade_zh",
    }
    zh = next(r for r in recordings if r.script == "upgrade_zh")
    assert (
        stages_for(scripts, zh) is scripts["upgrade_zh"] and scripts["upgrade_zh"].language == "zh"
    )


def test_replay_batch_reports_bad_files_and_completes_the_rest(tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    calls.mkdir()
    for name in ("wrong_person", "refuses"):
        shutil.copy(CALLS / f"{name}.wav", calls)
        shutil.copy(CALLS / f"{name}.json", calls)
    (calls / "corrupt.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage")
    with wave.open(str(calls / "empty.wav"), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
    write_wav(calls / "silence.wav", np.zeros(8000 * 12, np.int16), 8000)
    write_wav(calls / "half_hour.wav", np.zeros(8000 * 60 * 30, np.int16), 8000)
    shutil.copy(CALLS / "wrong_person.wav", calls / "mismatch.wav")
    (calls / "mismatch.json").write_text(
        json.dumps({"script": "survey_en", "outcome": "completed", "records": {"survey.colour": 3}})
    )

    out = tmp_path / "results"
    result = run_bench(
        calls,
        ROOT / "prompts" / "survey_en.yaml",
        out,
        levels=[1],
        baseline=None,
        channel=None,
        virtual=True,
        console=Console(),
    )

    errors = "\n".join(result["file_errors"])
    assert "corrupt.wav: not a PCM WAV file" in errors
    assert "empty.wav: contains no audio samples" in errors
    assert "half_hour.wav: 30.0 min long" in errors
    assert "mismatch.json: records.survey.colour: the script survey_en never records it" in errors
    rows = {r["file"]: r for r in result["levels"]["1"]["per_file"]}
    assert set(rows) == {"wrong_person.wav", "refuses.wav", "silence.wav"}
    assert rows["wrong_person.wav"]["outcome_ok"] and rows["refuses.wav"]["outcome_ok"]
    assert rows["silence.wav"]["error"] == "no speech heard in the recording"
    assert rows["silence.wav"]["outcome"] == "hung_up"  # the recording ends first
    assert result["levels"]["1"]["stages_ms"]["end_to_end"]["n"] >= 2
    assert (out / "replay.md").read_text().startswith("# Replay benchmark")
    png = (out / "replay_latency.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
