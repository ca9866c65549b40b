"""Call control as an explicit state machine, apart from media: what happened to a dialled call.

Pure: it is fed signalling facts (a provisional or final SIP status, an answer, a BYE, a timer)
and says the state and, once over, the outcome that goes into the call report. The SIP
transport feeds it from PJSIP callbacks; tests feed it by hand."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from voicebot.core.outcomes import Outcome


class SignallingState(StrEnum):
    """Where a dialled call stands in signalling (not in the conversation)."""

    IDLE = "idle"
    DIALING = "dialing"  # INVITE sent, nothing heard back yet
    RINGING = "ringing"  # 180
    EARLY_MEDIA = "early_media"  # 183 with SDP: the network plays tones or announcements
    ANSWERED = "answered"
    ENDED = "ended"


def outcome_for_status(code: int) -> Outcome:
    """The outcome of a dial attempt that ended with this final SIP status before answer."""
    if code in (486, 600):
        return Outcome.BUSY
    if code == 603:
        return Outcome.DECLINED
    if code in (408, 480, 487):
        return Outcome.NO_ANSWER
    if code in (488, 606, 415):
        return Outcome.INCOMPATIBLE
    return Outcome.FAILED


@dataclass(frozen=True, slots=True)
class Transition:
    t: float
    state: SignallingState
    code: int = 0
    reason: str = ""


@dataclass
class CallControl:
    """One dialled call. Every method takes the time on the call clock (0 = dialled)."""

    state: SignallingState = SignallingState.IDLE
    outcome: Outcome | None = None
    ended_by: str | None = None  # bot | callee | network | deadline
    final_code: int = 0
    final_reason: str = ""
    answered_at: float | None = None
    history: list[Transition] = field(default_factory=list)

    def dial(self, t: float) -> None:
        self._require(SignallingState.IDLE)
        self._go(t, SignallingState.DIALING)

    def provisional(self, t: float, code: int, reason: str = "", sdp: bool = False) -> None:
        if self.state not in (
            SignallingState.DIALING,
            SignallingState.RINGING,
            SignallingState.EARLY_MEDIA,
        ):
            return  # a late 18x after answer or end changes nothing
        if code == 183 or (sdp and code in (180, 181, 182)):
            self._go(t, SignallingState.EARLY_MEDIA, code, reason)
        elif code in (180, 181, 182) and self.state is SignallingState.DIALING:
            self._go(t, SignallingState.RINGING, code, reason)

    def answer(self, t: float) -> None:
        if self.state in (SignallingState.ANSWERED, SignallingState.ENDED):
            return
        self.answered_at = t
        self._go(t, SignallingState.ANSWERED, 200)

    def end(self, t: float, code: int, reason: str, by: str) -> None:
        """The call ended: a final failure before answer, a BYE after, or our own hang-up."""
        if self.state is SignallingState.ENDED:
            return
        if self.state is SignallingState.ANSWERED:
            self.outcome = Outcome.HUNG_UP
        elif by == "bot" and code in (0, 487):
            dialing = self.state is SignallingState.DIALING
            self.outcome = Outcome.FAILED if dialing else Outcome.NO_ANSWER
        else:
            self.outcome = outcome_for_status(code)
        self.ended_by, self.final_code, self.final_reason = by, code, reason
        self._go(t, SignallingState.ENDED, code, reason)

    def expire(self, t: float, outcome: Outcome, reason: str) -> None:
        """A timer ended the call: ring timeout, trunk silence, RTP timeout, max duration."""
        if self.state is SignallingState.ENDED:
            return
        self.outcome, self.ended_by, self.final_reason = outcome, "bot", reason
        self._go(t, SignallingState.ENDED, 0, reason)

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

    def _require(self, *states: SignallingState) -> None:
        if self.state not in states:
            raise ValueError(f"call is {self.state}, expected {' or '.join(states)}")

    def _go(self, t: float, state: SignallingState, code: int = 0, reason: str = "") -> None:
        self.state = state
        self.history.append(Transition(t, state, code, reason))
