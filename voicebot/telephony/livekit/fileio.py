"""An AgentSession without a server: the caller's audio from a WAV file (paced in real time, as
a phone line delivers it), the agent's audio played out in real time into a recording. Used to
run recorded calls through the livekit-agents path and compare them with the native engine."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from voicebot.telephony.livekit import require

require("livekit.agents")

from livekit import rtc  # noqa: E402
from livekit.agents.voice import io  # noqa: E402

from voicebot.audio.frames import samples_per_frame  # noqa: E402
from voicebot.audio.resample import resample  # noqa: E402
from voicebot.audio.wav import read_wav  # noqa: E402
from voicebot.core.clock import RealClock  # noqa: E402
from voicebot.handoff.agents import SimulatedAgents  # noqa: E402
from voicebot.telephony.livekit.plugins import (  # noqa: E402
    ScriptAgent,
    ScriptLLM,
    mono16,
    script_session,
    to_frame,
)


class WavAudioInput(io.AudioInput):
    """The caller: a WAV file, 20 ms at a time at the real rate, then silence."""

    def __init__(self, path: Path, rate: int = 16000) -> None:
        super().__init__(label="wav-input")
        pcm, _ = read_wav(path, rate=rate)
        self.rate, self._n = rate, samples_per_frame(rate)
        self._pcm = pcm
        self._index = 0
        self._start: float | None = None
        self.closed = False

    async def __anext__(self) -> rtc.AudioFrame:
        if self.closed:
            raise StopAsyncIteration
        if self._start is None:
            self._start = time.monotonic()
        due = self._start + self._index * self._n / self.rate
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        chunk = self._pcm[self._index * self._n : (self._index + 1) * self._n]
        if len(chunk) < self._n:
            chunk = np.concatenate([chunk, np.zeros(self._n - len(chunk), np.int16)])
        self._index += 1
        return to_frame(chunk, self.rate)


class WavAudioOutput(io.AudioOutput):
    """The caller's ear: plays each segment in real time (so interruptions cut it where a
    phone would) and keeps what was heard, placed at the time it was heard."""

    def __init__(self, rate: int) -> None:
        super().__init__(label="wav-output", capabilities=io.AudioOutputCapabilities(pause=False),
                         sample_rate=rate)  # fmt: skip
        self.rate = rate
        self.t0 = time.monotonic()
        self.heard: list[tuple[float, np.ndarray]] = []
        self.segments: list[tuple[float, bool]] = []  # (seconds played, interrupted)
        self._queue: deque[np.ndarray] = deque()
        self._playing = self._flushed = self._interrupted = False
        self._player: asyncio.Future[None] | None = None

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        pcm = mono16(frame)
        if frame.sample_rate != self.rate:
            pcm = resample(pcm, frame.sample_rate, self.rate)
        self._queue.append(pcm)
        if not self._playing:
            self._playing, self._flushed, self._interrupted = True, False, False
            self.on_playback_started(created_at=time.time())
            self._player = asyncio.ensure_future(self._play())

    def flush(self) -> None:
        super().flush()
        self._flushed = True

    def clear_buffer(self) -> None:
        if self._playing:
            self._queue.clear()
            self._interrupted = True

    async def _play(self) -> None:
        played, start = 0.0, time.monotonic()
        while not self._interrupted:
            if self._queue:
                pcm = self._queue.popleft()
                self.heard.append((time.monotonic() - self.t0, pcm))
                played += len(pcm) / self.rate
                await asyncio.sleep(max(0.0, start + played - time.monotonic()))
            elif self._flushed:
                break
            else:
                await asyncio.sleep(0.005)
        interrupted = self._interrupted
        self._playing = False
        self._queue.clear()
        self.segments.append((played, interrupted))
        self.on_playback_finished(playback_position=played, interrupted=interrupted)

    def recording(self) -> np.ndarray:
        """What the caller heard, on one timeline from the start of the call."""
        if not self.heard:
            return np.zeros(0, np.int16)
        end = max(t + len(p) / self.rate for t, p in self.heard)
        out = np.zeros(int(end * self.rate) + 1, np.int16)
        for t, pcm in self.heard:
            i = int(t * self.rate)
            out[i : i + len(pcm)] = pcm[: len(out) - i]
        return out


@dataclass
class AgentCall:
    """What came of one conversation through livekit-agents."""

    outcome: str | None
    records: dict[str, Any]
    lines: list[tuple[str, str]]
    turns: list[tuple[str, str, float]]
    transfer: dict[str, str] | None
    heard: np.ndarray
    segments: list[tuple[float, bool]] = field(default_factory=list)


async def run_wav_call(trial: Any, wav: Path, contact: dict[str, Any] | None = None,
                       agents_free: int = 1, timeout_s: float = 150.0) -> AgentCall:  # fmt: skip
    """One recorded caller against a script, through an AgentSession with the voicebot plugins
    (`trial`: a voicebot Trial, which holds the loaded stages)."""
    contact = dict(trial.script.example_contact) if contact is None else contact
    script_llm = ScriptLLM(trial.script, trial.language, trial.stages.classifier, contact)
    agents = SimulatedAgents(RealClock(), free=agents_free, answer_after_s=1.0)
    ended = asyncio.Event()

    async def end(_outcome: str) -> None:
        ended.set()

    agent = ScriptAgent(script_llm, agents.transfer, end)
    session = script_session(trial, script_llm)
    caller = WavAudioInput(wav)
    ear = WavAudioOutput(trial.tts.rate)
    session.input.audio = caller
    session.output.audio = ear
    await session.start(agent)
    try:
        await asyncio.wait_for(ended.wait(), timeout_s)
    except TimeoutError:
        pass  # the report says how far it got: outcome None
    finally:
        caller.closed = True
        await session.aclose()
    state = script_llm.dialogue.state
    return AgentCall(outcome=state.ended if state else None,
                     records=state.recorded() if state else {}, lines=script_llm.state.lines,
                     turns=script_llm.state.turns, transfer=script_llm.state.transfer,
                     heard=ear.recording(), segments=ear.segments)  # fmt: skip
