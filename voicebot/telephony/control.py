"""Call control as an explicit state machine, apart from media: what happened to a dialled call.

Pure: it is fed signalling facts (a provisional or final SIP status, an answer, a BYE, a timer)
and says the state and, once over, the outcome that goes into the call report. The SIP
transport feeds it from PJSIP callbacks; tests feed it by hand."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class CallState(StrEnum):
    IDLE = "idle"
    DIALING = "dialing"  # INVITE sent, nothing heard back yet
    RINGING = "ringing"  # 180
    EARLY_MEDIA = "early_media"  # 183 with SDP: the network plays tones or announcements
    ANSWERED = "answered"
    ENDED = "ended"


# outcomes of a call that never reached the conversation
BUSY, DECLINED, NO_ANSWER, FAILED, INCOMPATIBLE = (
    "busy", "declined", "no_answer", "failed", "incompatible",
)  # fmt: skip
# outcomes of an answered call that the line (not the script) ended
HUNG_UP, MAX_DURATION, RTP_TIMEOUT = "hung_up", "max_duration", "rtp_timeout"


def outcome_for_status(code: int) -> str:
    """The outcome of a dial attempt that ended with this final SIP status before answer."""
    if code in (486, 600):
        return BUSY
    if code == 603:
        return DECLINED
    if code in (408, 480, 487):
        return NO_ANSWER
    if code in (488, 606, 415):
        return INCOMPATIBLE
    return FAILED


@dataclass(frozen=True, slots=True)
class Transition:
    t: float
    state: CallState
    code: int = 0
    reason: str = ""


@dataclass
class CallControl:
    """One dialled call. Every method takes the time on the call clock (0 = dialled)."""

    state: CallState = CallState.IDLE
    outcome: str | None = None
    ended_by: str | None = None  # bot | callee | network | deadline
    final_code: int = 0
    final_reason: str = ""
    answered_at: float | None = None
    history: list[Transition] = field(default_factory=list)

    def dial(self, t: float) -> None:
        self._require(CallState.IDLE)
        self._go(t, CallState.DIALING)

    def provisional(self, t: float, code: int, reason: str = "", sdp: bool = False) -> None:
        if self.state not in (CallState.DIALING, CallState.RINGING, CallState.EARLY_MEDIA):
            return  # a late 18x after answer or end changes nothing
        if code == 183 or (sdp and code in (180, 181, 182)):
            self._go(t, CallState.EARLY_MEDIA, code, reason)
        elif code in (180, 181, 182) and self.state is CallState.DIALING:
            self._go(t, CallState.RINGING, code, reason)

    def answer(self, t: float) -> None:
        if self.state in (CallState.ANSWERED, CallState.ENDED):
            return
        self.answered_at = t
        self._go(t, CallState.ANSWERED, 200)

    def end(self, t: float, code: int, reason: str, by: str) -> None:
        """The call ended: a final failure before answer, a BYE after, or our own hang-up."""
        if self.state is CallState.ENDED:
            return
        if self.state is CallState.ANSWERED:
            self.outcome = HUNG_UP
        elif by == "bot" and code in (0, 487):
            self.outcome = NO_ANSWER if self.state is not CallState.DIALING else FAILED
        else:
            self.outcome = outcome_for_status(code)
        self.ended_by, self.final_code, self.final_reason = by, code, reason
        self._go(t, CallState.ENDED, code, reason)

    def expire(self, t: float, outcome: str, reason: str) -> None:
        """A timer ended the call: ring timeout, trunk silence, RTP timeout, max duration."""
        if self.state is CallState.ENDED:
            return
        self.outcome, self.ended_by, self.final_reason = outcome, "bot", reason
        self._go(t, CallState.ENDED, 0, reason)

    @property
    def answered(self) -> bool:
        return self.answered_at is not None

    def as_report(self) -> dict[str, object]:
        return {
            "outcome": self.outcome,
            "ended_by": self.ended_by,
            "final_code": self.final_code,
            "final_reason": self.final_reason,
            "answered_at": self.answered_at,
            "states": [
                {"t": round(h.t, 3), "state": str(h.state), "code": h.code, "reason": h.reason}
                for h in self.history
            ],
        }

    def _require(self, *states: CallState) -> None:
        if self.state not in states:
            raise ValueError(f"call is {self.state}, expected {' or '.join(states)}")

    def _go(self, t: float, state: CallState, code: int = 0, reason: str = "") -> None:
        self.state = state
        self.history.append(Transition(t, state, code, reason))
