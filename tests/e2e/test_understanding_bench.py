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


def test_long_turns_are_heard_to_their_last_sentence_on_a_small_sample(tmp_path: Path) -> None:
    """`python -m benchmarks.long_turns`: two-sentence turns by a voice unlike the bot's; the
    beam the bot decodes with keeps the words of every sentence, as greedy decoding does."""
    from benchmarks.long_turns import main as long_turns
    from benchmarks.long_turns import recall

    assert recall("en", "No. I'm her husband.", "No.") == 0.25
    assert recall("zh", "是我。你说吧。", "是我") == pytest.approx(0.4)
    assert (
        long_turns(["--languages", "en", "--limit", "2", "--voices", "1", "--out", str(tmp_path)])
        == 0
    )
    result = json.loads((tmp_path / "long_turns.json").read_text(encoding="utf-8"))
    summary = result["summary"]["en"]
    assert summary["turns"] == 2 and summary["lost_tail_beam5"] == 0
    for row in result["rows"]:
        assert row["recall5"] >= 0.5, row  # the second sentence is there, not only the first
    assert "| en | 2 |" in (tmp_path / "long_turns.md").read_text(encoding="utf-8")
