"""The STT plugin: the engine's listener (`voicebot.session.listener.Listener`: webrtcvad, the
end-of-turn state machine, faster-whisper with the speculative decode at the first pause). One
final transcript per caller turn, and each turn's stamps (speech start and end, endpoint, ASR
final) on the call clock go to `on_turn` for the call report."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import numpy as np

from voicebot.livekit import require

require("livekit.agents")

from livekit.agents import (  # noqa: E402
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
    stt,
)

from voicebot.asr.whisper import Transcript  # noqa: E402
from voicebot.audio.resample import resample  # noqa: E402
from voicebot.core.clock import Clock, RealClock  # noqa: E402
from voicebot.livekit.audio import Framer, mono16  # noqa: E402
from voicebot.nlu.grammar import AnswerGrammar  # noqa: E402
from voicebot.session.listener import HeardTurn, Listener  # noqa: E402
from voicebot.vad.endpoint import EndpointConfig, NoiseIgnored, SpeechStarted  # noqa: E402


class WhisperSTT(stt.STT):
    """`recognizer`: a voicebot WhisperRecognizer; `context`: what the caller is answering (the
    bot's last line); `clock`: the call clock; endpoint, VAD and speculation settings are the
    call options'."""

    def __init__(
        self,
        recognizer: Any,
        language: str = "en",
        context: Callable[[], str] | None = None,
        aggressiveness: int = 2,
        endpoint: EndpointConfig | None = None,
        speculate: bool = True,
        clock: Clock | None = None,
        on_turn: Callable[[HeardTurn], None] | None = None,
        expected: Callable[[], AnswerGrammar | None] | None = None,
    ) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=True, interim_results=False))
        self.recognizer, self.language = recognizer, language
        self.context = context or (lambda: "")
        self.aggressiveness, self.endpoint = aggressiveness, endpoint or EndpointConfig()
        self.speculate = speculate
        self.clock = clock or RealClock()
        self.on_turn = on_turn or (lambda turn: None)
        self.expected = expected or (lambda: None)  # a closed question's answers, as on a line

    @property
    def model(self) -> str:
        return "faster-whisper"

    @property
    def provider(self) -> str:
        return "voicebot"

    def listener(self) -> Listener:
        return Listener(
            self.recognizer, self.clock, self.endpoint, self.aggressiveness, self.speculate
        )

    def final(self, transcript: Transcript) -> stt.SpeechEvent:
        data = stt.SpeechData(
            language=self.language,  # type: ignore[arg-type]
            text=transcript.text,
            confidence=transcript.confidence,
        )
        return stt.SpeechEvent(type=stt.SpeechEventType.FINAL_TRANSCRIPT, alternatives=[data])

    async def _recognize_impl(
        self, buffer: Any, *, language: NotGivenOr[str] = NOT_GIVEN, conn_options: APIConnectOptions
    ) -> stt.SpeechEvent:
        """A whole recording at once (no end of turn): one decode."""
        frames = buffer if isinstance(buffer, list) else [buffer]
        rate = frames[0].sample_rate if frames else 16000
        pcm = np.concatenate([mono16(f) for f in frames]) if frames else np.zeros(0, np.int16)
        audio = resample(pcm, rate, 16000)
        transcript = await asyncio.to_thread(self.recognizer.transcribe, audio, self.context())
        return self.final(transcript)

    def stream(
        self,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    ) -> _STTStream:
        return _STTStream(stt=self, conn_options=conn_options)


class _STTStream(stt.RecognizeStream):
    """Audio in as it comes, through the listener; each caller turn out as a final transcript
    (empty turns, noise, only end the speech)."""

    async def _run(self) -> None:
        owner: WhisperSTT = self._stt  # type: ignore[assignment]
        listener = owner.listener()
        framer = Framer(owner.clock)
        turns = asyncio.ensure_future(self._turns(owner, listener))
        try:
            async for item in self._input_ch:
                if isinstance(item, self._FlushSentinel):
                    continue
                listener.recognizer.context = owner.context()
                for frame in framer.push(item):
                    for event in listener.push(frame):
                        if isinstance(event, SpeechStarted):
                            self._send(stt.SpeechEventType.START_OF_SPEECH)
                        elif isinstance(event, NoiseIgnored):
                            self._send(stt.SpeechEventType.END_OF_SPEECH)
            await listener.drain()  # the input ended: the turns still being decoded
        finally:
            turns.cancel()
            await asyncio.gather(turns, return_exceptions=True)
            await listener.aclose()
        while not listener.turns.empty():
            self._deliver(owner, listener.turns.get_nowait())

    async def _turns(self, owner: WhisperSTT, listener: Listener) -> None:
        while True:
            turn = await listener.turns.get()
            self._deliver(owner, await listener.expecting(turn, owner.expected()))

    def _deliver(self, owner: WhisperSTT, turn: HeardTurn) -> None:
        owner.on_turn(turn)
        if turn.transcript.text:
            self._event_ch.send_nowait(owner.final(turn.transcript))
        self._send(stt.SpeechEventType.END_OF_SPEECH)

    def _send(self, kind: stt.SpeechEventType) -> None:
        self._event_ch.send_nowait(stt.SpeechEvent(type=kind))
