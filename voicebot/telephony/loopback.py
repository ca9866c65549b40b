"""An in-memory phone line for simulation, tests and replay: two media ports exchanging 20 ms
frames at the line rate, with optional jitter, loss and noise, and a hang-up signal.

It runs in real or virtual time: ports never sleep, the call's media loops pace them."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, Field

from voicebot.audio.frames import AudioFrame
from voicebot.core.clock import Clock


class Impairment(BaseModel):
    """What the line does to audio travelling towards the bot."""

    jitter_ms: float = Field(0.0, ge=0, description="uniform extra delay per frame, 0..jitter")
    loss: float = Field(0.0, ge=0, lt=1, description="fraction of frames lost")
    noise_snr_db: float | None = Field(None, description="white noise at this SNR re full speech")
    seed: int = 0


@dataclass(frozen=True, slots=True)
class Caption:
    """Simulation-only side channel: the text of the line the bot starts playing, so a simulated
    callee knows what was asked without running its own ASR. Real transports drop it."""

    t: float
    node: str
    text: str
    expects: str | None  # the slot the bot's question expects (yes_no, rating ...)


class MediaPort:
    """One end of the line. `send` a frame towards the far end; `receive` the next frame that
    has arrived by now (None when nothing has: a gap, played out as silence)."""

    def __init__(self, clock: Clock, impairment: Impairment | None = None) -> None:
        self.clock = clock
        self.impairment = impairment or Impairment()
        self.far: MediaPort | None = None
        self.captions: asyncio.Queue[Caption] = asyncio.Queue()
        self._inbox: list[tuple[float, int, AudioFrame]] = []
        self._seq = itertools.count()
        self._rng = np.random.default_rng(self.impairment.seed)
        self._keys: list[str] = []

    def send(self, frame: AudioFrame) -> None:
        assert self.far is not None, "port is not connected"
        self.far._deliver(frame)

    def caption(self, caption: Caption) -> None:
        if self.far is not None:
            self.far.captions.put_nowait(caption)

    def press(self, digits: str) -> None:
        """Phone keys (DTMF) towards the far end."""
        assert self.far is not None, "port is not connected"
        self.far._keys.extend(digits)

    def dtmf(self) -> list[str]:
        """Keys the far end pressed since the last look."""
        keys, self._keys = self._keys, []
        return keys

    def _deliver(self, frame: AudioFrame) -> None:
        imp = self.impairment
        if imp.loss and self._rng.random() < imp.loss:
            return
        pcm = frame.pcm
        if imp.noise_snr_db is not None:
            level = 3000.0 * 10 ** (-imp.noise_snr_db / 20)
            noise = self._rng.normal(0.0, level, len(pcm))
            pcm = np.clip(pcm + noise, -32768, 32767).astype(np.int16)
        delay = self._rng.uniform(0, imp.jitter_ms / 1000) if imp.jitter_ms else 0.0
        arrival = self.clock.now() + delay
        heapq.heappush(
            self._inbox, (arrival, next(self._seq), AudioFrame(pcm, frame.rate, frame.t))
        )

    def receive(self) -> AudioFrame | None:
        if self._inbox and self._inbox[0][0] <= self.clock.now() + 1e-9:
            return heapq.heappop(self._inbox)[2]
        return None


class LoopbackLine:
    """A connected call between the bot's port and the callee's port. Either side hangs up."""

    def __init__(
        self, clock: Clock, rate: int = 8000, impairment: Impairment | None = None
    ) -> None:
        self.rate = rate
        self.bot = MediaPort(clock, impairment)  # impairment applies on arrival at the bot
        self.callee = MediaPort(clock)
        self.bot.far, self.callee.far = self.callee, self.bot
        self.ended = asyncio.Event()
        self.ended_by: str | None = None

    def hang_up(self, by: str) -> None:
        if not self.ended.is_set():
            self.ended_by = by
            self.ended.set()
