"""An AgentSession without a server: the caller's audio from a WAV file (paced in real time, as
a phone line delivers it), the agent's audio played out in real time into a recording. Used to
run recorded calls through the livekit-agents path and compare them with the native engine;
each writes the same call report as a loopback call."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from voicebot.livekit import require

require("livekit.agents")

from livekit import rtc  # noqa: E402
from livekit.agents.voice import io  # noqa: E402

from voicebot.audio.frames import samples_per_frame  # noqa: E402
from voicebot.audio.resample import resample  # noqa: E402
from voicebot.audio.wav import read_wav  # noqa: E402
from voicebot.core.clock import Clock, RealClock  # noqa: E402
from voicebot.core.outcomes import Outcome  # noqa: E402
from voicebot.handoff.agents import SimulatedAgents  # noqa: E402
from voicebot.livekit.agent import ScriptAgent  # noqa: E402
from voicebot.livekit.audio import LINE_RATE, mono16, to_frame  # noqa: E402
from voicebot.livekit.llm import ScriptLLM  # noqa: E402
from voicebot.livekit.record import CallRecord  # noqa: E402
from voicebot.livekit.recording import CallRecorder  # noqa: E402
from voicebot.livekit.session import script_session  # noqa: E402
from voicebot.metrics.report import CallReport  # noqa: E402

if TYPE_CHECKING:
    from voicebot.app.stages import ScriptStages


class WavAudioInput(io.AudioInput):
    """The caller: a WAV file at the phone line's rate, 20 ms at a time at the real pace (on the
    call clock), then silence."""

    def __init__(self, path: Path, clock: Clock, rate: int = LINE_RATE) -> None:
        super().__init__(label="wav-input")
        pcm, _ = read_wav(path, rate=rate)
        self.clock, self.rate, self._n = clock, rate, samples_per_frame(rate)
        self._pcm = pcm
        self._index = 0
        self._start: float | None = None
        self.closed = False

    async def __anext__(self) -> rtc.AudioFrame:
        if self.closed:
            raise StopAsyncIteration
        if self._start is None:
            self._start = self.clock.now()
        await self.clock.sleep_until(self._start + self._index * self._n / self.rate)
        chunk = self._pcm[self._index * self._n : (self._index + 1) * self._n]
        if len(chunk) < self._n:
            chunk = np.concatenate([chunk, np.zeros(self._n - len(chunk), np.int16)])
        self._index += 1
        return to_frame(chunk, self.rate)


class WavAudioOutput(io.AudioOutput):
    """The caller's ear: plays each segment in real time (so interruptions cut it where a
    phone would) and keeps what was heard, placed on the call clock when it was heard."""

    def __init__(self, rate: int, clock: Clock) -> None:
        super().__init__(
            label="wav-output",
            capabilities=io.AudioOutputCapabilities(pause=False),
            sample_rate=rate,
        )
        self.rate, self.clock = rate, clock
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
        played, start = 0.0, self.clock.now()
        while not self._interrupted:
            if self._queue:
                pcm = self._queue.popleft()
                self.heard.append((self.clock.now(), pcm))
                played += len(pcm) / self.rate
                await self.clock.sleep_until(start + played)
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
    """What came of one conversation through livekit-agents; `report` is its call report."""

    report: CallReport
    outcome: str | None
    records: dict[str, Any]
    lines: list[tuple[str, str]]
    turns: list[tuple[str, str, float]]
    transfer: dict[str, Any] | None
    heard: np.ndarray
    segments: list[tuple[float, bool]] = field(default_factory=list)


async def run_wav_call(
    stages: ScriptStages,
    wav: Path,
    contact: dict[str, Any] | None = None,
    agents_free: int = 1,
    timeout_s: float = 150.0,
    record_to: Path | None = None,
) -> AgentCall:
    """One recorded caller against a script, through an AgentSession with the voicebot plugins
    (`stages`: the script's loaded stages, voicebot.app.stages.ScriptStages). With
    `record_to`, the call is recorded there as on a LiveKit campaign call."""
    contact = dict(stages.script.example_contact) if contact is None else contact
    await stages.ring(RealClock(), contact)  # the contact's own lines, as while a phone rings
    clock = RealClock()  # 0: the caller's first frame is due
    record = CallRecord.of(stages, contact, "WavAudioInput", clock)
    script_llm = ScriptLLM(
        stages.script, stages.language, stages.stages.classifier, contact, record=record
    )
    agents = SimulatedAgents(clock, free=agents_free, answer_after_s=1.0)
    ended = asyncio.Event()

    async def end(_outcome: str) -> None:
        ended.set()

    agent = ScriptAgent(script_llm, agents.transfer, end)
    session = script_session(stages, script_llm)
    caller = WavAudioInput(wav, clock)
    ear = WavAudioOutput(stages.tts.rate, clock)
    session.input.audio = caller
    session.output.audio = ear
    recorder = CallRecorder(record_to, record.report.call_id) if record_to is not None else None
    if recorder is not None:
        await recorder.start(session)
    await session.start(agent)
    try:
        await asyncio.wait_for(ended.wait(), timeout_s)
    except TimeoutError:
        pass  # the report says how far it got
    finally:
        caller.closed = True
        await session.aclose()
        if recorder is not None:
            await recorder.finish()
    report = record.finish(
        script_llm.dialogue, "bot" if ended.is_set() else "deadline", Outcome.MAX_DURATION
    )
    return AgentCall(
        report=report,
        outcome=script_llm.dialogue.ended,
        records=report.records,
        lines=[(b.node, b.text) for b in report.bot_lines],
        turns=[(t.text, t.intent, t.confidence) for t in report.turns],
        transfer=report.transfer,
        heard=ear.recording(),
        segments=ear.segments,
    )
