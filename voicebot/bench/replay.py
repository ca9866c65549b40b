"""`voicebot bench replay <dir>`: the batch latency benchmark on recorded calls.

Each WAV is the callee side of a call. It is played into the bot as if live (20 ms frames on the
call clock, whatever the bot does), through the full pipeline. An optional `<name>.json` next to
it gives the expected outcome and answers, and the script the call was made with (`script`: a
batch may mix scripts and languages; each call runs against its own script's stages: its voice,
recogniser and classifier). Per-file problems are reported and the batch goes on."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from voicebot.app.stages import LINE_RATE, ScriptStages
from voicebot.audio.frames import AudioFrame, samples_per_frame, split_frames
from voicebot.audio.wav import read_wav
from voicebot.core.clock import Clock, OffsetClock, RealClock, VirtualClock
from voicebot.core.errors import VoicebotError
from voicebot.core.outcomes import Outcome
from voicebot.handoff.agents import SimulatedAgents
from voicebot.metrics.ear import EarMeter
from voicebot.metrics.report import CallReport
from voicebot.policy.schema import Script
from voicebot.session.call import CallOptions, CallSession, CallSetup
from voicebot.telephony.loopback import LoopbackLine
from voicebot.vad.endpoint import EndpointConfig

MAX_RECORDING_S = 600.0
TAIL_S = 3.0  # after the recording ends, the caller waits this long, then hangs up
FRAME_S = 0.02
OUTCOMES = {o for o in Outcome if o.scripted} | {
    Outcome.HUNG_UP,
    Outcome.MAX_DURATION,
    Outcome.FAILED,
}


class ReplayError(VoicebotError):
    """A recording or its expectation file cannot be used; names the file."""


@dataclass
class Recording:
    path: Path
    pcm: np.ndarray  # at the line rate
    expected: dict[str, Any] = field(default_factory=dict)
    script: str = ""  # the name of the script it is replayed against

    @property
    def seconds(self) -> float:
        return len(self.pcm) / LINE_RATE


def recorded_script(path: Path) -> str | None:
    """The script a recording's `<name>.json` says the call was made with, if it says one."""
    sidecar = path.with_suffix(".json")
    if not sidecar.exists():
        return None
    try:
        expected = json.loads(sidecar.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ReplayError(f"{sidecar}:{e.lineno}: not valid JSON ({e.msg})") from None
    name = expected.get("script") if isinstance(expected, dict) else None
    if name is not None and not isinstance(name, str):
        raise ReplayError(f"{sidecar}: script must be a script's name, not {name!r}")
    return name


def load_recording(path: Path, script: Script, channel: int | None = None) -> Recording:
    pcm, _ = read_wav(path, rate=LINE_RATE, channel=channel)
    seconds = len(pcm) / LINE_RATE
    if seconds > MAX_RECORDING_S:
        raise ReplayError(
            f"{path}: {seconds / 60:.1f} min long; calls are limited to "
            f"{MAX_RECORDING_S / 60:.0f} min (split the recording)"
        )
    expected: dict[str, Any] = {}
    sidecar = path.with_suffix(".json")
    if sidecar.exists():
        try:
            expected = json.loads(sidecar.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise ReplayError(f"{sidecar}:{e.lineno}: not valid JSON ({e.msg})") from None
        _check_expected(sidecar, expected, script)
    return Recording(path, pcm, expected, script.name)


def _check_expected(path: Path, expected: dict[str, Any], script: Script) -> None:
    if expected.get("script", script.name) != script.name:
        raise ReplayError(
            f"{path}: expects script {expected['script']!r}, the benchmark runs {script.name!r}"
        )
    outcome = expected.get("outcome")
    if outcome is not None and outcome not in OUTCOMES:
        raise ReplayError(f"{path}: outcome {outcome!r} is not one of {sorted(OUTCOMES)}")
    known = _recordable(script)
    for key in expected.get("records", {}):
        if key not in known:
            raise ReplayError(f"{path}: records.{key}: the script {script.name} never records it")


def _recordable(script: Script) -> set[str]:
    keys = {"lead.grade"}
    for node in script.nodes.values():
        keys |= set(node.record)
        if node.ask and node.ask.record:
            keys.add(node.ask.record)
    for handler in script.globals.values():
        keys |= set(handler.record)
    return keys


class ReplayCaller:
    """Plays a recording into the callee end of a line, then hangs up after a short wait. Its
    `ear` holds both sides as the caller has them (what it sent, what it heard, per tick)."""

    def __init__(self, recording: Recording, line: LoopbackLine, clock: Clock) -> None:
        self.recording, self.line, self.clock = recording, line, clock
        self.ear = EarMeter(LINE_RATE)

    async def run(self) -> None:
        frames = [f.pcm for f in split_frames(self.recording.pcm, LINE_RATE)]
        silence = np.zeros(samples_per_frame(LINE_RATE), np.int16)
        end = len(frames) + int(TAIL_S / FRAME_S)
        for tick in range(end):
            await self.clock.sleep_until(tick * FRAME_S)
            if self.line.ended.is_set():
                return
            pcm = frames[tick] if tick < len(frames) else silence
            self.line.callee.send(AudioFrame(pcm, LINE_RATE, tick * FRAME_S))
            heard = self.line.callee.receive()
            self.ear.push(pcm, silence if heard is None else heard.pcm)
        self.line.hang_up("callee")


@dataclass
class ReplayResult:
    file: str
    report: CallReport | None = None
    language: str = ""
    error: str | None = None
    outcome_ok: bool | None = None
    answers_ok: int = 0
    answers_expected: int = 0


def naive_options() -> CallOptions:
    """The baseline: a fixed 800 ms silence timeout on the VAD alone, no speculative decode,
    the fixed 0.6 s pause after any hello."""
    endpoint = EndpointConfig(hangover_ms=800, adaptive=False, energy_floor_dbfs=None)
    return CallOptions(endpoint=endpoint, speculate=False, short_hello_pause_s=0.6)


async def replay_one(
    stages: ScriptStages, rec: Recording, clock: Clock, record_to: Path | None = None
) -> CallReport:
    """One recording through the pipeline; the report's `ear` is the caller side's."""
    await stages.ring(clock, dict(stages.script.example_contact))
    call_clock = OffsetClock(clock)
    line = LoopbackLine(call_clock, LINE_RATE)
    setup = CallSetup(
        stages.script,
        stages.script_path,
        dict(stages.script.example_contact),
        stages.language,
        persona=f"replay:{rec.path.name}",
        record_to=record_to,
    )
    agents = _agents(call_clock)
    session = CallSession(setup, stages.stages, line.bot, line, call_clock, agents, stages.options)
    replay = ReplayCaller(rec, line, call_clock)
    caller = asyncio.ensure_future(replay.run())
    try:
        report = await session.run()
    finally:
        line.hang_up("bot")
        await asyncio.gather(caller, return_exceptions=True)
    report.transport = "replay"
    report.ear = replay.ear.gaps()
    return report


def _agents(clock: Clock) -> SimulatedAgents:
    return SimulatedAgents(clock, free=1)


def score(rec: Recording, report: CallReport) -> ReplayResult:
    result = ReplayResult(rec.path.name, report, report.language)
    if not report.turns and not any(
        e.kind in ("noise", "answered_by_voice", "answering_machine") for e in report.timeline
    ):
        result.error = "no speech heard in the recording"
    exp = rec.expected
    if "outcome" in exp:
        result.outcome_ok = report.outcome == exp["outcome"]
    for key, value in exp.get("records", {}).items():
        result.answers_expected += 1
        result.answers_ok += report.records.get(key) == value
    return result


def stages_for(stages: ScriptStages | Mapping[str, ScriptStages], rec: Recording) -> ScriptStages:
    """The stages a recording is replayed with: its own script's, from a batch's set."""
    if isinstance(stages, ScriptStages):
        return stages
    return stages[rec.script]


async def replay_batch(
    stages: ScriptStages | Mapping[str, ScriptStages],
    recordings: list[Recording],
    clock: Clock,
    concurrency: int,
    on_done: Callable[[ReplayResult], None] | None = None,
) -> list[ReplayResult]:
    gate = asyncio.Semaphore(concurrency)

    async def one(rec: Recording) -> ReplayResult:
        async with gate:
            try:
                result = score(rec, await replay_one(stages_for(stages, rec), rec, clock))
            except Exception as e:  # one broken call must not stop the batch
                language = stages_for(stages, rec).language
                result = ReplayResult(rec.path.name, language=language, error=f"{rec.path}: {e!r}")
        if on_done:
            on_done(result)
        return result

    return list(await asyncio.gather(*(one(r) for r in recordings)))


def run_level(
    stages: ScriptStages | Mapping[str, ScriptStages],
    recordings: list[Recording],
    calls: int,
    virtual: bool,
    concurrency: int,
) -> dict[str, Any]:
    """`calls` calls (recordings reused in turn), `concurrency` at once; results and CPU cost."""
    batch = [recordings[i % len(recordings)] for i in range(calls)]
    clock: Clock = VirtualClock() if virtual else RealClock()
    cpu, wall = time.process_time(), time.perf_counter()

    async def main() -> list[ReplayResult]:
        work = replay_batch(stages, batch, clock, concurrency)
        return await (clock.run(work) if isinstance(clock, VirtualClock) else work)

    results = asyncio.run(main())
    audio_min = sum(r.seconds for r in batch) / 60
    return {
        "results": results,
        "cpu_s_per_call_minute": (time.process_time() - cpu) / max(audio_min, 1e-9),
        "wall_s": time.perf_counter() - wall,
    }
