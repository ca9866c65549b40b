"""`voicebot console`: talk to a script with a microphone and speaker. The same call session as a
phone call (VAD, whisper, intent classifier, policy, piper, barge-in, silence timers) over the
local line; the transcript, intents and the script's state are shown as the call goes.

Headless (`--mic file.wav --speaker out.wav`) the microphone is a recorded caller and the run
takes virtual time; `--text` types instead of speaking (the `chat` command)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from voicebot.app.stages import LINE_RATE, ScriptStages
from voicebot.core.clock import Clock, OffsetClock, RealClock, VirtualClock
from voicebot.handoff.agents import SimulatedAgents
from voicebot.metrics.report import CallReport
from voicebot.models.store import ModelStore
from voicebot.session.call import CallOptions, CallSession, CallSetup
from voicebot.telephony.local import AudioDevice, LocalLine, SoundDevice, WavDevice


class TranscriptView:
    """Writes what happens in a call as it happens: the lines the bot starts saying (from the
    line's captions), what the caller said and how it was understood (from the live report)."""

    def __init__(self, report: CallReport, line: LocalLine, write: Callable[[str], None]) -> None:
        self.report, self.line, self.write = report, line, write
        self._lines = self._turns = self._events = 0

    def update(self) -> None:
        r = self.report  # a reply's turn is logged once the reply has started
        for turn in r.turns[self._turns :]:
            others = ", ".join(f"{name} {p:.2f}" for name, p in turn.runners_up[:2])
            self.write(
                f"you  {turn.text!r}  -> {turn.intent} {turn.confidence:.2f}"
                f"{f' (then {others})' if others else ''}  at [{turn.node}]"
            )
        for caption in self.line.captions[self._lines :]:
            self.write(f"bot  [{caption.node}] {caption.text}")
        for event in r.timeline[self._events :]:
            if event.kind in ("barge_in", "transfer", "dtmf", "voicemail", "no_input"):
                self.write(f"     ({event.kind}{': ' + event.detail if event.detail else ''})")
        self._lines, self._turns, self._events = (
            len(self.line.captions),
            len(r.turns),
            len(r.timeline),
        )

    def summary(self) -> None:
        r = self.report
        self.write(
            f"call ended: {r.outcome} (by {r.ended_by or '-'}), {r.duration_s:.0f} s; "
            f"path {' > '.join(r.path)}"
        )
        if r.records:
            self.write("recorded: " + ", ".join(f"{k}={v}" for k, v in r.records.items()))
        if r.lead_grade:
            self.write(f"lead grade: {r.lead_grade}")


async def talk(
    stages: ScriptStages,
    device: Callable[[Clock], AudioDevice],
    clock: Clock,
    contact: dict[str, Any],
    write: Callable[[str], None] = print,
    refresh_s: float = 0.1,
) -> CallReport:
    """One conversation over the local line, shown live."""
    await stages.ring(clock, contact)
    call_clock = OffsetClock(clock)  # 0: the call is answered
    audio = device(call_clock)
    line = LocalLine(audio, LINE_RATE)
    setup = CallSetup(stages.script, stages.script_path, contact, stages.language)
    session = CallSession(
        setup,
        stages.stages,
        line,
        line,
        call_clock,
        SimulatedAgents(call_clock, free=1),
        stages.options,
    )
    view = TranscriptView(session.report, line, write)
    loop = asyncio.get_running_loop()
    if isinstance(audio, SoundDevice):  # Ctrl-C: the person hangs up, the report is written
        loop.add_signal_handler(signal.SIGINT, line.hang_up, "callee")
    call = asyncio.ensure_future(session.run())
    try:
        while not call.done():
            view.update()
            await clock.sleep(refresh_s)
        report = await call
    finally:
        if isinstance(audio, SoundDevice):
            loop.remove_signal_handler(signal.SIGINT)
        audio.close()
    view.update()
    view.summary()
    return report


def run_console(
    script: Path,
    store: ModelStore,
    contact: dict[str, Any],
    mic: Path | None = None,
    speaker: Path | None = None,
    device: int | str | None = None,
    realtime: bool = False,
    language: str | None = None,
    write: Callable[[str], None] = print,
    options: CallOptions | None = None,
) -> CallReport:
    """With `mic` (a WAV file) the run is headless, in virtual time unless `realtime`;
    without it the computer's microphone and speaker are the caller's phone."""
    stages = ScriptStages(script, store, options, language)
    write(f"loading {script} ({stages.language}) ...")
    stages.prerender()
    contact = contact or dict(stages.script.example_contact)
    headless = mic is not None or speaker is not None
    clock: Clock = VirtualClock() if headless and not realtime else RealClock()

    def open_device(call_clock: Clock) -> AudioDevice:
        if headless:
            return WavDevice(call_clock, mic, speaker, LINE_RATE)
        write("speak after the bot's greeting; Ctrl-C hangs up")
        return SoundDevice(LINE_RATE, device)

    conversation = talk(stages, open_device, clock, contact, write)
    if isinstance(clock, VirtualClock):
        return asyncio.run(clock.run(conversation))
    return asyncio.run(conversation)
