"""Regenerate the speech fixtures in tests/fixtures/audio (caller utterances through a phone line).

    .venv/bin/python scripts/make_fixtures.py

English from the bundled piper voice at varied speaking rates; Mandarin from the Kokoro fallback.
Each clip is 0.4 s silence + speech + 0.6 s silence, 8 kHz mu-law round-tripped, stored as 8 kHz
16-bit PCM WAV, with its text in clips.yaml.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from voicebot.audio.g711 import phone_channel
from voicebot.audio.resample import resample
from voicebot.audio.wav import write_wav
from voicebot.models.store import ModelStore

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "audio"
CLIPS = {
    "en": [
        ("en_yes", "Yes, that's me.", 1.0),
        ("en_rating", "I would give it a four.", 1.15),
        ("en_callback", "Please call me back next Tuesday at three pm.", 0.95),
        ("en_stop", "I'm not interested, please stop calling me.", 1.0),
        ("en_who", "Who is this and how did you get my number?", 1.1),
        ("en_comment", "The technician was friendly and fixed the problem quickly.", 0.9),
        ("en_human", "Can I talk to a real person please?", 1.05),
        ("en_wrong", "Sorry, you have the wrong number.", 1.0),
    ],
    "zh": [
        ("zh_holder", "是的，我是本人。", 1.0),
        ("zh_expensive", "太贵了，我暂时不需要。", 1.0),
        ("zh_callback", "请明天下午三点给我回电话。", 1.0),
        ("zh_number", "你们怎么有我的电话？", 1.0),
    ],
}


def main() -> None:
    store = ModelStore()
    OUT.mkdir(parents=True, exist_ok=True)
    index = {}
    for language, clips in CLIPS.items():
        for name, text, scale in clips:
            voice = store.voice(language, scale)
            speech = np.concatenate([voice.synthesize(text)])
            pcm = resample(speech, voice.sample_rate, 8000)
            pad = lambda s: np.zeros(int(8000 * s), np.int16)  # noqa: E731
            line = phone_channel(np.concatenate([pad(0.4), pcm, pad(0.6)]), 8000)
            write_wav(OUT / f"{name}.wav", line, 8000)
            index[name] = {"language": language, "text": text}
            print(f"{name}: {len(line) / 8000:.2f} s")
    (OUT / "clips.yaml").write_text(yaml.safe_dump(index, allow_unicode=True, sort_keys=True))


if __name__ == "__main__":
    main()
