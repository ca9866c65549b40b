"""The line cache keeps fixed lines (on disk when asked) and personal lines in memory only,
bounded by bytes, least recently used first out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from voicebot.tts.stage import LineCache

pytestmark = pytest.mark.unit


def line(seconds: float) -> np.ndarray:
    return np.ones(int(8000 * seconds), np.int16)


def test_personal_lines_never_reach_the_disk_and_stay_under_the_cap(tmp_path: Path) -> None:
    cache = LineCache(tmp_path, personal_bytes=100_000)  # ~6 s of 8 kHz audio
    cache.put("fixed", line(1))
    for i in range(40):  # 40 contacts, 2 s each: 640 kB if kept
        cache.put(f"contact-{i}", line(2), personal=True)
        assert cache.personal_size <= 100_000
    assert [p.stem for p in tmp_path.glob("*.npy")] == ["fixed"]
    assert cache.get("contact-39") is not None and cache.get("contact-0") is None
    assert cache.get("fixed") is not None and LineCache(tmp_path).get("fixed") is not None


def test_a_line_used_again_is_kept_over_older_ones() -> None:
    cache = LineCache(personal_bytes=3 * 16_000)
    for name in ("a", "b", "c"):
        cache.put(name, line(1), personal=True)
    assert cache.get("a") is not None  # a is now the most recent
    cache.put("d", line(1), personal=True)
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("d") is not None


def test_a_dropped_line_frees_its_bytes_and_fixed_lines_cannot_be_dropped() -> None:
    cache = LineCache(personal_bytes=10 * 16_000)
    cache.put("fixed", line(1))
    cache.put("a", line(1), personal=True)
    cache.put("b", line(2), personal=True)
    assert cache.personal_size == 3 * 16_000 and cache.personal_count == 2
    assert cache.drop("b") and not cache.drop("b") and not cache.drop("fixed")
    assert cache.personal_size == 16_000 and cache.get("b") is None
    assert cache.get("a") is not None and cache.get("fixed") is not None
