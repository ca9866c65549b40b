"""The caller's-ear gap: how long the caller waits, measured on the audio the caller's side has.

Both channels (what the caller said, what the caller heard) are cut into 10 ms frames; a frame is
audible when its RMS is above `THRESHOLD_DBFS` (re int16 full scale). Audible frames joined across
pauses shorter than `JOIN_S` make one utterance; utterances shorter than `MIN_UTTERANCE_S` are
clicks. Then:

- a reply gap: end of a caller utterance -> onset of the bot's next utterance, when the bot was
  silent as the caller finished and starts before the caller speaks again (within `MAX_REPLY_S`);
- the greeting gap: end of the callee's hello -> onset of the bot's first utterance;
- a cut-off: the bot's utterance starts while the caller is mid-utterance (inside a caller
  utterance, pauses shorter than `JOIN_S` included): the bot spoke over a caller who had not
  finished.

Internal stage stamps (endpoint, ASR, TTS) are the breakdown; this is the headline.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, Field

FRAME_S = 0.01
THRESHOLD_DBFS = -40.0  # 10 ms RMS above -40 dBFS (328 of 32768) is audible
JOIN_S = 0.45  # shorter pauses are inside one utterance
MIN_UTTERANCE_S = 0.1
MAX_REPLY_S = 3.0
BOT_TAIL_S = 0.2  # the caller finishing this soon after the bot's audio ended overlapped it
DETECTOR = (
    f"10 ms frame RMS > {THRESHOLD_DBFS:.0f} dBFS, pauses < {JOIN_S * 1000:.0f} ms joined, "
    f"utterances >= {MIN_UTTERANCE_S * 1000:.0f} ms, replies within {MAX_REPLY_S:.0f} s"
)

Span = tuple[float, float]


def frame_dbfs(pcm: np.ndarray, rate: int) -> np.ndarray:
    """RMS level of each whole 10 ms frame, dBFS (digital silence is -120)."""
    n = int(rate * FRAME_S)
    frames = pcm[: len(pcm) // n * n].astype(np.float64).reshape(-1, n)
    rms = np.sqrt(np.mean(frames**2, axis=1)) / 32768.0
    return np.asarray(20 * np.log10(np.maximum(rms, 1e-6)))


def utterances(levels: np.ndarray) -> list[Span]:
    """(start, end) seconds of each utterance in a track of 10 ms levels."""
    out: list[Span] = []
    for i in np.flatnonzero(levels > THRESHOLD_DBFS):
        t = float(i) * FRAME_S
        if out and t - out[-1][1] < JOIN_S:
            out[-1] = (out[-1][0], t + FRAME_S)
        else:
            out.append((t, t + FRAME_S))
    return [(round(s, 3), round(e, 3)) for s, e in out if e - s >= MIN_UTTERANCE_S - 1e-9]


class EarGaps(BaseModel):
    """What the caller's side heard, in milliseconds."""

    replies_ms: list[float] = Field(default_factory=list)
    reply_after_s: list[float] = Field(default_factory=list)  # the caller's end, per reply
    greeting_ms: float | None = None
    bot_onsets: int = 0  # bot utterances heard
    cutoffs: int = 0  # bot onsets while the caller was mid-utterance
    detector: str = DETECTOR


def ear_gaps(caller: np.ndarray, bot: np.ndarray) -> EarGaps:
    """Gaps from the two level tracks (10 ms dBFS, same time origin) of one call."""
    said, heard = utterances(caller), utterances(bot)
    result = EarGaps(bot_onsets=len(heard))
    result.cutoffs = sum(any(s < onset < e for s, e in said) for onset, _ in heard)
    if heard:
        first = heard[0][0]
        before = [e for _, e in said if e <= first]
        if before and first - before[-1] < MAX_REPLY_S:
            result.greeting_ms = round((first - before[-1]) * 1000, 1)
    for k, (_, end) in enumerate(said):
        if any(s <= end <= e + BOT_TAIL_S for s, e in heard):
            continue  # the bot was talking as the caller finished: not a reply
        following = said[k + 1][0] if k + 1 < len(said) else float("inf")
        onset = next((s for s, _ in heard if end < s < following), None)
        if onset is None or onset - end >= MAX_REPLY_S or onset == heard[0][0]:
            continue  # no reply, or the greeting (reported on its own)
        result.replies_ms.append(round((onset - end) * 1000, 1))
        result.reply_after_s.append(end)
    return result


@dataclass
class EarMeter:
    """Collects both sides' levels frame by frame during a call (16 bytes per 10 ms)."""

    rate: int
    caller: list[np.ndarray] = field(default_factory=list)
    bot: list[np.ndarray] = field(default_factory=list)

    def push(self, caller_pcm: np.ndarray, bot_pcm: np.ndarray) -> None:
        self.caller.append(frame_dbfs(caller_pcm, self.rate))
        self.bot.append(frame_dbfs(bot_pcm, self.rate))

    def gaps(self) -> EarGaps:
        if not self.caller:
            return EarGaps()
        return ear_gaps(np.concatenate(self.caller), np.concatenate(self.bot))
