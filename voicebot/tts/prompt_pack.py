"""Recorded prompt packs: a script's fixed words recorded in a human voice, its variables
(name, date, amount) synthesised at call time.

A script with `prompts: <folder>` keeps its recordings in `<folder>/<language>/` (relative to
the script), one WAV per fixed part of a line: `<where>.wav` for a line without variables,
`<where>-<n>.wav` for the n-th fixed part of a line with them, where `where` names the line
(`nodes.greet.say`, `globals.who_are_you.say`, `lines.clarify`, `voicemail.message`). A text
said in several places is recorded once, under its first place. `prompt_lines` lists what to
record; `check_pack` checks a folder of recordings and says what is missing or unusable."""

from __future__ import annotations

import re
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from voicebot.audio.wav import read_wav
from voicebot.core.errors import AudioFormatError
from voicebot.policy.lint import script_lines
from voicebot.policy.schema import Script, text_of

MIN_RATE = 8000
LEVEL_DBFS = (-30.0, -10.0)  # active speech level of a usable recording
MAX_LEVEL_SPREAD_DB = 6.0  # a recording this far from the pack's median level is a level jump
MAX_EDGE_SILENCE_S = 0.5
MAX_CLIPPED = 0.001  # share of samples at full scale
_PIECES = re.compile(r"(\{\w+\})")


@dataclass(frozen=True)
class Part:
    """A fixed part (recorded in `file`) or a variable (`file` None, text `{name}`)."""

    text: str
    file: str | None = None


@dataclass(frozen=True)
class PromptLine:
    where: str
    template: str
    parts: tuple[Part, ...]

    @property
    def pattern(self) -> re.Pattern[str]:
        """Matches this line once filled in; one group per variable."""
        return re.compile(
            "".join("(.*?)" if p.file is None else re.escape(p.text) for p in self.parts),
            re.DOTALL,
        )


def prompt_lines(script: Script, language: str) -> list[PromptLine]:
    """Every line of the script once, split into recorded parts and variables."""
    out: dict[str, PromptLine] = {}
    for loc, line in script_lines(script):
        template = text_of(line, language)
        if template in out or not template.strip():
            continue
        where = ".".join(loc)
        pieces = [p for p in _PIECES.split(template) if p]
        fixed = [p for p in pieces if not _PIECES.fullmatch(p)]
        parts, n = [], 0
        for piece in pieces:
            if _PIECES.fullmatch(piece):
                parts.append(Part(piece))
                continue
            n += 1
            parts.append(
                Part(piece, f"{where}.wav" if len(fixed) == len(pieces) else f"{where}-{n}.wav")
            )
        out[template] = PromptLine(where, template, tuple(parts))
    return list(out.values())


def pack_folder(script: Script, script_path: Path, language: str) -> Path | None:
    return None if script.prompts is None else script_path.parent / script.prompts / language


@dataclass
class PackReport:
    """What a folder of recordings lacks: missing and extra files, and each file's problems."""

    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    problems: dict[str, list[str]] = field(default_factory=dict)
    levels: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.problems)


def check_pack(lines: list[PromptLine], folder: Path) -> PackReport:
    expected = [p.file for line in lines for p in line.parts if p.file is not None]
    present = {p.name for p in folder.glob("*.wav")} if folder.is_dir() else set()
    report = PackReport(
        missing=[f for f in expected if f not in present],
        extra=sorted(present - set(expected)),
    )
    for name in (f for f in expected if f in present):
        problems, level = check_recording(folder / name)
        if level is not None:
            report.levels[name] = level
        if problems:
            report.problems[name] = problems
    if report.levels:
        median = float(np.median(list(report.levels.values())))
        for name, level in report.levels.items():
            if abs(level - median) > MAX_LEVEL_SPREAD_DB:
                report.problems.setdefault(name, []).append(
                    f"level {level:.1f} dBFS is {level - median:+.1f} dB from the pack's "
                    f"{median:.1f}: a level jump next to the other recordings"
                )
    return report


def check_recording(path: Path) -> tuple[list[str], float | None]:
    """Problems of one recording, and its active speech level in dBFS."""
    problems = []
    try:
        with wave.open(str(path), "rb") as w:
            rate, channels = w.getframerate(), w.getnchannels()
        pcm, _ = read_wav(path)
    except (wave.Error, EOFError, AudioFormatError) as e:
        return [f"unreadable: {e}"], None
    if rate < MIN_RATE:
        problems.append(f"rate {rate} Hz: record at {MIN_RATE} Hz or more (16 kHz is best)")
    if channels != 1:
        problems.append(f"{channels} channels: record mono")
    x = pcm.astype(np.float64)
    if np.mean(np.abs(x) >= 32700) > MAX_CLIPPED:
        problems.append("clipped: record with less gain")
    level = active_level(pcm, rate)
    if level is None:
        return [*problems, "no speech in it"], None
    low, high = LEVEL_DBFS
    if not low <= level <= high:
        problems.append(f"level {level:.1f} dBFS: aim for {low:.0f} to {high:.0f} dBFS")
    lead, trail = edge_silence(pcm, rate)
    for where, seconds in (("start", lead), ("end", trail)):
        if seconds > MAX_EDGE_SILENCE_S:
            problems.append(
                f"{seconds:.1f} s of silence at the {where} (at most {MAX_EDGE_SILENCE_S} s)"
            )
    return problems, level


def playable(path: Path) -> bool:
    """A recording the call can use: readable, with speech, at the phone rate or above (level
    and edge silence are only advice: edges are trimmed and levels matched when joined)."""
    try:
        with wave.open(str(path), "rb") as w:
            rate = w.getframerate()
        pcm, _ = read_wav(path)
    except (OSError, wave.Error, EOFError, AudioFormatError):
        return False
    return rate >= MIN_RATE and active_level(pcm, rate) is not None


def _frame_db(pcm: np.ndarray, rate: int) -> np.ndarray:
    n = max(1, rate // 50)  # 20 ms
    frames = pcm[: len(pcm) // n * n].astype(np.float64).reshape(-1, n)
    rms = np.sqrt(np.mean(frames**2, axis=1)) / 32768.0
    return np.asarray(20 * np.log10(np.maximum(rms, 1e-9)))


def active_level(pcm: np.ndarray, rate: int, floor_db: float = -50.0) -> float | None:
    """RMS level of the frames that hold speech (above `floor_db`), in dBFS; None if none."""
    db = _frame_db(pcm, rate)
    active = db[db > floor_db]
    if len(active) == 0:
        return None
    power = np.mean(10 ** (active / 10))
    return float(10 * np.log10(power))


def edge_silence(pcm: np.ndarray, rate: int, floor_db: float = -45.0) -> tuple[float, float]:
    """Seconds of silence before the first and after the last speech frame."""
    db = _frame_db(pcm, rate)
    loud = np.flatnonzero(db > floor_db)
    if len(loud) == 0:
        return len(db) * 0.02, 0.0
    return float(loud[0] * 0.02), float((len(db) - 1 - loud[-1]) * 0.02)
