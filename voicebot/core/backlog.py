"""How far behind the process's recogniser is: the gauge a dialer reads before it admits a call.

The ASR scheduler (`asr/schedule.py`) reports how long final decodes wait for a free slot; the
campaign dialer admits a new call only while that lag stays under its bound (`admit`). The gauge
counts real seconds of queueing for compute: under a virtual clock, compute runs in real time
too, so the wait is the same on both.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Backlog:
    """Queue wait of final decodes: the oldest one still waiting, or a smoothed recent wait."""

    def __init__(self, smoothing: float = 0.3, now: Callable[[], float] = time.perf_counter):
        self.smoothing = smoothing
        self._now = now
        self._recent = 0.0  # exponentially smoothed wait of the finals that started
        self._waiting: dict[int, float] = {}  # ticket -> when it began waiting

    def waiting(self, ticket: int) -> None:
        self._waiting[ticket] = self._now()

    def started(self, ticket: int) -> None:
        """The decode got its slot (or was given up): its wait feeds the smoothed lag."""
        began = self._waiting.pop(ticket, None)
        if began is not None:
            wait = self._now() - began
            self._recent += self.smoothing * (wait - self._recent)

    def no_wait(self) -> None:
        """A final that found a free slot at once."""
        self._recent += self.smoothing * (0.0 - self._recent)

    def forget(self, ticket: int) -> None:
        self._waiting.pop(ticket, None)

    def lag_s(self) -> float:
        oldest = min(self._waiting.values(), default=None)
        current = 0.0 if oldest is None else self._now() - oldest
        return max(current, self._recent)


ASR_BACKLOG = Backlog()  # the process's recogniser; read by the campaign dialer


def admit(free_lines: int, in_progress: int, lag_s: float, max_lag_s: float | None) -> int:
    """How many new calls to place now: all free lines while the recogniser keeps up; one at a
    time once it lags half of `max_lag_s`; none from `max_lag_s` on (the calls in progress
    would answer later still), except one when no call is in progress (the lag is then stale)."""
    if free_lines <= 0:
        return 0
    if max_lag_s is None or lag_s < max_lag_s / 2:
        return free_lines
    if lag_s < max_lag_s or in_progress == 0:
        return 1
    return 0
