"""The results journal: where a call's result goes when the store will not take it (locked, disk
full, server gone), so that nothing a callee said is lost and nobody is called twice for it.

One JSON line per result, appended and fsynced (file 0600, folder 0700: it holds personal data),
in the store's data folder (`<file>.db.results/` for SQLite). The dialer replays it into the
store before it claims anything again, under a lock on the file (appends of other dialers of the
campaign on this host wait for it, so nothing is emptied unread). Replaying is idempotent (a
result is written only onto its still-open attempt; a do-not-call request is added once), so a
crash in the middle of a replay is harmless. A torn last line (a crash while writing) is
ignored: that result was never acknowledged. The do-not-call requests of every journal in the
folder are checked before each dial until they reach the store."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
VERSION = 1


def journal_dir(url: str) -> Path:
    """The data folder of a store's journals: next to a SQLite file, else under out/ by a hash
    of the URL (no password in a path)."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        db = Path(url.removeprefix("sqlite:///"))
        return db.with_name(db.name + ".results")
    return Path("out") / f"results-{hashlib.sha256(url.encode()).hexdigest()[:12]}"


class ResultJournal:
    """The journal of one campaign (`campaign-<id>.jsonl` in `folder`)."""

    def __init__(self, folder: Path, campaign_id: int) -> None:
        self.folder = folder
        self.path = folder / f"campaign-{campaign_id}.jsonl"
        self._dnc_cache: dict[Path, tuple[tuple[int, int], set[str]]] = {}

    @property
    def pending(self) -> bool:
        """Results wait here for the store."""
        try:
            return self.path.stat().st_size > 0
        except FileNotFoundError:
            return False

    def append(self, entry: dict[str, Any]) -> None:
        """Write one entry and fsync it (and the folder, when the file is new), under the
        journal's lock. OSError when the journal cannot be written either."""
        line = json.dumps({"v": VERSION, **entry}, ensure_ascii=False, default=str) + "\n"
        with self._locked() as fd:
            os.lseek(fd, 0, os.SEEK_END)
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)

    def entries(self) -> list[dict[str, Any]]:
        """The entries in order; a torn or unreadable line is skipped (and counted in the log)."""
        return _read(self.path)

    def replay(self, apply: Callable[[list[dict[str, Any]]], None]) -> int:
        """Hand every entry to `apply` (which writes them into the store), then empty the
        journal, all under its lock: a dialer of the same campaign appending meanwhile (another
        worker on this host) waits, so nothing is emptied unread. When `apply` raises, the
        journal stays as it was. Returns how many entries were applied."""
        if not self.pending:
            return 0
        with self._locked() as fd:
            entries = _read(self.path)
            if entries:
                apply(entries)
            os.ftruncate(fd, 0)
            os.fsync(fd)
        return len(entries)

    def clear(self) -> None:
        """Empty the journal (durably)."""
        with self._locked() as fd:
            os.ftruncate(fd, 0)
            os.fsync(fd)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[int]:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        new = not self.path.exists()
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if new:
                _fsync_dir(self.folder)
            yield fd
        finally:
            os.close(fd)  # closing releases the lock

    def dnc_numbers(self) -> set[str]:
        """Numbers that asked not to be called, in any journal of the folder (every campaign of
        the store), not yet in the store. Each file is read again only when it changed."""
        numbers: set[str] = set()
        try:
            files = sorted(self.folder.glob("campaign-*.jsonl"))
        except OSError:
            return numbers
        for path in files:
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            key = (stat.st_mtime_ns, stat.st_size)
            cached = self._dnc_cache.get(path)
            if cached is None or cached[0] != key:
                phones = {str(e["phone"]) for e in _read(path) if e.get("result", {}).get("dnc")}
                cached = self._dnc_cache[path] = (key, phones)
            numbers |= cached[1]
        return numbers


def _read(path: Path) -> list[dict[str, Any]]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    entries, torn = [], 0
    for raw in data.split(b"\n"):
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            torn += 1
            continue
        if isinstance(entry, dict) and entry.get("v") == VERSION and "attempt_id" in entry:
            entries.append(entry)
        else:
            torn += 1
    if torn:
        log.warning("results journal %s: %d unreadable lines skipped", path.name, torn)
    return entries


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a folder be fsynced
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
