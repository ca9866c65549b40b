"""Transports the dialer places calls through: a fast simulated trunk (seeded outcomes, no
audio), simulated callees through the full pipeline (personas), and real SIP. Every trunk that
runs a conversation turns its call report into the campaign's result with `CallResult.of`."""

from __future__ import annotations

import os
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

from voicebot.app.outbound import SipCaller
from voicebot.campaign.dialer import CallResult, CampaignClock, Dial
from voicebot.core.clock import Clock
from voicebot.core.outcomes import Outcome
from voicebot.sim.persona import load_persona
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

    def __init__(self, clock: CampaignClock, seed: int = 0, speed: float = 1.0,
                 dial_log: Path | None = None,
                 outcomes: dict[Outcome, float] | None = None) -> None:  # fmt: skip
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
        talk = {"completed": 75, "refused": 20, "callback": 35, "transferred": 60,
                "wrong_person": 12, "dnc": 15, "voicemail": 25}.get(outcome, 0)  # fmt: skip
        duration = (rng.uniform(3, 25) + talk * rng.uniform(0.6, 1.4)) / self.speed
        await self.clock.sleep(duration)
        answers = {}
        if outcome == "completed":
            answers = {"survey.punctuality": rng.randint(1, 5), "survey.quality": rng.randint(1, 5),
                       "survey.recommend": rng.randint(1, 10)}  # fmt: skip
        callback = self.clock.now() + timedelta(days=1) if outcome == "callback" else None
        grade = {"completed": rng.choice("ABC"), "transferred": "A"}.get(outcome)
        latency = {"end_to_end_p50": rng.uniform(300, 450)} if talk else {}
        return CallResult(outcome=outcome,
                          duration_s=round(duration * self.speed, 1), answers=answers,
                          grade=grade, dnc=outcome == "dnc", transferred=outcome == "transferred",
                          callback_at=callback, latency_ms=latency)  # fmt: skip


class PersonaTrunk:
    """Simulated callees through the whole pipeline: the contact's `persona` variable says who
    answers (the demo's and trial runs' transport)."""

    def __init__(self, trial: Trial, clock: Clock, reports: Path | None = None) -> None:
        self.trial, self.clock, self.reports = trial, clock, reports
        self.calls: list[TrialCall] = []

    async def place(self, dial: Dial) -> CallResult:
        persona = load_persona(str(dial.variables.get("persona", "cooperative")))
        call = await self.trial.call(persona, self.clock, contact=self._contact(dial))
        self.calls.append(call)
        path = call.report.save(self.reports) if self.reports is not None else None
        return CallResult.of(call.report, path)

    def _contact(self, dial: Dial) -> dict[str, Any]:
        contact = {**self.trial.script.example_contact, **dial.variables}
        if dial.name:
            contact["name"] = dial.name
        return contact


class SipTrunk:
    """Real calls over a running SIP stack."""

    def __init__(self, caller: SipCaller, reports: Path) -> None:
        self.caller, self.reports = caller, reports

    async def place(self, dial: Dial) -> CallResult:
        report = await self.caller.call(dial.phone, dial.contact)
        return CallResult.of(report, report.save(self.reports))
