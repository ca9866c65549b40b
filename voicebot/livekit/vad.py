"""The VAD plugin: webrtcvad and the engine's end-of-turn state machine (`VoiceActivity`, with
the call's endpoint settings). The session uses it for the caller's speaking state and for
barge-in; the turn itself, and its transcript, come from the STT plugin's listener."""

from __future__ import annotations

import time

from voicebot.livekit import require

require("livekit.agents")

from livekit.agents import vad  # noqa: E402

from voicebot.audio.frames import AudioFrame  # noqa: E402
from voicebot.core.clock import RealClock  # noqa: E402
from voicebot.livekit.audio import Framer, to_frame  # noqa: E402
from voicebot.vad.endpoint import EndpointConfig, NoiseIgnored, SpeechEnded, SpeechStarted  # noqa: E402
from voicebot.vad.webrtc import VoiceActivity  # noqa: E402


class WebRtcVAD(vad.VAD):
    def __init__(self, aggressiveness: int = 2, endpoint: EndpointConfig | None = None) -> None:
        super().__init__(capabilities=vad.VADCapabilities(update_interval=0.02))
        self.aggressiveness, self.endpoint = aggressiveness, endpoint or EndpointConfig()

    @property
    def model(self) -> str:
        return "webrtcvad"

    @property
    def provider(self) -> str:
        return "voicebot"

    def stream(self) -> _VADStream:
        return _VADStream(self)


class _Speaking:
    """The caller's speaking state from the engine's VAD events, for the session's VADEvents."""

    def __init__(self, owner: WebRtcVAD) -> None:
        self.activity = VoiceActivity(owner.endpoint, owner.aggressiveness)
        self.framer = Framer(RealClock())
        self.speaking = False
        self.speech_since = self.silence_since = 0.0
        self.samples = 0


class _VADStream(vad.VADStream):
    async def _main_task(self) -> None:
        owner: WebRtcVAD = self._vad  # type: ignore[assignment]
        state = _Speaking(owner)
        async for item in self._input_ch:
            if isinstance(item, self._FlushSentinel):
                state = _Speaking(owner)
                continue
            for frame in state.framer.push(item):
                self._step(state, frame)

    def _step(self, state: _Speaking, frame: AudioFrame) -> None:
        state.samples += len(frame.pcm)
        end, now = frame.t + frame.duration, time.time()
        for event in state.activity.push(frame):
            if isinstance(event, SpeechStarted):
                state.speaking, state.speech_since = True, event.t
                self._send(vad.VADEventType.START_OF_SPEECH, state, frame, end - event.t, 0.0, now)
            elif isinstance(event, SpeechEnded | NoiseIgnored):
                state.speaking, state.silence_since = False, event.end
                self._send(
                    vad.VADEventType.END_OF_SPEECH,
                    state,
                    frame,
                    event.end - event.start,
                    end - event.end,
                    now,
                )
        speech = end - state.speech_since if state.speaking else 0.0
        silence = 0.0 if state.activity.in_speech else end - state.silence_since
        self._send(vad.VADEventType.INFERENCE_DONE, state, frame, speech, silence, now)

    def _send(
        self,
        kind: vad.VADEventType,
        state: _Speaking,
        frame: AudioFrame,
        speech: float,
        silence: float,
        now: float,
    ) -> None:
        self._event_ch.send_nowait(
            vad.VADEvent(
                type=kind,
                samples_index=state.samples,
                timestamp=now,
                speech_duration=speech,
                silence_duration=silence,
                frames=[to_frame(frame.pcm, frame.rate)],
                probability=1.0 if state.speaking else 0.0,
                speaking=state.speaking,
                raw_accumulated_speech=speech,
                raw_accumulated_silence=silence,
            )
        )
