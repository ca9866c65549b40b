import warnings

import numpy as np
import pytest

from voicebot.audio import g711

pytestmark = pytest.mark.unit

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # the reference coder, removed in Python 3.13

ALL = np.arange(-32768, 32768, dtype=np.int16)
CODES = bytes(range(256))


def test_ulaw_matches_reference_coder_for_every_sample() -> None:
    assert bytes(g711.ulaw_encode(ALL)) == audioop.lin2ulaw(ALL.tobytes(), 2)
    assert g711.ulaw_decode(CODES).tobytes() == audioop.ulaw2lin(CODES, 2)


def test_alaw_matches_reference_coder_for_every_sample() -> None:
    assert bytes(g711.alaw_encode(ALL)) == audioop.lin2alaw(ALL.tobytes(), 2)
    assert g711.alaw_decode(CODES).tobytes() == audioop.alaw2lin(CODES, 2)


def test_phone_channel_keeps_speech_band_and_length() -> None:
    t = np.arange(16000) / 16000
    tone = (0.5 * np.sin(2 * np.pi * 1000 * t) * 32767).astype(np.int16)
    out = g711.phone_channel(tone, 16000)
    assert abs(len(out) - len(tone)) <= 2
    corr = np.corrcoef(out[200:-200].astype(float), tone[200:-200].astype(float))[0, 1]
    assert corr > 0.95
