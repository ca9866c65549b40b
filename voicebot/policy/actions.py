"""What the policy hears (events) and what it asks the call to do (actions), and the one
interpreter of actions: `carry_out` hands each to an `ActionSink` (the call session on a phone
line, the LiveKit agent in a room)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from voicebot.core.outcomes import Outcome
from voicebot.vad.level import Audibility


@dataclass(frozen=True, slots=True)
class Heard:
    """A caller turn, already classified. `now` is the call's wall time, for dates like
    "tomorrow"; the policy never reads a clock. `audibility` is what the turn's audio level and
    SNR say (quiet, noisy or ok); `line_loss` the share of the turn's frames the line lost."""

    text: str
    intent: str
    confidence: float
    now: datetime
    audibility: Audibility = Audibility.OK
    line_loss: float = 0.0


@dataclass(frozen=True, slots=True)
class Unheard:
    """The caller spoke (speech of real length) but the recogniser has no usable text: the bot
    asks again in other words (or to speak up, when the audio was quiet or noisy); this is never
    taken for silence."""

    speech_s: float
    audibility: Audibility = Audibility.OK
    line_loss: float = 0.0


@dataclass(frozen=True, slots=True)
class Silence:
    """The caller said nothing for the no-input timeout."""


@dataclass(frozen=True, slots=True)
class HandoffResult:
    connected: bool


PolicyEvent = Heard | Unheard | Silence | HandoffResult


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
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class SlowDown:
    """Speak more slowly from now on in this call: the voice's length scale times `factor`."""

    factor: float


@dataclass(frozen=True, slots=True)
class SendSms:
    """Send the caller this text message (the node's `sms`), through the configured webhook."""

    node: str
    text: str


Action = (
    Say | Record | Transfer | ScheduleCallback | MarkDnc | SetGrade | HangUp | SlowDown | SendSms
)


class ActionSink(Protocol):
    """Carries out the policy's actions for one call, in the order given."""

    async def say(self, action: Say) -> None: ...

    async def record(self, action: Record) -> None: ...

    async def set_grade(self, action: SetGrade) -> None: ...

    async def schedule_callback(self, action: ScheduleCallback) -> None: ...

    async def mark_dnc(self, action: MarkDnc) -> None: ...

    async def transfer(self, action: Transfer) -> None: ...

    async def hang_up(self, action: HangUp) -> None: ...

    async def slow_down(self, action: SlowDown) -> None: ...

    async def send_sms(self, action: SendSms) -> None: ...


async def carry_out(actions: Iterable[Action], sink: ActionSink) -> None:
    for action in actions:
        match action:
            case Say():
                await sink.say(action)
            case Record():
                await sink.record(action)
            case SetGrade():
                await sink.set_grade(action)
            case ScheduleCallback():
                await sink.schedule_callback(action)
            case MarkDnc():
                await sink.mark_dnc(action)
            case Transfer():
                await sink.transfer(action)
            case HangUp():
                await sink.hang_up(action)
            case SlowDown():
                await sink.slow_down(action)
            case SendSms():
                await sink.send_sms(action)
