"""Streaming ASR for one call: collects the caller's turn and produces its final transcript.

At the first pause (plus `speculate_after_s` of silence) a decode starts in a worker thread on the
audio so far. If the caller stays silent until the end of turn, that result is the final one and
arrives as soon as the hangover expires; if the caller resumes, it is discarded.

Decodes go through the process's `DecodeScheduler` (bounded slots, finals first): a speculation
still waiting when the caller speaks on never runs, and none is started while other decodes wait
for a slot (it is tried again at the next frame of the same pause). A decode that starts while
others wait decodes greedily (beam 1) instead of with the configured beam: under load the queue
drains first; with CPU to spare the beam reads words better (`./dev bench understanding --beam`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import numpy as np

from voicebot.asr.schedule import DecodeScheduler, Ticket, shared
from voicebot.asr.whisper import SAMPLE_RATE, Transcript, WhisperRecognizer
from voicebot.audio.frames import AudioFrame
from voicebot.audio.resample import resample
from voicebot.vad.endpoint import SpeechEnded, SpeechPaused, SpeechResumed, SpeechStarted, VadEvent


@dataclass(frozen=True, slots=True)
class FinalTranscript:
    transcript: Transcript
    speculative: bool  # the speculative decode was reused
    pcm: np.ndarray | None = None  # the 16 kHz audio it was decoded from


class TurnRecognizer:
    """push() every frame, on_vad() every VAD event, then `await final(ended)` per turn."""

    def __init__(
        self,
        recognizer: WhisperRecognizer,
        preroll_s: float = 0.3,
        speculate_after_s: float = 0.02,  # EndpointConfig.speculate_ms: the first quiet frame
        speculate: bool = True,
        run_blocking: Callable[..., Awaitable[Transcript]] | None = None,
        scheduler: DecodeScheduler | None = None,
    ) -> None:
        """`scheduler`: default, the one all calls of the running event loop share."""
        self.recognizer = recognizer
        self._run_blocking = run_blocking or asyncio.to_thread
        self.context = ""  # what the caller is answering: the bot's last line
        self.preroll_s = preroll_s
        self.speculate_after_s = speculate_after_s
        self.speculate = speculate
        self._frames: deque[AudioFrame] = deque()
        self._collecting = False
        self._pause_at: float | None = None
        self._spec: tuple[float, asyncio.Task[Transcript], np.ndarray, Ticket] | None = None
        self._scheduler = scheduler

    def push(self, frame: AudioFrame) -> None:
        if self._frames and frame.rate != self._frames[0].rate:
            raise ValueError(f"frame rate changed mid-call: {self._frames[0].rate} -> {frame.rate}")
        self._frames.append(frame)
        if not self._collecting:
            self._trim_to(frame.t - self.preroll_s)
        elif self._should_speculate(frame.t + frame.duration):
            assert self._pause_at is not None
            pcm = self._audio_until(frame.t + frame.duration)
            ticket = self.scheduler.ticket(final=False, audio_s=len(pcm) / SAMPLE_RATE)
            self._spec = (self._pause_at, self._start_decode(pcm, ticket), pcm, ticket)

    @property
    def scheduler(self) -> DecodeScheduler:
        if self._scheduler is None:
            self._scheduler = shared()
        return self._scheduler

    def _should_speculate(self, now: float) -> bool:
        return (
            self.speculate
            and self._spec is None
            and self._pause_at is not None
            and now - self._pause_at >= self.speculate_after_s
            and not self.scheduler.queued  # the CPU is spoken for: finals wait already
        )

    @property
    def speculation(self) -> tuple[float, Transcript] | None:
        """(pause it was decoded at, transcript) once the speculative decode has finished."""
        if self._spec is None or not self._spec[1].done() or self._spec[1].cancelled():
            return None
        if self._spec[1].exception() is not None:
            return None
        return self._spec[0], self._spec[1].result()

    def on_vad(self, event: VadEvent) -> None:
        if isinstance(event, SpeechStarted):
            self._collecting = True
            self._trim_to(event.t - self.preroll_s)
            self._discard_speculation()
        elif isinstance(event, SpeechPaused):
            self._pause_at = event.t
        elif isinstance(event, SpeechResumed):
            self._pause_at = None
            self._discard_speculation()

    async def final(self, ended: SpeechEnded) -> FinalTranscript:
        """The turn's transcript; reuses the speculative decode when it covers the whole turn."""
        spec, self._spec = self._spec, None
        self._collecting, self._pause_at = False, None
        if spec is not None and abs(spec[0] - ended.end) < 1e-6:
            self.scheduler.promote(spec[3])
            return FinalTranscript(await spec[1], speculative=True, pcm=spec[2])
        if spec is not None:
            spec[1].cancel()
        pcm = self._audio_until(ended.end + self.speculate_after_s)
        ticket = self.scheduler.ticket(final=True, audio_s=len(pcm) / SAMPLE_RATE)
        return FinalTranscript(await self._start_decode(pcm, ticket), speculative=False, pcm=pcm)

    def _start_decode(self, pcm: np.ndarray, ticket: Ticket) -> asyncio.Task[Transcript]:
        run: Callable[..., Awaitable[Transcript]] = self._run_blocking
        decode = self.scheduler.run(ticket, run, self._transcribe, pcm, self.context)
        return asyncio.get_running_loop().create_task(decode)

    def _transcribe(self, pcm: np.ndarray, context: str) -> Transcript:
        """Runs in a worker thread as the decode takes its slot: greedy while others wait.
        Reads `_scheduler` (set on the event loop before any decode), never `shared()`."""
        crowded = self._scheduler is not None and self._scheduler.queued > 0
        return self.recognizer.transcribe(pcm, context, beam=1 if crowded else None)

    def _audio_until(self, end: float) -> np.ndarray:
        """The turn so far at the recogniser's rate (the call path stays at the line rate)."""
        frames = [f for f in self._frames if f.t < end]
        if not frames:
            return np.zeros(0, np.int16)
        return resample(np.concatenate([f.pcm for f in frames]), frames[0].rate, SAMPLE_RATE)

    def _trim_to(self, t: float) -> None:
        while self._frames and self._frames[0].t + self._frames[0].duration <= t:
            self._frames.popleft()

    def _discard_speculation(self) -> None:
        if self._spec is not None:
            self._spec[1].cancel()
            self._spec = None

    async def aclose(self) -> None:
        self._discard_speculation()
        self._frames.clear()
