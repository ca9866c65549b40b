"""End of turn as a pure state machine over per-frame speech decisions.

Feed `step(is_speech, t)` once per frame (t = frame start on the call clock). Events carry the
*true* speech times: a turn's end is where the caller stopped, not where the hangover expired.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field


class EndpointConfig(BaseModel):
    """Turn-taking thresholds (milliseconds)."""

    model_config = ConfigDict(extra="forbid")

    frame_ms: int = Field(20, description="length of one VAD frame")
    start_ms: int = Field(60, description="continuous speech needed to confirm the caller speaks")
    hangover_ms: int = Field(
        300, description="silence after speech that ends the turn (until its words are known)"
    )
    adaptive: bool = Field(
        False,
        description="the hangover follows the words heard so far (complete or not); off by "
        "default until it cuts no answer in two under load (see the issue-18 note)",
    )
    complete_hangover_ms: int = Field(
        140, description="adaptive: the hangover once the words so far end a turn"
    )
    incomplete_hangover_ms: int = Field(
        900, description="adaptive: the hangover after 'um', 'and', a growing number ..."
    )
    speculate_ms: int = Field(
        20,
        description="silence before the speculative decode of the turn so far starts (20 = "
        "the first quiet frame: a Mandarin decode then ends near the hangover's end)",
    )
    energy_floor_dbfs: float | None = Field(
        None, description="frames quieter than this are silence, whatever the VAD says (-50)"
    )
    min_speech_ms: int = Field(150, description="turns shorter than this are noise, not speech")
    max_turn_ms: int = Field(30_000, description="a turn longer than this is cut")


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    t: float  # when speech began


@dataclass(frozen=True, slots=True)
class SpeechPaused:
    t: float  # true end of speech so far; the turn may still resume


@dataclass(frozen=True, slots=True)
class SpeechResumed:
    t: float


@dataclass(frozen=True, slots=True)
class SpeechEnded:
    start: float
    end: float  # true end of speech
    confirmed_at: float  # when the hangover expired


@dataclass(frozen=True, slots=True)
class NoiseIgnored:
    start: float
    end: float


VadEvent = SpeechStarted | SpeechPaused | SpeechResumed | SpeechEnded | NoiseIgnored


class _State(enum.Enum):
    SILENT = "silent"
    ONSET = "onset"
    SPEAKING = "speaking"
    TRAILING = "trailing"


class EndOfTurn:
    """Speech start / pause / resume / end decisions with hangover and minimum-length rules."""

    def __init__(self, config: EndpointConfig | None = None) -> None:
        self.config = config or EndpointConfig()
        self._state = _State.SILENT
        self._start = 0.0
        self._end = 0.0
        self._hangover_s = self.config.hangover_ms / 1000

    def set_hangover(self, ms: float) -> None:
        """The hangover of the pause under way (the words so far say whether the turn is done);
        it goes back to `hangover_ms` when the caller speaks again."""
        if self._state is _State.TRAILING:
            self._hangover_s = ms / 1000

    @property
    def pause_at(self) -> float | None:
        """The true end of speech of the pause under way, if there is one."""
        return self._end if self._state is _State.TRAILING else None

    @property
    def in_speech(self) -> bool:
        return self._state in (_State.SPEAKING, _State.TRAILING)

    def step(self, is_speech: bool, t: float) -> list[VadEvent]:
        c = self.config
        frame = c.frame_ms / 1000
        if self._state is _State.SILENT:
            if is_speech:
                self._state, self._start = _State.ONSET, t
                return self._confirm_onset(t + frame)
            return []
        if self._state is _State.ONSET:
            if not is_speech:  # a burst shorter than start_ms
                self._state = _State.SILENT
                return []
            return self._confirm_onset(t + frame)
        if self._state is _State.SPEAKING:
            if t + frame - self._start >= c.max_turn_ms / 1000:
                return self._finish(t + frame, t + frame)
            if not is_speech:
                self._state, self._end = _State.TRAILING, t
                return [SpeechPaused(t)]
            return []
        # TRAILING
        if is_speech:
            self._state = _State.SPEAKING
            self._hangover_s = c.hangover_ms / 1000
            return [SpeechResumed(t)]
        if t + frame - self._end >= self._hangover_s - 1e-9:
            return self._finish(self._end, t + frame)
        return []

    def _confirm_onset(self, now: float) -> list[VadEvent]:
        if now - self._start >= self.config.start_ms / 1000:
            self._state = _State.SPEAKING
            return [SpeechStarted(self._start)]
        return []

    def _finish(self, end: float, now: float) -> list[VadEvent]:
        self._state = _State.SILENT
        self._hangover_s = self.config.hangover_ms / 1000
        if end - self._start < self.config.min_speech_ms / 1000:
            return [NoiseIgnored(self._start, end)]
        return [SpeechEnded(self._start, end, now)]

    def reset(self) -> None:
        self._state = _State.SILENT
        self._hangover_s = self.config.hangover_ms / 1000
