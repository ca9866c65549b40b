"""`voicebot demo` on bundled sample audio: each caller clip goes through the real stages
(VAD -> ASR -> intent) and the bot's reply is synthesised, as on a call."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
import yaml

from voicebot.asr.whisper import SAMPLE_RATE
from voicebot.audio.frames import split_frames
from voicebot.audio.wav import read_wav, write_wav
from voicebot.core.clock import VirtualClock
from voicebot.core.stages import ModelStore
from voicebot.nlu.intents import IntentClassifier
from voicebot.session.listener import Listener
from voicebot.tts.stage import TextToSpeech

SAMPLES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "audio"
PROMPTS = Path(__file__).resolve().parent.parent / "prompts"


async def run_demo(out: Path, store: ModelStore) -> list[dict[str, object]]:
    clips = yaml.safe_load((SAMPLES / "clips.yaml").read_text(encoding="utf-8"))
    rows: list[dict[str, object]] = []
    classifiers: dict[str, IntentClassifier] = {}
    for name, clip in clips.items():
        lang = clip["language"]
        if lang not in classifiers:
            library = yaml.safe_load(
                (PROMPTS / "intents" / f"common.{lang}.yaml").read_text("utf-8")
            )
            classifiers[lang] = IntentClassifier(store.encoder(lang)).fit(library["intents"])
        pcm, _ = read_wav(SAMPLES / f"{name}.wav", rate=SAMPLE_RATE)
        listener = Listener(store.asr(lang), VirtualClock(), store.config.endpoint)
        for frame in split_frames(np.concatenate([pcm, np.zeros(8000, np.int16)]), SAMPLE_RATE):
            listener.push(frame)
        await listener.drain()
        heard = " ".join(listener.turns.get_nowait().transcript.text
                         for _ in range(listener.turns.qsize()))  # fmt: skip
        await listener.aclose()
        start = time.perf_counter()
        intent = classifiers[lang].classify(heard) if heard else None
        reply = f"Understood: {intent.intent.replace('_', ' ')}." if intent else "Sorry?"
        if lang == "zh":
            reply = "好的，明白了。" if intent else "不好意思？"
        tts = TextToSpeech(store.voice(lang), rate=8000)
        audio = np.concatenate([a async for a in tts.stream(reply)])
        write_wav(out / f"{name}.reply.wav", audio, 8000)
        rows.append({
            "clip": name, "heard": heard, "intent": intent.intent if intent else "-",
            "confidence": round(intent.confidence, 2) if intent else 0.0,
            "reply_s": round(len(audio) / 8000, 2),
            "nlu_tts_ms": round((time.perf_counter() - start) * 1000),
        })  # fmt: skip
    return rows


def main(out: Path) -> int:
    store = ModelStore()
    out.mkdir(parents=True, exist_ok=True)
    rows = asyncio.run(run_demo(out, store))
    print(f"{'clip':<14} {'intent':<16} {'conf':>5}  heard")
    for r in rows:
        print(f"{r['clip']!s:<14} {r['intent']!s:<16} {r['confidence']!s:>5}  {r['heard']}")
    print(f"\nreplies written to {out}/")
    return 0
