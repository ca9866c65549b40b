"""A small sample of `./dev bench zh-voices`: two real zh script lines, a real voice (espeak-ng
reading pinyin: instant), the phone channel and the project's zh recogniser."""

from __future__ import annotations

import shutil

import pytest

from benchmarks.understanding.metrics import edit_distance
from benchmarks.zh_voices import EspeakPinyin, measure, syllables, zh_lines


def test_syllables_make_same_sounding_characters_equal() -> None:
    assert syllables(list("回电")) == syllables(list("回店")) == ["hui", "dian"]
    assert edit_distance(syllables(list("智能回电")), syllables(list("只能回店"))) == 0
    assert edit_distance(syllables(list("您")), syllables(list("你"))) == 1  # nin, ni
    assert edit_distance(syllables(list("回电")), syllables(list("回家"))) == 1


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is installed by set-up")
def test_a_voice_is_scored_on_script_lines_through_the_phone_channel(store) -> None:  # type: ignore[no-untyped-def]
    lines = zh_lines(2)
    assert len(lines) == 2 and all(any("\u4e00" <= c <= "\u9fff" for c in t) for t in lines)
    row = measure(EspeakPinyin(), lines, store.asr("zh"))
    assert row["lines"] == 2 and [r["text"] for r in row["every_line"]] == lines
    assert 0.0 <= row["syllable_error"] <= row["cer"]  # a right sound may be a wrong character
    assert row["rtf"] > 0 and row["render_ms_per_line"] > 0
