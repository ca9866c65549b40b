"""When the caller's side of the line, not the caller, is the problem: pure rules over the
measures of the last turns (their audibility and the share of frames the line lost).

Frame loss thresholds follow the E-model (ITU-T G.107 / G.113 Appendix I): G.711 with packet
loss concealment has Bpl = 25.1, so random loss Ppl costs Ie,eff = 95 * Ppl / (Ppl + 25.1) points
of the R factor (93 on a clean line). At 10 % loss R falls to about 66 ("many users
dissatisfied"): words go missing, and a turn not understood is the line's fault. At 20 % R is
about 51 ("nearly all users dissatisfied"): a conversation is no longer possible, whatever the
recogniser makes of it. The loopback line counts a frame that came too late (its jitter) as lost,
as a jitter buffer that conceals it would: the noisy_line persona (1 % loss, 10 ms jitter)
measures 0-4 % per turn, well under the first threshold."""

from __future__ import annotations

from voicebot.vad.level import Audibility

LOSSY_TURN = 0.10  # a turn that lost this share of its frames was hard to hear
BROKEN_TURN = 0.20  # ... this much: the line is broken
MAX_SPEAK_UP = 2  # asks to speak up in a row; the next faint turn ends with a callback
LOSS_MEMORY = 3  # turns the policy remembers


def remember(losses: tuple[float, ...], loss: float) -> tuple[float, ...]:
    return (*losses, loss)[-LOSS_MEMORY:]


def broken_line(losses: tuple[float, ...]) -> bool:
    """The last two turns both lost a fifth of their frames or more."""
    return len(losses) >= 2 and all(x >= BROKEN_TURN for x in losses[-2:])


def unstable_line(losses: tuple[float, ...]) -> bool:
    """A turn not understood on a line that lost frames in it and in the turn before."""
    return len(losses) >= 2 and all(x >= LOSSY_TURN for x in losses[-2:])


def lossy(losses: tuple[float, ...]) -> bool:
    """The last turn lost frames enough to explain why it was not understood."""
    return bool(losses) and losses[-1] >= LOSSY_TURN


def faint(audibility: Audibility) -> bool:
    return audibility is not Audibility.OK
