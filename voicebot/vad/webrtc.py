"""Voice activity: webrtcvad per frame, fed into the end-of-turn state machine."""

from __future__ import annotations

import numpy as np
import webrtcvad

from voicebot.audio.frames import AudioFrame
from voicebot.vad.endpoint import EndOfTurn, EndpointConfig, VadEvent

_RATES = (8000, 16000, 32000, 48000)


class WebRtcVad:
    """Frame classifier (10/20/30 ms at 8/16/32/48 kHz). Aggressiveness 0 (lenient) to 3."""

    def __init__(self, aggressiveness: int = 2) -> None:
        self._vad = webrtcvad.Vad(aggressiveness)

    def is_speech(self, frame: AudioFrame) -> bool:
        if frame.rate not in _RATES:
            raise ValueError(f"webrtcvad needs 8/16/32/48 kHz audio, got {frame.rate} Hz")
        return bool(self._vad.is_speech(frame.pcm.tobytes(), frame.rate))


def frame_dbfs(frame: AudioFrame) -> float:
    """RMS level of the frame re int16 full scale."""
    x = frame.pcm.astype(np.float64)
    rms = float(np.sqrt(np.mean(x * x))) / 32768.0 if len(x) else 0.0
    return 20 * float(np.log10(max(rms, 1e-6)))


class VoiceActivity:
    """The VAD stage: one frame in, end-of-turn events out. webrtcvad keeps calling a fading
    word speech for ~150 ms after it is inaudible; frames under the config's energy floor are
    silence, so the pause (and the hangover) starts where the caller's voice stopped."""

    def __init__(self, config: EndpointConfig | None = None, aggressiveness: int = 2) -> None:
        self.classifier = WebRtcVad(aggressiveness)
        self.endpoint = EndOfTurn(config)
        self.floor = self.endpoint.config.energy_floor_dbfs
        self.last_speech = False  # the last frame's decision
        self.last_dbfs = -120.0  # ... and its level

    def push(self, frame: AudioFrame) -> list[VadEvent]:
        speech = self.classifier.is_speech(frame)
        self.last_dbfs = frame_dbfs(frame)
        if speech and self.floor is not None and self.last_dbfs < self.floor:
            speech = False
        self.last_speech = speech
        return self.endpoint.step(speech, frame.t)

    @property
    def in_speech(self) -> bool:
        return self.endpoint.in_speech
