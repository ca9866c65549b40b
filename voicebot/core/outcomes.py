"""The one vocabulary of call outcomes: what came of a dial attempt, for the call report, the
campaign store, the retry rules and the reports."""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    # a script's closings (a script may end a call with these)
    COMPLETED = "completed"
    REFUSED = "refused"
    WRONG_PERSON = "wrong_person"
    CALLBACK = "callback"
    DNC = "dnc"
    TRANSFERRED = "transferred"
    NO_INPUT = "no_input"
    ABUSIVE = "abusive"
    VOICEMAIL = "voicemail"
    # an answered call that the line, not the script, ended
    HUNG_UP = "hung_up"
    MAX_DURATION = "max_duration"
    RTP_TIMEOUT = "rtp_timeout"
    # a dial that never reached a conversation
    BUSY = "busy"
    DECLINED = "declined"
    NO_ANSWER = "no_answer"
    INCOMPATIBLE = "incompatible"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # the dialer died mid-call: the call's fate is unknown

    @property
    def scripted(self) -> bool:
        """A script may close a call with this outcome."""
        return self in _SCRIPTED

    @property
    def answered(self) -> bool:
        """A person answered (the answer-rate numerator)."""
        return self in _ANSWERED

    @property
    def retryable(self) -> bool:
        """A campaign may dial again after it (`retries` rules exist only for these)."""
        return self in _RETRYABLE

    @property
    def final(self) -> bool:
        """The contact is done after it (callbacks: unless one was booked)."""
        return not self.retryable


_SCRIPTED = frozenset(
    {
        Outcome.COMPLETED,
        Outcome.REFUSED,
        Outcome.WRONG_PERSON,
        Outcome.CALLBACK,
        Outcome.DNC,
        Outcome.TRANSFERRED,
        Outcome.NO_INPUT,
        Outcome.ABUSIVE,
        Outcome.VOICEMAIL,
    }
)
_ANSWERED = frozenset(
    {
        Outcome.COMPLETED,
        Outcome.REFUSED,
        Outcome.WRONG_PERSON,
        Outcome.DNC,
        Outcome.TRANSFERRED,
        Outcome.NO_INPUT,
        Outcome.ABUSIVE,
        Outcome.CALLBACK,
        Outcome.HUNG_UP,
        Outcome.MAX_DURATION,
    }
)
_RETRYABLE = frozenset(
    {
        Outcome.NO_ANSWER,
        Outcome.BUSY,
        Outcome.VOICEMAIL,
        Outcome.FAILED,
        Outcome.INTERRUPTED,
        Outcome.RTP_TIMEOUT,
    }
)
SCRIPTED = sorted(_SCRIPTED)
ANSWERED = sorted(_ANSWERED)
RETRYABLE = sorted(_RETRYABLE)
