"""The outbound half of a call: lines queued by the policy, synthesised, played 20 ms at a time.

Barge-in cuts the line being played (unless it is protected) and everything queued after it,
or first pauses it while the caller's speech is judged (a backchannel lets it go on from where
it paused); each line keeps a record of when it was queued, when its first audio went out,
when it paused and whether it was cut."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from voicebot.audio.frames import samples_per_frame


@dataclass(slots=True)
class PlayedLine:
    node: str
    text: str
    protected: bool
    queued_at: float
    first_audio_at: float | None = None
    ended_at: float | None = None
    interrupted_at: float | None = None
    paused_at: list[float] = field(default_factory=list)  # when barge-in held it (then resumed)
    audio: deque[np.ndarray] = field(default_factory=deque, repr=False)
    synthesised: bool = False  # all audio has been fed
    # a short fixed phrase ("好的，") played first if the line's own audio is not there
    # `bridge_after_s` after its turn came (a late render: never a long silence)
    bridge: np.ndarray | None = field(default=None, repr=False)
    bridged_at: float | None = None
    due_at: float | None = None  # when the line reached the head of the queue


class Playout:
    """Feed PCM per line; `next_frame(t)` hands out one frame of the current line or None."""

    def __init__(self, rate: int, bridge_after_s: float = 0.6) -> None:
        self.rate = rate
        self.bridge_after_s = bridge_after_s
        self.frame = samples_per_frame(rate)
        self.queue: deque[PlayedLine] = deque()
        self.lines: list[PlayedLine] = []
        self._pending = np.zeros(0, np.int16)
        self.paused = False

    def add(self, node: str, text: str, protected: bool, t: float) -> PlayedLine:
        line = PlayedLine(node, text, protected, t)
        self.queue.append(line)
        self.lines.append(line)
        return line

    @property
    def busy(self) -> bool:
        """A line is playing, or waiting for synthesis or its turn."""
        return bool(self.queue)

    @property
    def current(self) -> PlayedLine | None:
        return self.queue[0] if self.queue else None

    def next_frame(self, t: float) -> np.ndarray | None:
        if self.paused:
            return None
        while self.queue:
            line = self.queue[0]
            if line.due_at is None:
                line.due_at = t
            if self._bridge_due(line, t):
                assert line.bridge is not None
                line.bridged_at = t
                line.audio.appendleft(line.bridge)
            while len(self._pending) < self.frame and line.audio:
                self._pending = np.concatenate([self._pending, line.audio.popleft()])
            if len(self._pending) >= self.frame or (line.synthesised and len(self._pending)):
                out, self._pending = self._pending[: self.frame], self._pending[self.frame :]
                if line.first_audio_at is None:
                    line.first_audio_at = t
                if len(out) < self.frame:
                    out = np.concatenate([out, np.zeros(self.frame - len(out), np.int16)])
                return out
            if not line.synthesised:
                return None  # synthesis has not caught up: a gap
            line.ended_at = t
            self.queue.popleft()
        return None

    def _bridge_due(self, line: PlayedLine, t: float) -> bool:
        """The line has a bridge, nothing of it has played or arrived, and it is late."""
        return (
            line.bridge is not None
            and line.bridged_at is None
            and line.first_audio_at is None
            and not line.audio
            and not line.synthesised
            and line.due_at is not None
            and t - line.due_at >= self.bridge_after_s
        )

    def interrupt(self, t: float) -> bool:
        """Barge-in: cut the playing line and drop the queued ones, unless protected."""
        line = self.current
        if line is None or line.protected or line.first_audio_at is None:
            return False
        self.stop(t)
        return True

    def pause(self, t: float) -> bool:
        """Barge-in while the caller's speech is judged: the playing line goes quiet and keeps
        its place, unless protected (then it plays on, as it would not be cut)."""
        line = self.current
        if self.paused or line is None or line.protected or line.first_audio_at is None:
            return False
        self.paused = True
        line.paused_at.append(t)
        return True

    def resume(self) -> None:
        """The speech was a backchannel or noise: the line goes on from where it paused."""
        self.paused = False

    def stop(self, t: float) -> None:
        """Cut every line, protected ones too (a machine, not a person, is on the line)."""
        for cut in self.queue:
            cut.interrupted_at = t
            cut.ended_at = t
            cut.audio.clear()
        self.queue.clear()
        self._pending = np.zeros(0, np.int16)
        self.paused = False
