"""What the policy hears (events) and what it asks the call to do (actions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Heard:
    """A caller turn, already classified. `now` is the call's wall time, for dates like
    "tomorrow"; the policy never reads a clock."""

    text: str
    intent: str
    confidence: float
    now: datetime


@dataclass(frozen=True, slots=True)
class Unheard:
    """The caller spoke (speech of real length) but the recogniser has no usable text: the bot
    asks again in other words; this is never taken for silence."""

    speech_s: float


@dataclass(frozen=True, slots=True)
class Silence:
    """The caller said nothing for the no-input timeout."""


@dataclass(frozen=True, slots=True)
class HandoffResult:
    connected: bool


Event = Heard | Unheard | Silence | HandoffResult


@dataclass(frozen=True, slots=True)
class Say:
    node: str  # node or handler the line belongs to, for reports and coverage
    text: str
    protected: bool = False
    audio: str | None = None


@dataclass(frozen=True, slots=True)
class Record:
    field: str
    value: str | int | float | bool


@dataclass(frozen=True, slots=True)
class Transfer:
    reason: str
    summary: str


@dataclass(frozen=True, slots=True)
class ScheduleCallback:
    when: datetime | None


@dataclass(frozen=True, slots=True)
class MarkDnc:
    pass


@dataclass(frozen=True, slots=True)
class SetGrade:
    grade: str


@dataclass(frozen=True, slots=True)
class HangUp:
    outcome: str


Action = Say | Record | Transfer | ScheduleCallback | MarkDnc | SetGrade | HangUp
