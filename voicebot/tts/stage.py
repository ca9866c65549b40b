"""The TTS stage: streams a line as audio at the call's rate, sentence by sentence, serving
fixed script lines from a pre-rendered cache so they start with no synthesis wait."""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from pathlib import Path

import numpy as np

from voicebot.audio.resample import resample
from voicebot.tts.trim import trim_leading
from voicebot.tts.voices import Voice, split_sentences


class LineCache:
    """Rendered audio keyed by voice, rate and text. The script's fixed lines stay (and are
    persisted as .npy files when given a folder); lines carrying a contact's details are kept in
    memory only, the most recent `personal_bytes` of them, and never written to disk.
    Lines are served from their first audible sound (`trim_leading`), also those persisted
    before trimming existed; `rate` is the rate of the lines it holds."""

    def __init__(
        self, folder: Path | None = None, personal_bytes: int = 32 * 2**20, rate: int = 8000
    ) -> None:
        self.folder = folder
        self.rate = rate
        self.personal_bytes = personal_bytes
        self._lines: dict[str, np.ndarray] = {}
        self._personal: OrderedDict[str, np.ndarray] = OrderedDict()
        self._personal_size = 0

    @staticmethod
    def key(voice: str, rate: int, text: str) -> str:
        return hashlib.sha256(f"{voice}\0{rate}\0{text}".encode()).hexdigest()[:32]

    def get(self, key: str) -> np.ndarray | None:
        if key in self._lines:
            return self._lines[key]
        if key in self._personal:
            self._personal.move_to_end(key)
            return self._personal[key]
        if self.folder is not None and (self.folder / f"{key}.npy").is_file():
            self._lines[key] = trim_leading(np.load(self.folder / f"{key}.npy"), self.rate)
            return self._lines[key]
        return None

    def put(self, key: str, pcm: np.ndarray, personal: bool = False) -> None:
        pcm = trim_leading(pcm, self.rate)
        if personal:
            self._put_personal(key, pcm)
            return
        self._lines[key] = pcm
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            np.save(self.folder / f"{key}.npy", pcm)

    def _put_personal(self, key: str, pcm: np.ndarray) -> None:
        if key in self._personal:
            self._personal_size -= self._personal.pop(key).nbytes
        self._personal[key] = pcm
        self._personal_size += pcm.nbytes
        while self._personal_size > self.personal_bytes and len(self._personal) > 1:
            _, dropped = self._personal.popitem(last=False)
            self._personal_size -= dropped.nbytes

    def drop(self, key: str) -> bool:
        """Forget one personal line (its call ended); fixed lines stay. True if it was held."""
        pcm = self._personal.pop(key, None)
        if pcm is None:
            return False
        self._personal_size -= pcm.nbytes
        return True

    def personal_keys(self) -> list[str]:
        """The keys of the personal lines held, least recently used first."""
        return list(self._personal)

    @property
    def personal_count(self) -> int:
        """How many personal lines are held."""
        return len(self._personal)

    @property
    def personal_size(self) -> int:
        """Bytes of personal lines held (at most `personal_bytes`, or one line if larger)."""
        return self._personal_size

    def __len__(self) -> int:
        return len(self._lines) + len(self._personal)


class TextToSpeech:
    """`async for pcm in tts.stream(text)`: int16 blocks at `rate`, first block as soon as the
    first sentence is synthesised (or at once, for a cached line). `normalize` rewrites a line
    before it is split and synthesised (digits, dates, money: `voicebot.tts.zh_text`)."""

    def __init__(
        self,
        voice: Voice,
        rate: int = 16000,
        cache: LineCache | None = None,
        normalize: Callable[[str], str] | None = None,
    ) -> None:
        self.voice = voice
        self.rate = rate
        self.cache = cache if cache is not None else LineCache(rate=rate)
        self.normalize = normalize or str

    def render(self, sentence: str) -> np.ndarray:
        """Blocking synthesis of one sentence at the stage's rate (no cache), from its first
        audible sound."""
        pcm = resample(self.voice.synthesize(sentence), self.voice.sample_rate, self.rate)
        return trim_leading(pcm, self.rate)

    def prerender(self, lines: Iterable[str], personal: bool = False) -> int:
        """Render each sentence of each line into the cache; returns how many were new.
        `personal`: the lines carry a contact's details (kept in memory only, bounded)."""
        return sum(self.prerender_sentences(self.sentences(line), personal) for line in lines)

    def sentences(self, text: str) -> list[str]:
        """The chunks a line is synthesised and played as (normalised, then split)."""
        return split_sentences(self.normalize(text))

    def prerender_sentences(self, sentences: Iterable[str], personal: bool = False) -> int:
        """Render these chunks (as `sentences` made them) into the cache; how many were new."""
        new = 0
        for sentence in sentences:
            key = LineCache.key(self.voice.name, self.rate, sentence)
            if self.cache.get(key) is None:
                self.cache.put(key, self.render(sentence), personal)
                new += 1
        return new

    def shared_sentences(self, one: str, other: str) -> list[str]:
        """The chunks two fillings of one line template both play: the template's words that
        carry no contact detail (rendered once, up front, for every contact)."""
        theirs = set(self.sentences(other))
        return [s for s in self.sentences(one) if s in theirs]

    def keys(self, text: str) -> list[str]:
        """The cache keys this line is played from (one per sentence)."""
        return [LineCache.key(self.voice.name, self.rate, s) for s in self.sentences(text)]

    def cached(self, text: str) -> np.ndarray | None:
        """The whole line's audio if every chunk of it is in the cache, else None."""
        parts = [self.cache.get(key) for key in self.keys(text)]
        if not parts or any(p is None for p in parts):
            return None
        return np.concatenate([p for p in parts if p is not None])

    def ready(self, text: str) -> bool:
        """Every sentence of this line is in the cache: it plays with no synthesis wait."""
        return all(self.cache.get(key) is not None for key in self.keys(text))

    def forget(self, lines: Iterable[str], keep: Iterable[str] = ()) -> int:
        """Drop the personal cache entries of `lines` (a call's own lines, once it ended),
        except those the lines in `keep` are also played from (a sentence every contact of the
        campaign shares). Returns how many were dropped."""
        kept = {key for line in keep for key in self.keys(line)}
        gone = {key for line in lines for key in self.keys(line)} - kept
        return sum(self.cache.drop(key) for key in gone)

    async def stream(
        self, text: str, run_blocking: Callable[..., Awaitable[np.ndarray]] | None = None
    ) -> AsyncIterator[np.ndarray]:
        """`run_blocking` is the call clock's, so synthesis time counts on that clock."""
        offload = run_blocking or asyncio.to_thread
        for sentence in self.sentences(text):
            key = LineCache.key(self.voice.name, self.rate, sentence)
            pcm = self.cache.get(key)
            if pcm is None:
                pcm = await offload(self.render, sentence)
            yield pcm
