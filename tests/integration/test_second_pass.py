"""A closed question's second pass rescores the expected answers against the turn's audio with
the encoding its first decode made: the same scores, one encoder run fewer."""

from typing import Any

import numpy as np
import pytest

from tests.conftest import ROOT
from voicebot.audio.resample import resample
from voicebot.audio.wav import read_wav
from voicebot.metrics.ear import frame_dbfs, utterances

pytestmark = pytest.mark.integration


class CountingEncoder:
    """The real CTranslate2 model, with its encoder runs counted."""

    def __init__(self, model: Any) -> None:
        self.model, self.runs = model, 0

    def encode(self, *args: Any, **kwargs: Any) -> Any:
        self.runs += 1
        return self.model.encode(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)


def test_the_second_pass_reuses_the_first_decodes_encoding(store) -> None:  # type: ignore[no-untyped-def]
    pcm, _ = read_wav(ROOT / "benchmarks" / "data" / "calls" / "cooperative.wav", rate=8000)
    start, end = utterances(frame_dbfs(pcm, 8000))[1]  # "Yes, speaking."
    turn = resample(pcm[int(start * 8000) : int(end * 8000)], 8000, 16000)
    asr = store.asr("en")
    counting = CountingEncoder(asr.model.model)
    asr.model.model = counting
    try:
        heard = asr.transcribe(turn, "Am I speaking with Ann Lee?")
        scores = asr.score(turn, ["yes", "no"], "Am I speaking with Ann Lee?")
        assert counting.runs == 1, "the second pass encoded the turn again"
        asr._encoded.clear()
        again = asr.score(turn, ["yes", "no"], "Am I speaking with Ann Lee?")
        assert counting.runs == 2
    finally:
        asr.model.model = counting.model
    assert "speaking" in heard.text.lower()
    assert np.allclose(scores, again)  # a kept encoding scores as a fresh one
    assert scores[0] > scores[1]  # and the caller's yes is the answer that fits
