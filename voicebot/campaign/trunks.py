"""Transports the dialer places calls through: a fast simulated trunk (seeded outcomes, no
audio), simulated callees through the full pipeline (personas), and real SIP."""

from __future__ import annotations

import os
import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from voicebot.campaign.dialer import CallResult, CampaignClock, Dial
from voicebot.core.clock import Clock
from voicebot.metrics.report import CallReport
from voicebot.sim.persona import load_persona
from voicebot.sim.trial import Trial, TrialCall

OUTCOMES = {  # a plausible outbound mix
    "no_answer": 0.30, "busy": 0.08, "voicemail": 0.12, "failed": 0.03, "completed": 0.25,
    "refused": 0.10, "callback": 0.05, "transferred": 0.04, "wrong_person": 0.02, "dnc": 0.01,
}  # fmt: skip


class SimulatedTrunk:
    """Seeded random outcomes after a plausible ring and talk time, on the campaign clock.
    With `dial_log`, each dial's attempt id is appended (and fsynced) as it is placed: the
    far end's own record, for checking that nobody was dialled twice."""

    def __init__(self, clock: CampaignClock, seed: int = 0, speed: float = 1.0,
                 dial_log: Path | None = None,
                 outcomes: dict[str, float] | None = None) -> None:  # fmt: skip
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
        return CallResult(outcome="dnc" if outcome == "dnc" else outcome,
                          duration_s=round(duration * self.speed, 1), answers=answers,
                          grade=grade, dnc=outcome == "dnc", transferred=outcome == "transferred",
                          callback_at=callback, latency_ms=latency)  # fmt: skip


def result_of(report: CallReport, report_path: Path | None = None) -> CallResult:
    """What a call report means for the campaign."""
    callback = None
    if report.callback_at:
        callback = datetime.fromisoformat(report.callback_at).replace(tzinfo=None)
    e2e = sorted(report.latencies_ms("end_to_end"))
    latency = {"end_to_end_p50": e2e[len(e2e) // 2]} if e2e else {}
    outcome = (
        "callback" if report.callback_requested and report.outcome == "callback" else report.outcome
    )
    return CallResult(outcome=outcome, duration_s=report.duration_s, answers=dict(report.records),
                      grade=report.lead_grade, dnc=report.dnc,
                      transferred=bool(report.transfer and report.transfer.get("connected")),
                      callback_at=callback, latency_ms=latency,
                      report_path=str(report_path) if report_path else None)  # fmt: skip


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
        path = None
        if self.reports is not None:
            self.reports.mkdir(parents=True, exist_ok=True)
            path = self.reports / f"{call.report.call_id}.json"
            path.write_text(call.report.model_dump_json(indent=2), encoding="utf-8")
        return result_of(call.report, path)

    def _contact(self, dial: Dial) -> dict[str, Any]:
        contact = {**self.trial.script.example_contact, **dial.variables}
        if dial.name:
            contact["name"] = dial.name
        return contact


class SipTrunk:
    """Real calls over a running SIP stack."""

    def __init__(self, trial: Trial, stack: Any, sip: Any, reports: Path) -> None:
        from voicebot.session.outbound import SipCaller

        self.caller = SipCaller(trial, stack, sip)
        self.trial, self.reports = trial, reports

    async def place(self, dial: Dial) -> CallResult:
        contact = {**dial.variables, "name": dial.name} if dial.name else dict(dial.variables)
        report = await self.caller.call(dial.phone, contact)
        self.reports.mkdir(parents=True, exist_ok=True)
        path = self.reports / f"{report.call_id}.json"
        path.write_text(report.model_dump_json(indent=2), encoding="utf-8")
        return result_of(report, path)
