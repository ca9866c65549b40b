"""Lines spoken from a recorded prompt pack: recorded fixed parts and synthesised variables
joined into one block, so the caller hears no gap and no level jump at a join.

At each join the silence at the pieces' edges is trimmed and the pieces overlap by a short
crossfade; a fixed part ending in punctuation keeps a short pause after it. A synthesised
variable is brought to the level of the recordings around it. A line the pack does not cover
(or whose recordings are missing) is synthesised whole, as without a pack."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from pathlib import Path

import numpy as np

from voicebot.audio.wav import read_wav
from voicebot.tts.prompt_pack import PromptLine, active_level, playable
from voicebot.tts.stage import LineCache, TextToSpeech
from voicebot.tts.voices import Voice

log = logging.getLogger(__name__)
CROSSFADE_S = 0.01
PAUSE_S = 0.15  # after a recorded part that ends a clause
_CLAUSE_END = tuple("，。！？；、,.!?;")


class PromptPack:
    """The recordings of one script and language, loaded at the line rate, edges trimmed.
    A line is played from its recordings only when every one of its files is playable."""

    def __init__(self, lines: list[PromptLine], folder: Path, rate: int) -> None:
        self.rate = rate
        self.audio: dict[str, np.ndarray] = {}
        self.lines: list[PromptLine] = []
        for line in lines:
            files = [p.file for p in line.parts if p.file is not None]
            if all(playable(folder / f) for f in files):
                for f in files:
                    self.audio[f] = trim(read_wav(folder / f, rate=rate)[0], rate, True, True)
                self.lines.append(line)
        if len(self.lines) < len(lines):
            log.warning(
                "prompt pack %s: %d of %d lines lack usable recordings and are synthesised "
                "(voicebot script prompts SCRIPT --recordings %s)",
                folder,
                len(lines) - len(self.lines),
                len(lines),
                folder,
            )

    def match(self, text: str) -> tuple[PromptLine, list[str]] | None:
        """The recorded line this filled-in text is, with its variables' values."""
        for line in self.lines:
            if found := line.pattern.fullmatch(text):
                return line, list(found.groups())
        return None


class PromptedSpeech(TextToSpeech):
    """The TTS stage with a prompt pack in front: covered lines play their recordings."""

    def __init__(
        self,
        voice: Voice,
        pack: PromptPack,
        rate: int = 8000,
        cache: LineCache | None = None,
        normalize: Callable[[str], str] | None = None,
    ) -> None:
        super().__init__(voice, rate, cache, normalize)
        self.pack = pack

    def prerender(self, lines: Iterable[str], personal: bool = False) -> int:
        new = 0
        for line in lines:
            found = self.pack.match(line)
            if found is None:
                new += super().prerender([line], personal)
                continue
            for value in found[1]:
                if value.strip() and self.cache.get(self._key(value)) is None:
                    self.cache.put(self._key(value), self.render_variable(value), personal)
                    new += 1
        return new

    def shared_sentences(self, one: str, other: str) -> list[str]:
        if self.pack.match(one) is not None:
            return []  # its fixed words are recorded
        return super().shared_sentences(one, other)

    def keys(self, text: str) -> list[str]:
        found = self.pack.match(text)
        if found is None:
            return super().keys(text)
        return [self._key(v) for v in found[1] if v.strip()]

    def ready(self, text: str) -> bool:
        return all(self.cache.get(key) is not None for key in self.keys(text))

    async def stream(
        self, text: str, run_blocking: Callable[..., Awaitable[np.ndarray]] | None = None
    ) -> AsyncIterator[np.ndarray]:
        found = self.pack.match(text)
        if found is None:
            async for pcm in super().stream(text, run_blocking):
                yield pcm
            return
        offload = run_blocking or asyncio.to_thread
        line, values = found
        spoken = iter(values)
        pieces: list[tuple[np.ndarray, bool]] = []  # (audio, pause after it)
        for part in line.parts:
            if part.file is not None:
                pieces.append((self.pack.audio[part.file], part.text.endswith(_CLAUSE_END)))
            elif (value := next(spoken)).strip():
                cached = self.cache.get(self._key(value))
                if cached is None:
                    cached = await offload(self.render_variable, value)
                pieces.append((cached, False))
        yield join(pieces, self.rate, _level(line, self.pack))

    def render_variable(self, value: str) -> np.ndarray:
        """A variable's words, synthesised alone and trimmed (levelled when joined)."""
        return self.render(self.normalize(value))

    def _key(self, value: str) -> str:
        return LineCache.key(self.voice.name, self.rate, "variable\0" + value)


def _level(line: PromptLine, pack: PromptPack) -> float | None:
    levels = [active_level(pack.audio[p.file], pack.rate) for p in line.parts if p.file]
    known = [lv for lv in levels if lv is not None]
    return float(np.mean(known)) if known else None


def join(pieces: list[tuple[np.ndarray, bool]], rate: int, level_db: float | None) -> np.ndarray:
    """One block: pieces trimmed at their joins, levelled to `level_db`, crossfaded."""
    fade = int(CROSSFADE_S * rate)
    out = np.zeros(0, np.float64)
    for i, (pcm, pause) in enumerate(pieces):
        x = trim(pcm, rate, start=i > 0, end=i < len(pieces) - 1).astype(np.float64)
        if level_db is not None and (own := active_level(pcm, rate)) is not None:
            x *= 10 ** ((level_db - own) / 20)
        if len(out) >= fade and len(x) >= fade:
            ramp = np.linspace(0.0, 1.0, fade)
            out[-fade:] = out[-fade:] * (1 - ramp) + x[:fade] * ramp
            x = x[fade:]
        out = np.concatenate([out, x])
        if pause and i < len(pieces) - 1:
            out = np.concatenate([out, np.zeros(int(PAUSE_S * rate))])
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)


def trim(pcm: np.ndarray, rate: int, start: bool, end: bool, floor_db: float = -45.0) -> np.ndarray:
    """Cut the silence before the first and after the last 10 ms of sound, at the ends asked."""
    n = max(1, rate // 100)
    frames = pcm[: len(pcm) // n * n].astype(np.float64).reshape(-1, n)
    db = 20 * np.log10(np.maximum(np.sqrt(np.mean(frames**2, axis=1)) / 32768.0, 1e-9))
    loud = np.flatnonzero(db > floor_db)
    if len(loud) == 0:
        return pcm
    first = loud[0] * n if start else 0
    last = (loud[-1] + 1) * n if end else len(pcm)
    return pcm[first:last]
