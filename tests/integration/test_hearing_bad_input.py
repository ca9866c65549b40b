"""Bad input on the real recogniser through the listener: line noise, a 25 s monologue, a
clipped and a DC-offset recording. No crash; noise is nothing, speech is words or "heard, not
understood"."""

import asyncio

import numpy as np
import pytest

from tests.conftest import FIXTURES
from voicebot.asr.whisper import SAMPLE_RATE
from voicebot.audio.frames import split_frames
from voicebot.audio.g711 import ulaw_decode, ulaw_encode
from voicebot.audio.wav import read_wav
from voicebot.core.clock import VirtualClock
from voicebot.session.listener import HeardTurn, Listener
from voicebot.vad.endpoint import EndpointConfig

pytestmark = pytest.mark.integration


async def _turns(store, pcm: np.ndarray) -> list[HeardTurn]:  # type: ignore[no-untyped-def]
    listener = Listener(store.asr("en"), VirtualClock(), EndpointConfig())
    for frame in split_frames(np.concatenate([pcm, np.zeros(8000, np.int16)]), SAMPLE_RATE):
        listener.push(frame)
    await listener.drain()
    turns = []
    while not listener.turns.empty():
        turns.append(listener.turns.get_nowait())
    await listener.aclose()
    return turns


def _speech() -> np.ndarray:
    pcm, _ = read_wav(FIXTURES / "audio" / "en_rating.wav", rate=SAMPLE_RATE)
    return pcm


def test_line_noise_is_nothing(store) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(3)
    noise = np.clip(rng.normal(0, 2500, 3 * SAMPLE_RATE), -32768, 32767).astype(np.int16)
    for turn in asyncio.run(_turns(store, ulaw_decode(ulaw_encode(noise)))):
        assert turn.transcript.text == "" and not turn.words_lost, turn.transcript


def test_a_25_second_monologue_is_heard(store) -> None:  # type: ignore[no-untyped-def]
    speech = _speech()
    pause = np.zeros(int(0.15 * SAMPLE_RATE), np.int16)  # under the hangover: one long turn
    monologue = np.concatenate([np.concatenate([speech, pause])] * 30)[: 25 * SAMPLE_RATE]
    turns = asyncio.run(_turns(store, monologue))
    assert turns and any(t.transcript.text for t in turns)


def test_a_clipped_recording_is_words_or_heard_not_understood(store) -> None:  # type: ignore[no-untyped-def]
    bad = np.clip(_speech().astype(np.int32) * 20, -32768, 32767).astype(np.int16)
    turns = asyncio.run(_turns(store, bad))
    assert turns
    assert all(t.transcript.text or t.words_lost for t in turns if t.speech_s >= 0.3)


def test_a_dc_offset_recording_does_not_crash_the_listener(store) -> None:  # type: ignore[no-untyped-def]
    """The recogniser removes the offset itself (a DC step is no tone), but through the
    listener the turn's audio window is cut short: its words are lost (an open issue)."""
    bad = np.clip(_speech().astype(np.int32) + 6000, -32768, 32767).astype(np.int16)
    assert store.asr("en").transcribe(bad).text
    assert asyncio.run(_turns(store, bad))
