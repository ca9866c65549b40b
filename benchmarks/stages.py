"""Per-stage latency benchmark on the fixed clip set (tests/fixtures/audio).

    .venv/bin/python benchmarks/stages.py [--reps 3]

Writes benchmarks/results/stages.json and stages.md. Clips are fed at real-time pace (20 ms
frames), as on a live call, so the speculative decode gets the head start it gets in production.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import time
from pathlib import Path

import numpy as np
import yaml

from voicebot.audio.frames import split_frames
from voicebot.audio.wav import read_wav
from voicebot.core.clock import RealClock
from voicebot.core.runtime import configure_threads
from voicebot.metrics.stats import Summary, summarize
from voicebot.models.store import ModelStore
from voicebot.nlu.intents import IntentClassifier
from voicebot.session.listener import Listener
from voicebot.tts.stage import TextToSpeech
from voicebot.vad.endpoint import EndpointConfig

ROOT = Path(__file__).resolve().parent.parent
CLIPS = ROOT / "tests" / "fixtures" / "audio"
RESULTS = ROOT / "benchmarks" / "results"
TEN_WORDS = [
    "Thank you for your time today, we really appreciate it.",
    "Could you please confirm your date of birth for me?",
    "Your appointment is booked for Tuesday morning at ten o'clock.",
    "On a scale of one to five, how satisfied were you?",
    "I will ask a colleague to call you back tomorrow.",
]


async def asr_latency(store: ModelStore, language: str, reps: int) -> dict[str, object]:
    clips = yaml.safe_load((CLIPS / "clips.yaml").read_text(encoding="utf-8"))
    names = [n for n, c in clips.items() if c["language"] == language]
    asr = store.asr(language)
    latencies, decodes, speculative, audio_s = [], [], 0, 0.0
    for _ in range(reps):
        for name in names:
            pcm, rate = read_wav(CLIPS / f"{name}.wav", rate=16000)
            clock = RealClock()
            listener = Listener(asr, clock, EndpointConfig())
            for frame in split_frames(pcm, rate):
                await asyncio.sleep(max(0.0, frame.t + frame.duration - clock.now()))
                listener.push(frame)
            for _ in range(50):  # trailing silence until the turn is confirmed
                if not listener.turns.empty():
                    break
                await asyncio.sleep(0.02)
            turn = await asyncio.wait_for(listener.turns.get(), 10)
            latencies.append(turn.asr_final_at - turn.speech_end)
            decodes.append(turn.transcript.decode_s)
            speculative += turn.speculative
            audio_s += turn.transcript.audio_s
            await listener.aclose()
    return {
        "speech_end_to_final_s": summarize(latencies).model_dump(),
        "decode_s": summarize(decodes).model_dump(),
        "speculative_reuse": speculative / len(latencies),
        "real_time_factor": sum(decodes) / audio_s,
    }


def intent_latency(store: ModelStore, language: str, reps: int) -> Summary:
    exemplars = yaml.safe_load(
        (ROOT / "prompts" / "intents" / f"common.{language}.yaml").read_text(encoding="utf-8")
    )["intents"]
    held = yaml.safe_load((ROOT / "tests/fixtures/intents_heldout.yaml").read_text("utf-8"))
    clf = IntentClassifier(store.encoder(language)).fit(exemplars)
    utterances = [u for us in held[language].values() for u in us]
    times = []
    for _ in range(reps):
        for u in utterances:
            start = time.perf_counter()
            clf.classify(u)
            times.append(time.perf_counter() - start)
    return summarize(times)


async def tts_latency(store: ModelStore, reps: int) -> dict[str, object]:
    tts = TextToSpeech(store.voice("en"), rate=8000)
    first, cached, synth, audio = [], [], 0.0, 0.0
    for _ in range(reps):
        for sentence in TEN_WORDS:
            tts.cache = type(tts.cache)()
            start = time.perf_counter()
            async for pcm in tts.stream(sentence):
                first.append(time.perf_counter() - start)
                synth += time.perf_counter() - start
                audio += len(pcm) / tts.rate
                break
            tts.prerender([sentence])
            start = time.perf_counter()
            async for _pcm in tts.stream(sentence):
                cached.append(time.perf_counter() - start)
                break
    return {
        "first_audio_s": summarize(first).model_dump(),
        "cached_first_audio_s": summarize(cached).model_dump(),
        "real_time_factor": synth / audio,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    store = ModelStore()
    results = {
        "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()},
        "asr_en": await asr_latency(store, "en", args.reps),
        "asr_zh": await asr_latency(store, "zh", max(1, args.reps // 2)),
        "intent_en_s": intent_latency(store, "en", args.reps).model_dump(),
        "intent_zh_s": intent_latency(store, "zh", args.reps).model_dump(),
        "tts_en": await tts_latency(store, args.reps),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "stages.json").write_text(json.dumps(results, indent=2))
    (RESULTS / "stages.md").write_text(markdown(results))
    print(markdown(results))


def markdown(r: dict) -> str:  # type: ignore[type-arg]
    ms = lambda s: f"{s['p50'] * 1000:.0f} / {s['p95'] * 1000:.0f}"  # noqa: E731
    rows = [
        ("ASR en: end of speech -> final", ms(r["asr_en"]["speech_end_to_final_s"]), "<= 350"),
        ("ASR en: decode time", ms(r["asr_en"]["decode_s"]), ""),
        ("ASR zh: end of speech -> final", ms(r["asr_zh"]["speech_end_to_final_s"]), ""),
        ("intent en", ms(r["intent_en_s"]), "<= 15"),
        ("intent zh", ms(r["intent_zh_s"]), "<= 15"),
        ("TTS en: first audio, 10 words", ms(r["tts_en"]["first_audio_s"]), "<= 120"),
        ("TTS en: cached line first audio", ms(r["tts_en"]["cached_first_audio_s"]), "<= 5"),
    ]
    lines = ["| stage | p50 / p95 (ms) | goal p50 (ms) |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    lines.append("")
    lines.append(
        f"ASR en RTF {r['asr_en']['real_time_factor']:.3f}, speculative decode reused "
        f"{r['asr_en']['speculative_reuse']:.0%}; "
        f"ASR zh RTF {r['asr_zh']['real_time_factor']:.3f}; "
        f"TTS en RTF {r['tts_en']['real_time_factor']:.3f}. Machine: {r['machine']}."
    )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    configure_threads()
    np.seterr(all="ignore")
    asyncio.run(main())
