"""Campaigns started from the console: each runs the campaign Dialer in a thread of the server
(its own event loop) on the simulated trunk or on simulated callees through the whole pipeline
(personas). Call starts and ends are published on the LiveBus for the wallboard and counted
for /metrics. Pause and stop drain: calls in progress finish and are recorded."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from voicebot.app.config import VoicebotConfig
from voicebot.campaign.dialer import CallPlacer, CallResult, Dial, Dialer, WallClock
from voicebot.campaign.store import CampaignError, Store
from voicebot.core.clock import Clock, RealClock, VirtualClock
from voicebot.core.outcomes import Outcome
from voicebot.web.metrics import ConsoleMetrics

Trunk = Literal["simulated", "personas", "sip"]


class LiveBus:
    """Per campaign: a version that moves on every call event, when the last one happened
    (epoch seconds) and the calls of this server that are ringing or answered. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: dict[str, int] = {}
        self._last: dict[str, float] = {}
        self._ringing: dict[str, int] = {}
        self._talking: dict[str, int] = {}

    def publish(self, campaign: str) -> None:
        with self._lock:
            self._bump(campaign)

    def dialled(self, campaign: str) -> None:
        """A call was placed: it rings."""
        with self._lock:
            self._ringing[campaign] = self._ringing.get(campaign, 0) + 1
            self._bump(campaign)

    def answered(self, campaign: str) -> None:
        """A ringing call was picked up."""
        with self._lock:
            self._ringing[campaign] = self._ringing.get(campaign, 0) - 1
            self._talking[campaign] = self._talking.get(campaign, 0) + 1
            self._bump(campaign)

    def ended(self, campaign: str, was_answered: bool) -> None:
        with self._lock:
            counts = self._talking if was_answered else self._ringing
            counts[campaign] = counts.get(campaign, 0) - 1
            self._bump(campaign)

    def calls(self, campaign: str) -> tuple[int, int] | None:
        """(ringing, answered) calls of `campaign` placed by this server; None if it placed
        none (a campaign run by a dialer elsewhere: the store only knows they are dialling)."""
        with self._lock:
            if campaign not in self._ringing:
                return None
            return self._ringing[campaign], self._talking.get(campaign, 0)

    def _bump(self, campaign: str) -> None:
        self._version[campaign] = self._version.get(campaign, 0) + 1
        self._last[campaign] = time.time()

    def version(self, campaign: str) -> int:
        with self._lock:
            return self._version.get(campaign, 0)

    def last_event_at(self, campaign: str) -> float | None:
        with self._lock:
            return self._last.get(campaign)


@dataclass(frozen=True, slots=True)
class RunOptions:
    trunk: Trunk = "simulated"
    speed: float = 1.0  # simulated trunk: calls this much faster
    virtual: bool = False  # virtual time (trial runs)
    seed: int = 0


class _LivePlacer:
    """Wraps a transport: publishes each call's start and end, counts it, and fills in the
    recording the call session wrote (`<recordings>/<call_id>.wav`)."""

    def __init__(
        self,
        inner: CallPlacer,
        campaign: str,
        bus: LiveBus,
        metrics: ConsoleMetrics,
        recordings: Path | None,
    ) -> None:
        self.inner, self.campaign, self.bus, self.metrics = inner, campaign, bus, metrics
        self.recordings = recordings

    async def place(self, dial: Dial) -> CallResult:
        self.metrics.call_started(self.campaign)
        self.bus.dialled(self.campaign)
        result = CallResult(outcome=Outcome.FAILED)
        picked_up = False

        def answered() -> None:
            nonlocal picked_up
            if not picked_up:
                picked_up = True
                self.bus.answered(self.campaign)
                dial.answered()

        try:
            result = await self.inner.place(replace(dial, on_answer=answered))
            if result.report_path and self.recordings is not None:
                wav = self.recordings / f"{Path(result.report_path).stem}.wav"
                result.recording_path = str(wav) if wav.exists() else None
            return result
        finally:
            self.metrics.call_ended(self.campaign, result)
            self.bus.ended(self.campaign, picked_up)


