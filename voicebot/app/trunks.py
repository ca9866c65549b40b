"""Transports the dialer places calls through: a fast simulated trunk (seeded outcomes, no
audio), simulated callees through the full pipeline (personas), and real SIP. Every trunk that
runs a conversation turns its call report into the campaign's result with `CallResult.of`."""

from __future__ import annotations

import os
import random
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voicebot.campaign.dialer import CallResult, CampaignClock, Dial
from voicebot.core.clock import Clock
from voicebot.core.outcomes import Outcome

if TYPE_CHECKING:  # the conversing trunks' stages load models: imported by those who use them
    from voicebot.app.outbound import SipCaller
    from voicebot.sim.trial import Trial, TrialCall

OUTCOMES = {  # a plausible outbound mix
    Outcome.NO_ANSWER: 0.30,
    Outcome.BUSY: 0.08,
    Outcome.VOICEMAIL: 0.12,
    Outcome.FAILED: 0.03,
    Outcome.COMPLETED: 0.25,
    Outcome.REFUSED: 0.10,
    Outcome.CALLBACK: 0.05,
    Outcome.TRANSFERRED: 0.04,
    Outcome.WRONG_PERSON: 0.02,
    Outcome.DNC: 0.01,
}


class SimulatedTrunk:
    """Seeded random outcomes after a plausible ring and talk time, on the campaign clock.
    With `dial_log`, each dial's attempt id is appended (and fsynced) as it is placed: the
    far end's own record, for checking that nobody was dialled twice."""

    def __init__(
        self,
        clock: CampaignClock,
        seed: int = 0,
        speed: float = 1.0,
        dial_log: Path | None = None,
        outcomes: dict[Outcome, float] | None = None,
    ) -> None:
        self.clock, self.speed, self.dial_log = clock, speed, dial_log
        self.outcomes = outcomes or OUTCOMES
        self.seed = seed

    async def place(self, dial: Dial) -> CallResult:
        rng = random.Random(f"{self.seed}:{dial.contact_id}:{dial.number}")
        if self.dial_log is not None:
            with self.dial_log.open("a") as f:
                f.write(f"{dial.attempt_id} {dial.contact_id}\n")
                f.flush()
                os.fsync(f.fileno())
        outcome = rng.choices(list(self.outcomes), list(self.outcomes.values()))[0]
        talk = {
            "completed": 75,
            "refused": 20,
            "callback": 35,
            "transferred": 60,
            "wrong_person": 12,
            "dnc": 15,
            "voicemail": 25,
        }.get(outcome, 0)
        ring = rng.uniform(3, 25) / self.speed
        duration = ring + talk * rng.uniform(0.6, 1.4) / self.speed
        await self.clock.sleep(ring)
        if talk:
            dial.answered()
        await self.clock.sleep(duration - ring)
        answers = {}
        if outcome == "completed":
            answers = {
                "survey.punctuality": rng.randint(1, 5),
                "survey.quality": rng.randint(1, 5),
                "survey.recommend": rng.randint(1, 10),
            }
        callback = self.clock.now() + timedelta(days=1) if outcome == "callback" else None
        grade = {"completed": rng.choice("ABC"), "transferred": "A"}.get(outcome)
        latency = {"end_to_end_p50": rng.uniform(300, 450)} if talk else {}
        return CallResult(
            outcome=outcome,
            duration_s=round(duration * self.speed, 1),
            answers=answers,
            grade=grade,
            dnc=outcome == "dnc",
            transferred=outcome == "transferred",
            callback_at=callback,
            latency_ms=latency,
        )


class PersonaTrunk:
    """Simulated callees through the whole pipeline: the contact's `persona` variable says who
    answers (the demo's and trial runs' transport). With `wall`, each call's wall clock is the
    campaign's time in the contact's zone (callbacks are booked in the callee's time)."""

    def __init__(
        self,
        trial: Trial,
        clock: Clock,
        reports: Path | None = None,
        wall: CampaignClock | None = None,
        recording: bool | None = None,
    ) -> None:
        self.trial, self.clock, self.reports, self.wall = trial, clock, reports, wall
        self.calls: list[TrialCall] = []
        recorded = script_says_recorded(trial.script) if recording is None else recording
        if recorded and reports is not None and trial.record_to is None:
            trial.record_to = reports / "recordings"

    async def place(self, dial: Dial) -> CallResult:
        from voicebot.sim.persona import load_persona

        persona = load_persona(str(dial.variables.get("persona", "cooperative")))
        started = dial.local_time(self.wall.now()) if self.wall is not None else None
        call = await self.trial.call(
            persona,
            self.clock,
            contact=self._contact(dial),
            started_wall=started,
            on_answer=dial.answered,
        )
        self.calls.append(call)
        path = call.report.save(self.reports) if self.reports is not None else None
        return CallResult.of(call.report, path, _recording(self.trial.record_to, call.report))

    def _contact(self, dial: Dial) -> dict[str, Any]:
        contact = {**self.trial.script.example_contact, **dial.variables}
        if dial.name:
            contact["name"] = dial.name
        return contact


class SipTrunk:
    """Real calls over a running SIP stack; recorded (stereo WAV next to the reports) when the
    campaign or the script says calls are recorded."""

    def __init__(
        self,
        caller: SipCaller,
        reports: Path,
        wall: CampaignClock | None = None,
        recording: bool | None = None,
    ) -> None:
        self.caller, self.reports, self.wall = caller, reports, wall
        recorded = script_says_recorded(caller.stages.script) if recording is None else recording
        self.record_to = reports / "recordings" if recorded else None

    async def place(self, dial: Dial) -> CallResult:
        started = dial.local_time(self.wall.now()) if self.wall is not None else None
        report = await self.caller.call(
            dial.phone, dial.contact, self.record_to, started_wall=started, on_answer=dial.answered
        )
        return CallResult.of(report, report.save(self.reports), _recording(self.record_to, report))


RECORDED = ("this call is recorded", "call may be recorded", "calls are recorded", "录音")


def script_says_recorded(script: Any) -> bool:
    """Whether a script tells the callee the call is recorded (then it must be): any of its
    lines says so."""
    texts: list[str] = []
    for node in script.nodes.values():
        texts += [str(v) for v in _strings(node.model_dump())]
    texts += [str(v) for v in _strings(script.lines.model_dump())]
    return any(marker in text.lower() for text in texts for marker in RECORDED)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _recording(folder: Path | None, report: Any) -> Path | None:
    if folder is None:
        return None
    path = folder / f"{report.call_id}.wav"
    return path if path.exists() else None
