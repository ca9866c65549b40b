"""`voicebot bench understanding` on a small sample: clips are rendered, heard and scored, and
the JSON, markdown and confusion chart are written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from voicebot.cli import main

pytestmark = pytest.mark.e2e


def test_a_small_sample_of_both_languages_is_scored(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "results"
    code = main(["bench", "understanding", "--split", "dev", "--limit", "3", "--out", str(out)])
    assert code == 0
    result = json.loads((out / "understanding.json").read_text(encoding="utf-8"))
    for language in ("en", "zh"):
        stats = result["languages"][language]
        assert stats["speech_clips"] == 6 and stats["noise_clips"] == 8
        assert 0.0 <= stats["intent_accuracy"] <= 1.0
        assert stats["noise_to_words_rate"] is not None
        rows = result["rows"][language]
        assert all(r["split"] == "dev" and r["labels"] for r in rows)
    assert "| intent accuracy |" in (out / "understanding.md").read_text(encoding="utf-8")
    png = (out / "understanding_confusion.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Understanding benchmark (dev split)" in capsys.readouterr().out
