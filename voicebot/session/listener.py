"""The inbound half of a call: frames in, caller turns out (VAD -> end of turn -> ASR).

The listener stamps each turn with the true speech end and the moment its transcript was ready,
both on the call's clock, so latency is measured here once rather than inside each stage.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from voicebot.asr.turn import TurnRecognizer
from voicebot.asr.whisper import Transcript, WhisperRecognizer
from voicebot.audio.frames import AudioFrame
from voicebot.core.clock import Clock
from voicebot.vad.endpoint import EndpointConfig, SpeechEnded, SpeechStarted, VadEvent
from voicebot.vad.webrtc import VoiceActivity

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HeardTurn:
    """One caller turn: what was said and when (call clock, seconds)."""

    transcript: Transcript
    speech_start: float
    speech_end: float  # true end of speech
    endpoint_at: float  # when the hangover confirmed the end
    asr_final_at: float  # when the transcript was ready
    speculative: bool


class Listener:
    """push() each inbound frame; caller turns arrive on `turns` (an asyncio.Queue, which the
    call session may share with its other events)."""

    def __init__(
        self,
        asr: WhisperRecognizer,
        clock: Clock,
        endpoint: EndpointConfig | None = None,
        aggressiveness: int = 2,
        speculate: bool = True,
        turns: asyncio.Queue[Any] | None = None,
    ) -> None:
        self.vad = VoiceActivity(endpoint, aggressiveness)
        self.recognizer = TurnRecognizer(asr, speculate=speculate, run_blocking=clock.run_blocking)
        self.clock = clock
        self.turns: asyncio.Queue[Any] = turns if turns is not None else asyncio.Queue()
        self.speech_started: asyncio.Event = asyncio.Event()
        self._pending: set[asyncio.Task[None]] = set()

    def push(self, frame: AudioFrame) -> list[VadEvent]:
        self.recognizer.push(frame)
        events = self.vad.push(frame)
        for event in events:
            self.recognizer.on_vad(event)
            if isinstance(event, SpeechStarted):
                self.speech_started.set()
            if isinstance(event, SpeechEnded):
                task = asyncio.get_running_loop().create_task(self._finish(event))
                self._pending.add(task)
                task.add_done_callback(self._pending.discard)
        return events

    @property
    def in_speech(self) -> bool:
        return self.vad.in_speech

    async def _finish(self, ended: SpeechEnded) -> None:
        try:
            final = await self.recognizer.final(ended)
            transcript, speculative = final.transcript, final.speculative
        except Exception as e:  # a failed decode loses the words, not the turn
            log.error("ASR failed on a %.1f s turn: %r", ended.end - ended.start, e)
            transcript = Transcript(
                "", "", 0.0, 0.0, ended.end - ended.start, 0.0, 0.0, "asr error"
            )
            speculative = False
        await self.turns.put(
            HeardTurn(
                transcript=transcript,
                speech_start=ended.start,
                speech_end=ended.end,
                endpoint_at=ended.confirmed_at,
                asr_final_at=self.clock.now(),
                speculative=speculative,
            )
        )

    async def drain(self) -> None:
        """Wait for turns still being transcribed."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    async def aclose(self) -> None:
        for task in list(self._pending):
            task.cancel()
        await self.drain()
        await self.recognizer.aclose()
