"""How loud and how clean one caller turn was: its active speech level and its signal-to-noise
ratio, from the per-frame levels and VAD decisions the listener already has.

Pure: frames in (time, dBFS, speech or not), one `TurnLevel` out per turn. The speech level is
the power mean of the turn's speech frames (close to ITU-T P.56 active speech level); the noise
floor is the median level of the non-speech frames around the turn (before it, in its pauses and
in the hangover after it), so a line's hiss or hum is measured where the caller is not speaking.

Thresholds, in dBFS of the 8 kHz line (dBov): a phone line carries speech at about -26 dBov
(the P.56 / G.711 nominal level; callers range about -36 to -16). The dev split of the
understanding voices (benchmarks/speak_up.py) shows where hearing breaks down; see the issue-17
report for the numbers.
"""

from __future__ import annotations

import enum
import math
from collections import deque
from dataclasses import dataclass

NOMINAL_DBFS = -26.0  # ITU-T P.56 nominal active speech level of a digital phone line
QUIET_DBFS = -42.0  # 16 dB under nominal: a caller far from the phone, or a whisper
NOISY_SNR_DB = 13.0  # measured speech (+noise) over the floor; under it words drown
NOISY_FLOOR_DBFS = NOMINAL_DBFS - NOISY_SNR_DB  # line noise that would drown a normal voice
_AROUND_S = 1.5  # noise floor: non-speech frames this far before the turn (and its hangover)
_MIN_FLOOR_FRAMES = 5
SILENT_DBFS = -120.0  # digital silence


class Audibility(enum.Enum):
    """What the turn's audio says about the caller's side of the line."""

    OK = "ok"
    QUIET = "quiet"  # speech far below a normal phone level
    NOISY = "noisy"  # speech barely above the line's noise


@dataclass(frozen=True, slots=True)
class TurnLevel:
    """One turn's active speech level and the noise floor around it (dBFS), and the share of
    its frames the line lost (frames that never arrived, played as silence)."""

    speech_dbfs: float
    noise_dbfs: float
    loss: float = 0.0

    @property
    def snr_db(self) -> float:
        return self.speech_dbfs - self.noise_dbfs

    def audibility(
        self, quiet_dbfs: float = QUIET_DBFS, noisy_snr_db: float = NOISY_SNR_DB
    ) -> Audibility:
        if self.snr_db < noisy_snr_db:
            return Audibility.NOISY
        if self.speech_dbfs < quiet_dbfs:
            return Audibility.QUIET
        return Audibility.OK

    def without_words(self) -> Audibility:
        """For a turn with no words in it, whose 'speech' may be the line's noise itself: the
        line is noisy when its floor would drown a normal voice, quiet when a faint sound stood
        out of the line (not the line's own hiss, which a fair line has and which is ignored)."""
        if self.noise_dbfs > NOISY_FLOOR_DBFS:
            return Audibility.NOISY
        if self.speech_dbfs < QUIET_DBFS and self.snr_db >= NOISY_SNR_DB:
            return Audibility.QUIET
        return Audibility.OK


def power_mean_db(levels: list[float]) -> float:
    """The level of the frames' mean power (a loud frame counts for more than a quiet one)."""
    if not levels:
        return SILENT_DBFS
    mean = sum(10 ** (db / 10) for db in levels) / len(levels)
    return max(SILENT_DBFS, 10 * math.log10(mean)) if mean > 0 else SILENT_DBFS


class LevelMeter:
    """The last seconds of frame levels and VAD decisions; `turn(start, end)` measures one turn.

    `push` each tick's frame as the VAD judged it (t is the frame's start on the call clock):
    `received` False when the line delivered nothing this tick (the frame is silence, counted for
    neither speech nor noise), `missing` the frames the line lost before this one (a gap in the
    sender's timestamps, as RTP sequence numbers show it)."""

    def __init__(self, frame_s: float = 0.02, history_s: float = 40.0) -> None:
        self.frame_s = frame_s
        self._frames: deque[tuple[float, float, bool, bool, int]] = deque(
            maxlen=int(history_s / frame_s)
        )

    def push(
        self, t: float, dbfs: float, speech: bool, received: bool = True, missing: int = 0
    ) -> None:
        self._frames.append((t, dbfs, speech, received, missing))

    def turn(self, start: float, end: float) -> TurnLevel:
        eps = self.frame_s / 2
        span = [f for f in self._frames if start - eps <= f[0] < end - eps]
        missing = sum(f[4] for f in span)
        arrived = sum(f[3] for f in span)
        loss = missing / (arrived + missing) if missing > 0 else 0.0
        inside = [(db, sp) for _, db, sp, got, _ in span if got]
        speech = [db for db, sp in inside if sp] or [db for db, _ in inside]
        around = [
            db
            for t, db, sp, got, _ in self._frames
            if not sp and got and start - _AROUND_S <= t and not (start - eps <= t < end - eps)
        ]
        quiet = around + [db for db, sp in inside if not sp]
        if len(quiet) < _MIN_FLOOR_FRAMES:  # no pause to measure: the quietest tenth of the turn
            ranked = sorted(db for db, _ in inside)
            quiet = ranked[: max(1, len(ranked) // 10)]
        return TurnLevel(power_mean_db(speech), _median(quiet), loss)


def _median(values: list[float]) -> float:
    if not values:
        return SILENT_DBFS
    ranked = sorted(values)
    mid = len(ranked) // 2
    return ranked[mid] if len(ranked) % 2 else (ranked[mid - 1] + ranked[mid]) / 2
