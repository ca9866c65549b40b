"""The understanding benchmark's scores: how well each turn was heard, and rescoring a run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.understanding import run
from benchmarks.understanding.metrics import score, turn_error


def _row(text: str, heard: str, ok: bool = True, expect: str = "affirm") -> dict[str, Any]:
    return {
        "text": text,
        "heard": heard,
        "raw": heard,
        "dropped": "",
        "ok": ok,
        "kind": "intent",
        "expect": expect,
        "also": [],
        "yes_no": False,
        "labels": [expect if ok else "unclear"],
        "voice": "v",
        "condition": "clean",
        "decode_s": 0.1,
        "intent": expect,
        "understood": expect if ok else "unclear",
    }


def test_turn_error_counts_words_in_english_and_characters_in_mandarin() -> None:
    assert turn_error(_row("Yes, this is she.", "yes this is she"), "en") == 0.0
    misheard = _row("I'm her daughter, she's out.", "I'm Sir Nogger, team out.")
    assert turn_error(misheard, "en") == 0.6
    assert turn_error(_row("No.", ""), "en") == 1.0
    assert turn_error(_row("不可以。", "好可爱"), "zh") == pytest.approx(2 / 3)


def test_intent_accuracy_is_also_given_on_the_turns_the_recogniser_heard_well() -> None:
    rows = [
        _row("Yes, go ahead.", "Yes, go ahead.", True),
        _row("Stop calling me.", "Stop calling me.", False, "stop_calling"),
        _row("I'm her daughter, she's out.", "I'm Sir Nogger, team out.", False, "wrong_person"),
        _row("Who is this?", "", False, "who_are_you"),
    ]
    stats = score(rows, "en")
    assert stats["intent_accuracy"] == 0.25
    assert stats["heard_well_n"] == 2 and stats["intent_accuracy_heard_well"] == 0.5
    assert stats["words_lost_rate"] == 0.5


def test_rescore_writes_the_report_of_an_earlier_run_again(tmp_path: Path) -> None:
    rows = [_row("Yes, go ahead.", "Yes, go ahead.", True), _row("No.", "", False, "deny")]
    earlier = {
        "split": "dev",
        "languages": {"en": {"asr": "whisper-tiny-en", "beam": 5, "intent_accuracy": 0.9}},
        "rows": {"en": rows},
        "seconds": 1.0,
    }
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(earlier), encoding="utf-8")
    assert run.main(["--rescore", str(path)]) == 0
    again = json.loads(path.read_text(encoding="utf-8"))["languages"]["en"]
    assert again["asr"] == "whisper-tiny-en" and again["intent_accuracy"] == 0.5
    assert again["heard_well_n"] == 1
    assert "turns heard well" in (tmp_path / "dev.md").read_text(encoding="utf-8")


def test_rescore_of_a_file_that_is_no_result_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(SystemExit, match=r"broken\.json"):
        run.main(["--rescore", str(path)])
