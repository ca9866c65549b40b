"""Voice activity: webrtcvad per frame, fed into the end-of-turn state machine."""

from __future__ import annotations

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


class VoiceActivity:
    """The VAD stage: one frame in, end-of-turn events out."""

    def __init__(self, config: EndpointConfig | None = None, aggressiveness: int = 2) -> None:
        self.classifier = WebRtcVad(aggressiveness)
        self.endpoint = EndOfTurn(config)

    def push(self, frame: AudioFrame) -> list[VadEvent]:
        return self.endpoint.step(self.classifier.is_speech(frame), frame.t)

    @property
    def in_speech(self) -> bool:
        return self.endpoint.in_speech
