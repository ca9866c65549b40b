"""Is there a voice in this turn? Asked only when the recogniser gave no usable text, to tell a
caller who was not understood ("heard, not understood": the clarify line) from a cough, a tone or
line noise (nothing at all). asr/whisper.py `words_lost` takes it beside whisper's own judgement.

whisper's `no_speech_prob` alone misses many: on the understanding benchmark's dev split it was
above 0.6 for real Mandarin answers ("五分。", "挺满意的。") as often as for breaths and clicks.
Silero VAD told them apart there: every dev non-speech clip (tones, DTMF, coughs, breaths,
clicks, hum, line noise) stayed under 0.25 speech probability in every 32 ms chunk; every real
answer that the recogniser dropped had 0.26 s or more of chunks above 0.5.

The model is the Silero VAD v6 ONNX file inside the faster-whisper wheel (MIT), run on
onnxruntime: nothing is downloaded; ~5 ms for a 3 s turn.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from voicebot.audio.frames import as_float32

SAMPLE_RATE = 16_000
CHUNK = 512  # samples the model scores at a time (32 ms at 16 kHz)
SPEECH_PROB = 0.5  # a chunk above this is voice (Silero's own default threshold)
# A turn with at least this much voice holds words. Dev split: non-speech 0.0 s, the shortest
# dropped answer ("Eight.") 0.26 s.
MIN_VOICED_S = 0.2

_lock = threading.Lock()
_model: Any = None


def load() -> Any:
    """The model, loaded once per process (recognisers load it with themselves)."""
    global _model
    with _lock:
        if _model is None:
            from faster_whisper.vad import get_vad_model

            _model = get_vad_model()
        return _model


def voiced_seconds(pcm: np.ndarray) -> float:
    """Seconds of 16 kHz mono audio that Silero VAD takes for voice."""
    audio = as_float32(pcm)
    if len(audio) < CHUNK:
        return 0.0
    audio = np.pad(audio, (0, -len(audio) % CHUNK))
    probs = np.asarray(load()(audio)).reshape(-1)
    return float(np.count_nonzero(probs > SPEECH_PROB)) * CHUNK / SAMPLE_RATE
