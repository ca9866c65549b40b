"""The results journal: where a call's result goes when the store will not take it (locked, disk
full, server gone), so that nothing a callee said is lost and nobody is called twice for it.

One JSON line per result, appended and fsynced (file 0600, folder 0700: it holds personal data),
in the store's data folder (`<file>.db.results/` for SQLite). The dialer replays it into the
store before it claims anything again, under a lock on the file (appends of other dialers of the
campaign on this host wait for it, so nothing is emptied unread). Replaying is idempotent (a
result is written only onto its still-open attempt; a do-not-call request is added once), so a
crash in the middle of a replay is harmless. A torn last line (a crash while writing) is
ignored: that result was never acknowledged. The do-not-call requests of every journal in the
folder are checked before each dial until they reach the store.

Erasing a person (`campaign/erase.py`) rewrites the journals too (`JournalSet.rewrite`: a new
private file, fsynced, renamed over the old one): their entries keep only what the store keeps
of an erased person (outcome, duration, latency, and a do-not-call request as the number's
hash), so a later replay cannot bring their number, answers or words back."""

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
        """The journal's file, opened and locked. A rewrite renames a new file over the path:
        a lock taken on the file it replaced is let go and taken again on the new one."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        while True:
            new = not self.path.exists()
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                current = _same_file(fd, self.path)
            except BaseException:
                os.close(fd)
                raise
            if current:
                break
            os.close(fd)  # replaced while we waited: lock the file now at the path
        try:
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


class JournalSet:
    """Every journal of a data folder (every campaign of a store), locked together, in name
    order: what erasure holds while it erases a person in the store and then in the journals,
    so that no replay reads an entry between the two."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._stack = contextlib.ExitStack()
        self._held: list[tuple[Path, int]] = []

    def __enter__(self) -> JournalSet:
        try:
            names = sorted(p.name for p in self.folder.glob("campaign-*.jsonl"))
        except OSError:
            names = []
        try:
            for name in names:
                number = name.removeprefix("campaign-").removesuffix(".jsonl")
                if number.isdigit():
                    journal = ResultJournal(self.folder, int(number))
                    fd = self._stack.enter_context(journal._locked())
                    self._held.append((journal.path, fd))
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()
        self._held.clear()

    def entries(self) -> list[dict[str, Any]]:
        """Every entry of every journal (read under the locks)."""
        return [e for path, _ in self._held for e in _read(path)]

    def rewrite(self, change: Callable[[dict[str, Any]], dict[str, Any] | None]) -> int:
        """Pass every entry through `change` (its new form, or None to drop it); each journal
        that changed is written anew, atomically: a private temporary file in the folder,
        fsynced, renamed over the journal, the folder fsynced. Unreadable (torn) lines are
        dropped with it. Returns how many entries changed or went."""
        changed = 0
        for path, _ in self._held:
            old = _read(path)
            new, count = [], 0
            for entry in old:
                after = change(json.loads(json.dumps(entry)))  # a copy `change` may edit
                count += after != entry
                if after is not None:
                    new.append(after)
            lines = [raw for raw in path.read_bytes().split(b"\n") if raw.strip()]
            if count == 0 and len(lines) == len(old):
                continue
            changed += count
            text = "".join(json.dumps(e, ensure_ascii=False, default=str) + "\n" for e in new)
            _replace(path, text.encode("utf-8"))
        return changed


def _replace(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.rewrite")
    try:
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _same_file(fd: int, path: Path) -> bool:
    try:
        here, there = os.fstat(fd), os.stat(path)
    except FileNotFoundError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


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
