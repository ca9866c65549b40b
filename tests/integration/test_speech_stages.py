"""The stages on real models and real clips (tests/fixtures/audio, made by
scripts/make_fixtures.py: synthetic callers through an 8 kHz mu-law phone line)."""

import asyncio
import re

import numpy as np
import pytest
import yaml

from tests.conftest import FIXTURES, ROOT
from voicebot.asr.whisper import SAMPLE_RATE
from voicebot.audio.frames import split_frames
from voicebot.audio.wav import read_wav
from voicebot.core.clock import VirtualClock
from voicebot.nlu.intents import IntentClassifier
from voicebot.session.listener import Listener
from voicebot.tts.stage import TextToSpeech
from voicebot.vad.endpoint import EndpointConfig

pytestmark = pytest.mark.integration
CLIPS = yaml.safe_load((FIXTURES / "audio" / "clips.yaml").read_text(encoding="utf-8"))


def _words(text: str) -> list[str]:
    text = text.lower().replace("3 p.m.", "three pm").replace("4", "four")
    return re.findall(r"[a-z']+", text)


def word_errors(ref: list[str], hyp: list[str]) -> int:
    d = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, d[0] = d[0], i
        for j, h in enumerate(hyp, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (r != h))
    return d[-1]


async def _hear(store, name: str, language: str) -> list:  # type: ignore[no-untyped-def]
    pcm, _ = read_wav(FIXTURES / "audio" / f"{name}.wav", rate=SAMPLE_RATE)
    listener = Listener(store.asr(language), VirtualClock(), EndpointConfig())
    for frame in split_frames(np.concatenate([pcm, np.zeros(8000, np.int16)]), SAMPLE_RATE):
        listener.push(frame)
    await listener.drain()
    turns = []
    while not listener.turns.empty():
        turns.append(listener.turns.get_nowait())
    await listener.aclose()
    return turns


def test_tiny_en_transcribes_phone_band_clips_with_low_wer(store) -> None:
    errors = words = 0
    for name, clip in CLIPS.items():
        if clip["language"] != "en":
            continue
        turns = asyncio.run(_hear(store, name, "en"))
        assert len(turns) == 1, (name, turns)
        ref, hyp = _words(clip["text"]), _words(turns[0].transcript.text)
        errors += word_errors(ref, hyp)
        words += len(ref)
    assert errors / words <= 0.10, f"WER {errors / words:.2%}"


def test_whisper_base_transcribes_mandarin_in_simplified_characters(store) -> None:
    errors = chars = 0
    for name, clip in CLIPS.items():
        if clip["language"] != "zh":
            continue
        turns = asyncio.run(_hear(store, name, "zh"))
        text = "".join(t.transcript.text for t in turns)
        ref = re.sub(r"\W", "", clip["text"])
        errors += char_errors(ref, re.sub(r"\W", "", text.replace("3", "三")))
        chars += len(ref)
        assert "電" not in text and "們" not in text  # traditional forms converted
    assert errors / chars <= 0.35, f"CER {errors / chars:.2%}"


def char_errors(ref: str, hyp: str) -> int:
    return word_errors(list(ref), list(hyp))


@pytest.mark.parametrize("kind", ["tone", "noise"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_tone_and_noise_produce_no_words(store, kind: str, language: str) -> None:
    t = np.arange(SAMPLE_RATE * 2) / SAMPLE_RATE
    signal = (
        0.3 * np.sin(2 * np.pi * 440 * t)
        if kind == "tone"
        else np.random.default_rng(7).normal(0, 0.1, len(t))
    )
    transcript = store.asr(language).transcribe(signal.astype(np.float32))
    assert transcript.text == "" and transcript.dropped


def test_speculative_decode_is_reused_when_caller_stays_silent(store) -> None:
    turns = asyncio.run(_hear(store, "en_yes", "en"))
    assert turns[0].speculative
    assert turns[0].speech_end < turns[0].endpoint_at


@pytest.mark.parametrize("language", ["en", "zh"])
def test_intent_accuracy_on_held_out_utterances(store, language: str) -> None:
    exemplars = yaml.safe_load(
        (ROOT / "prompts" / "intents" / f"common.{language}.yaml").read_text(encoding="utf-8")
    )["intents"]
    held = yaml.safe_load((FIXTURES / "intents_heldout.yaml").read_text(encoding="utf-8"))
    clf = IntentClassifier(store.encoder(language)).fit(exemplars)
    cases = [(u, intent) for intent, us in held[language].items() for u in us]
    assert not {u for u, _ in cases} & {e for es in exemplars.values() for e in es}
    correct = sum(clf.classify(u).intent == intent for u, intent in cases)
    assert correct / len(cases) >= 0.90
    result = clf.classify(cases[0][0])
    assert 0.0 <= result.confidence <= 1.0 and len(result.runners_up) == 3


def test_out_of_domain_utterance_gets_low_confidence(store) -> None:
    exemplars = yaml.safe_load(
        (ROOT / "prompts" / "intents" / "common.en.yaml").read_text(encoding="utf-8")
    )["intents"]
    clf = IntentClassifier(store.encoder("en")).fit(exemplars)
    assert clf.classify("my cat likes fish").confidence < 0.3
    assert clf.classify("stop calling me please").confidence > 0.5


def test_piper_streams_at_the_call_rate_and_caches_lines(store) -> None:
    tts = TextToSpeech(store.voice("en"), rate=8000)

    async def collect(text: str) -> list[np.ndarray]:
        return [pcm async for pcm in tts.stream(text)]

    line = "Thank you for your time today, we really appreciate it. Goodbye!"
    chunks = asyncio.run(collect(line))
    assert len(chunks) == 3 and all(c.dtype == np.int16 for c in chunks)
    seconds = sum(len(c) for c in chunks) / 8000
    assert 2.0 < seconds < 8.0
    assert tts.prerender([line]) == 3 and tts.prerender([line]) == 0
    cached = asyncio.run(collect(line))
    assert all(
        np.array_equal(a, b)
        for a, b in zip(
            cached,
            [
                tts.cache.get(tts.cache.key(tts.voice.name, 8000, s))
                for s in ["Thank you for your time today,", "we really appreciate it.", "Goodbye!"]
            ],
            strict=True,
        )
    )


def test_mandarin_fallback_voice_is_intelligible_to_whisper(store) -> None:
    from voicebot.audio.resample import resample

    voice = store.voice("zh")
    pcm = resample(voice.synthesize("你们怎么有我的电话？"), voice.sample_rate, SAMPLE_RATE)
    text = store.asr("zh").transcribe(pcm).text
    assert char_errors("你们怎么有我的电话", re.sub(r"\W", "", text)) <= 3, text


def test_a_line_cut_at_a_phrase_boundary_still_reads_as_one_sentence(store) -> None:
    tts = TextToSpeech(store.voice("en"), rate=SAMPLE_RATE)
    line = "Your appointment is booked for Tuesday morning at ten o'clock."

    async def collect() -> list[np.ndarray]:
        return [pcm async for pcm in tts.stream(line)]

    chunks = asyncio.run(collect())
    assert len(chunks) == 2
    heard = store.asr("en").transcribe(np.concatenate(chunks)).text
    assert word_errors(_words(line), _words(heard)) <= 1, heard