class CampaignRunner:
    """Starts, pauses, resumes and stops campaigns; one dialer thread per running campaign."""

    def __init__(
        self,
        store: Store,
        out: Path,
        bus: LiveBus,
        metrics: ConsoleMetrics,
        config: VoicebotConfig | None = None,
    ) -> None:
        """`config`: models and call options of persona runs (`voicebot serve --config`)."""
        self.store, self.out, self.bus, self.metrics = store, out, bus, metrics
        self.config = config
        self._threads: dict[str, threading.Thread] = {}
        self._dialers: dict[str, Dialer] = {}
        self._options: dict[str, RunOptions] = {}
        self._trials: dict[str, Any] = {}
        self._models: Any = None
        self._lock = threading.Lock()
        self._persona_gate = threading.Lock()  # one pipeline campaign at a time (shared models)

    def running(self, name: str) -> bool:
        thread = self._threads.get(name)
        return thread is not None and thread.is_alive()

    def start(self, name: str, options: RunOptions) -> None:
        with self._lock:
            if self.running(name):
                raise CampaignError(f"campaign {name!r} is already running")
            with self.store.session() as s:
                state = self.store.campaign(s, name).state
            if state == "done":
                raise CampaignError(f"campaign {name!r} is done: nobody is left to call")
            if options.trunk == "sip":
                self._check_sip(name)
            self.store.set_state(name, "ready")
            self._options[name] = options
            thread = threading.Thread(
                target=self._thread, args=(name, options), name=f"campaign-{name}", daemon=True
            )
            self._threads[name] = thread
            thread.start()

    def pause(self, name: str) -> None:
        self.store.set_state(name, "paused")  # the dialer sees it within a second and drains

    def resume(self, name: str) -> None:
        self.start(name, self._options.get(name, RunOptions()))

    def stop(self, name: str) -> None:
        self.store.set_state(name, "stopped")
        dialer = self._dialers.get(name)
        if dialer is not None:
            dialer.stop()

    def wait(self, name: str, timeout: float) -> bool:
        """True once the campaign's dialer thread has ended (drained)."""
        thread = self._threads.get(name)
        if thread is not None:
            thread.join(timeout)
        return not self.running(name)

    def shutdown(self, timeout: float = 30.0) -> None:
        for name in list(self._threads):
            if self.running(name):
                self.stop(name)
        deadline = time.monotonic() + timeout
        for thread in list(self._threads.values()):
            thread.join(max(0.0, deadline - time.monotonic()))

    def _thread(self, name: str, options: RunOptions) -> None:
        shared = options.trunk in ("personas", "sip")  # runs on the server's loaded models
        gate = self._persona_gate if shared else threading.Lock()
        with gate:
            asyncio.run(self._run(name, options))

    async def _run(self, name: str, options: RunOptions) -> None:
        from voicebot.app.web_trunks import simulated_trunk

        virtual = options.virtual and options.trunk != "sip"  # real calls run in real time
        base: Clock = VirtualClock() if virtual else RealClock()
        clock = WallClock(base)
        recordings = self.out / "recordings"
        async with contextlib.AsyncExitStack() as transports:
            if options.trunk == "simulated":
                inner: CallPlacer = simulated_trunk(clock, options.seed, options.speed)
            elif options.trunk == "sip":
                reports = self.out / "reports"
                lines = self._sip(name)
                inner = await transports.enter_async_context(
                    lines.trunk(clock, reports, self._recording(name))
                )
            else:
                inner = self._personas(name, recordings).trunk(base, self.out / "reports")
            placer = _LivePlacer(inner, name, self.bus, self.metrics, recordings)
            dialer = Dialer(self.store, name, placer, clock, poll_s=1.0)
            self._dialers[name] = dialer
            try:
                work = dialer.run()
                await (base.run(work) if isinstance(base, VirtualClock) else work)
            finally:
                self._dialers.pop(name, None)
                self.bus.publish(name)

    def _check_sip(self, name: str) -> None:
        """A SIP run needs the server's config to name a trunk, and a caller ID it will carry."""
        from voicebot.campaign.safeguards import caller_id_problem

        sip = self.config.sip if self.config is not None else None
        if sip is None:
            raise CampaignError(
                "the sip trunk needs `voicebot serve --config` with a `sip:` section"
            )
        if problem := caller_id_problem(
            sip.trunk.caller_id, sip.trunk.host, dialling_a_number=True
        ):
            raise CampaignError(f"campaign {name!r}: {problem}")

    def _recording(self, name: str) -> bool | None:
        """The campaign's `recording` switch (None: as the script says)."""
        from voicebot.campaign.config import CampaignConfig

        with self.store.session() as s:
            config = CampaignConfig.model_validate(self.store.campaign(s, name).config)
        return True if config.recording else None

    def _sip(self, name: str) -> Any:
        from voicebot.app.web_trunks import SipLines, console_models

        with self.store.session() as s:
            script = self.store.campaign(s, name).script
        key = f"sip:{script}"
        if key not in self._trials:
            if self._models is None:
                self._models = console_models(self.config)
            models, config = self._models
            self._trials[key] = SipLines(Path(script), models, config)
        return self._trials[key]

    def _personas(self, name: str, recordings: Path) -> Any:
        from voicebot.app.web_trunks import PersonaLines, console_models

        with self.store.session() as s:
            script = self.store.campaign(s, name).script
        if script not in self._trials:
            if self._models is None:
                self._models = console_models(self.config)
            models, config = self._models
            self._trials[script] = PersonaLines(Path(script), models, config, recordings)
        return self._trials[script]
