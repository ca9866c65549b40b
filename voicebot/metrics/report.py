"""The typed call report: one JSON per call. Campaign statistics and benchmarks aggregate these.

Personal data (the contact, transcripts, answers) lives only in the fields marked PII here;
logs never carry it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from voicebot.core.outcomes import Outcome
from voicebot.metrics.ear import EarGaps

ABANDON_S = 2.0  # US (TCPA) and UK (Ofcom) rules: a callee must hear the caller within 2 s
ABANDON_CAP = 0.03  # of answered calls, at most this share may be abandoned


def abandonment_rate(flags: list[bool | None]) -> tuple[float, int]:
    """The share of answered calls that were abandoned, and how many answered calls it is of
    (calls with no verdict, not answered by a person, are left out)."""
    answered = [f for f in flags if f is not None]
    return (round(sum(answered) / len(answered), 4) if answered else 0.0), len(answered)


class TurnLatency(BaseModel):
    """One caller turn, times in seconds on the call clock (0 = answer), kept to the
    microsecond so frame arithmetic (t + 0.02) and clock readings compare exactly."""

    model_config = ConfigDict(validate_assignment=True)

    speech_start: float
    speech_end: float  # true end of speech (VAD stop minus hangover)
    endpoint_at: float
    asr_final_at: float
    intent_at: float
    policy_at: float
    first_audio_at: float | None = None  # first frame of the reply on the line
    speculative: bool = False
    bot_was_speaking: bool = False  # the reply waited for the bot's own line: not a latency sample

    @field_validator(
        "speech_start",
        "speech_end",
        "endpoint_at",
        "asr_final_at",
        "intent_at",
        "policy_at",
        "first_audio_at",
    )
    @classmethod
    def _microseconds(cls, t: float | None) -> float | None:
        return None if t is None else round(t, 6)

    def stage_ms(self) -> dict[str, float]:
        out = {
            "endpoint": self.endpoint_at - self.speech_end,
            "asr": self.asr_final_at - self.speech_end,
            "intent": self.intent_at - self.asr_final_at,
            "policy": self.policy_at - self.intent_at,
        }
        if self.first_audio_at is not None and not self.bot_was_speaking:
            out["tts_first_audio"] = self.first_audio_at - self.policy_at
            out["end_to_end"] = self.first_audio_at - self.speech_end
        return {k: round(v * 1000, 1) for k, v in out.items()}


class Turn(BaseModel):
    text: str = Field(description="PII: what the caller said")
    asr_confidence: float
    intent: str
    confidence: float
    runners_up: list[tuple[str, float]] = Field(default_factory=list)
    node: str = Field(description="the node the caller answered")
    latency: TurnLatency
    speech_dbfs: float | None = Field(None, description="active speech level of the turn")
    snr_db: float | None = Field(None, description="speech over the noise floor around it")
    line_loss: float = Field(0.0, description="share of the turn's frames the line lost")


class BotLine(BaseModel):
    node: str
    text: str = Field(description="PII when it carries contact variables")
    queued_at: float
    first_audio_at: float | None
    ended_at: float | None
    interrupted: bool
    paused_at: list[float] = Field(
        default_factory=list, description="when caller speech over it held it (then resumed)"
    )


class TimelineEvent(BaseModel):
    """One moment of the call on its timeline (seconds on the call clock)."""

    t: float
    kind: str
    detail: str = ""


class CallReport(BaseModel):
    call_id: str
    script: str
    script_path: str
    language: str
    transport: str
    persona: str | None = None
    contact: dict[str, Any] = Field(default_factory=dict, description="PII")
    config: dict[str, Any] = Field(default_factory=dict)
    models: dict[str, str] = Field(default_factory=dict)
    started_at: str = ""  # wall time, ISO
    duration_s: float = 0.0
    outcome: Outcome = Outcome.FAILED
    ended_by: str = ""
    lead_grade: str | None = None
    records: dict[str, Any] = Field(default_factory=dict, description="PII: recorded answers")
    dnc: bool = False
    callback_at: str | None = None
    callback_requested: bool = False
    transfer: dict[str, Any] | None = None
    sms: list[dict[str, Any]] = Field(
        default_factory=list, description="text messages the script sent: node, sent, tries"
    )
    signalling: dict[str, Any] | None = Field(None, description="call-control states, SIP codes")
    path: list[str] = Field(default_factory=list)
    turns: list[Turn] = Field(default_factory=list)
    bot_lines: list[BotLine] = Field(default_factory=list)
    timeline: list[TimelineEvent] = Field(default_factory=list)
    ear: EarGaps | None = Field(
        None, description="caller's-ear gaps from the call's audio (replay: the caller's side)"
    )
    error: str | None = None
    hello_end_at: float | None = Field(
        None, description="true end of the callee's hello before the greeting (none: silent)"
    )

    def save(self, folder: Path) -> Path:
        """Write the report as `folder/<call_id>.json`; returns its path."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.call_id}.json"
        path.write_text(self.model_dump_json(indent=2), encoding="utf-8")
        return path

    def greeting_delay_s(self) -> float | None:
        """How long an answered callee waited for the bot's first audio after their hello (or
        after answering, when they said nothing); None when no bot audio was ever heard."""
        start = self.hello_end_at or 0.0
        heard = [
            line.first_audio_at
            for line in self.bot_lines
            if line.first_audio_at is not None and line.node != "screening"
        ]
        after = [t for t in heard if t >= start]
        return round(min(after) - start, 3) if after else None

    def abandoned(self) -> bool | None:
        """An answered call the callee abandoned to silence: first bot audio more than
        ABANDON_S after their hello, or none (None: not answered by a person)."""
        if not self.outcome.answered:
            return None
        delay = self.greeting_delay_s()
        return delay is None or delay > ABANDON_S

    def latencies_ms(self, stage: str) -> list[float]:
        return [ms[stage] for t in self.turns if stage in (ms := t.latency.stage_ms())]
