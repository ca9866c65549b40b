"""Regenerate the answering-machine fixtures in tests/fixtures/audio/greetings.

    .venv/bin/python scripts/make_greetings.py

What the bot hears right after a call is answered: a person's short hello, or a machine greeting
followed by a beep (and silence, the machine recording). English from the bundled piper voice,
Mandarin from the Kokoro fallback; 8 kHz mu-law round-tripped, 16-bit PCM WAV; texts in
greetings.yaml.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from voicebot.audio.g711 import phone_channel
from voicebot.audio.resample import resample
from voicebot.audio.wav import write_wav
from voicebot.models.store import ModelStore

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "audio" / "greetings"
RATE = 8000
# name: (language, text, beep Hz or None, seconds of silence after)
GREETINGS = {
    "en_human": ("en", "Hello?", None, 3.0),
    "en_machine": (
        "en",
        "Hi, you've reached Ann. I can't take your call right now. "
        "Please leave a message after the tone.",
        1000.0,
        6.0,
    ),
    "en_machine_beep_only": ("en", "Hi, it's Jo. Back soon.", 850.0, 6.0),
    "zh_human": ("zh", "喂，你好？", None, 3.0),
    "zh_machine": ("zh", "您好，您拨打的用户暂时无法接听，请在提示音后留言。", 1000.0, 6.0),
}


def beep(hz: float, seconds: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (9000 * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def main() -> None:
    store = ModelStore()
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (language, text, hz, after) in GREETINGS.items():
        voice = store.voice(language)
        speech = resample(voice.synthesize(text), voice.sample_rate, RATE)
        parts = [np.zeros(int(0.3 * RATE), np.int16), speech]
        if hz is not None:
            parts += [np.zeros(int(0.4 * RATE), np.int16), beep(hz)]
        parts.append(np.zeros(int(after * RATE), np.int16))
        write_wav(OUT / f"{name}.wav", phone_channel(np.concatenate(parts), RATE), RATE)
    index = {n: {"language": g[0], "text": g[1], "beep_hz": g[2]} for n, g in GREETINGS.items()}
    (OUT / "greetings.yaml").write_text(yaml.safe_dump(index, allow_unicode=True, sort_keys=False))


if __name__ == "__main__":
    main()
