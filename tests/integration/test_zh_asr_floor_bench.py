"""A small sample of `./dev bench zh-asr-floor`: one real zh script line, a real voice (espeak-ng
reading pinyin: instant), the project's zh recogniser, through the phone channel and wide-band."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from benchmarks.zh_asr_floor import floor
from benchmarks.zh_voices import ASR_RATE, TURN_PAD_S, EspeakPinyin, padded, zh_lines


def test_a_line_keeps_its_samples_between_the_quiet() -> None:
    line = np.arange(1, 801, dtype=np.int16)
    out = padded(line)
    pad = int(TURN_PAD_S * ASR_RATE)
    assert out.dtype == np.int16 and len(out) == len(line) + 2 * pad
    assert np.array_equal(out[pad:-pad], line) and not out[:pad].any() and not out[-pad:].any()


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is installed by set-up")
def test_every_voice_channel_and_beam_gets_a_row(store) -> None:  # type: ignore[no-untyped-def]
    rows = floor([EspeakPinyin()], zh_lines(1), store, [1])
    assert [(r["channel"], r["beam"], r["lines"]) for r in rows] == [
        ("phone", 1, 1),
        ("wide", 1, 1),
    ]
    for row in rows:
        assert 0.0 <= row["syllable_error"] <= row["cer"]
        assert row["decode_p50_ms"] > 0
