"""The voice detector that judges a turn whose words the recogniser dropped (asr/voiced.py), on
the real Silero model: recorded answers in both languages through a phone line hold a voice;
tones, DTMF, line noise and clicks hold none. And the rule it feeds: a dropped turn with a voice
is "heard, not understood" whatever whisper's no-speech probability says; one that neither
detector takes for speech is nothing."""

import numpy as np
import pytest

from tests.conftest import FIXTURES
from voicebot.asr.voiced import MIN_VOICED_S, voiced_seconds
from voicebot.asr.whisper import SAMPLE_RATE, Transcript, words_lost
from voicebot.audio.g711 import ulaw_decode, ulaw_encode
from voicebot.audio.resample import resample
from voicebot.audio.wav import read_wav

pytestmark = pytest.mark.integration
T = np.arange(SAMPLE_RATE * 2) / SAMPLE_RATE


def phone(name: str) -> np.ndarray:
    """A fixture recording as the bot gets it: 8 kHz mu-law, back to 16 kHz."""
    pcm, _ = read_wav(FIXTURES / "audio" / name, rate=8000)
    return resample(ulaw_decode(ulaw_encode(pcm)), 8000, SAMPLE_RATE)


@pytest.mark.parametrize("name", ["en_rating.wav", "en_yes.wav", "zh_number.wav", "zh_holder.wav"])
def test_recorded_answers_hold_a_voice(name: str) -> None:
    assert voiced_seconds(phone(name)) >= MIN_VOICED_S


def _clicks() -> np.ndarray:
    x = np.zeros(len(T))
    x[:: SAMPLE_RATE // 7] = 0.8
    return x


@pytest.mark.parametrize(
    "kind, audio",
    [
        ("dial tone", 0.2 * (np.sin(2 * np.pi * 350 * T) + np.sin(2 * np.pi * 440 * T))),
        ("dtmf 5", 0.2 * (np.sin(2 * np.pi * 770 * T) + np.sin(2 * np.pi * 1336 * T))),
        ("line noise", np.random.default_rng(4).normal(0, 0.05, len(T))),
        ("clicks", _clicks()),
        ("digital silence", np.zeros(len(T))),
    ],
)
def test_tones_and_noise_hold_none(kind: str, audio: np.ndarray) -> None:
    assert voiced_seconds(audio.astype(np.float32)) < MIN_VOICED_S, kind


def _dropped(voiced_s: float | None, no_speech: float = 0.85) -> Transcript:
    return Transcript(
        "",
        "zh",
        0.0,
        no_speech,
        1.0,
        0.2,
        10.0,
        f"no_speech_prob {no_speech}",
        "五分",
        -1.0,
        voiced_s,
    )


def test_a_dropped_turn_with_a_voice_is_heard_not_understood() -> None:
    assert words_lost(_dropped(0.7), speech_s=0.8)  # whisper unsure it was speech: it was
    assert words_lost(_dropped(0.0, no_speech=0.1), speech_s=0.8)  # whisper sure: enough
    assert not words_lost(_dropped(0.0), speech_s=0.8)  # neither hears a voice: nothing
    assert not words_lost(_dropped(0.7), speech_s=0.2)  # a click-length turn stays nothing
    assert words_lost(_dropped(0.7), speech_s=0.7 - 0.4)  # 15 frames are 0.3 s, float or not
    # a transcript nobody measured falls back to whisper's own judgement
    assert not words_lost(_dropped(None), speech_s=0.8)
    assert words_lost(_dropped(None, no_speech=0.1), speech_s=0.8)


def test_the_recogniser_measures_the_voice_of_what_it_drops(store) -> None:  # type: ignore[no-untyped-def]
    asr = store.asr("en")
    noise = asr.transcribe(np.random.default_rng(5).normal(0, 0.05, len(T)).astype(np.float32))
    assert noise.text == "" and noise.voiced_s is not None and noise.voiced_s < MIN_VOICED_S
    heard = asr.transcribe(phone("en_rating.wav"))
    assert heard.text and heard.voiced_s is None  # kept words need no second opinion
