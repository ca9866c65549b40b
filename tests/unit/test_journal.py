"""The results journal on its own: fsynced appends in a private file, a torn last line (a crash
while writing) skipped, a failed replay keeps every entry, a successful one empties it."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest

from voicebot.campaign.journal import ResultJournal, journal_dir

pytestmark = pytest.mark.unit


def entry(n: int, dnc: bool = False) -> dict[str, Any]:
    return {
        "attempt_id": n,
        "phone": f"+1212555010{n}",
        "at": "2026-11-23T10:00:00",
        "result": {"outcome": "dnc" if dnc else "completed", "dnc": dnc},
    }


def test_appends_are_private_and_a_torn_line_is_skipped(tmp_path: Path) -> None:
    journal = ResultJournal(tmp_path / "j", 7)
    journal.append(entry(1))
    journal.append(entry(2, dnc=True))
    with journal.path.open("a", encoding="utf-8") as f:
        f.write('{"v": 1, "attempt_id": 3, "pho')  # the process died mid-write
    assert stat.S_IMODE(journal.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(journal.folder.stat().st_mode) == 0o700
    assert [e["attempt_id"] for e in journal.entries()] == [1, 2]
    assert journal.dnc_numbers() == {"+12125550102"}
    assert ResultJournal(tmp_path / "j", 8).dnc_numbers() == {"+12125550102"}  # every campaign


def test_a_failed_replay_keeps_everything_and_a_good_one_empties(tmp_path: Path) -> None:
    journal = ResultJournal(tmp_path, 1)
    for n in range(3):
        journal.append(entry(n))

    def refuse(entries: list[dict[str, Any]]) -> None:
        raise OSError("store down")

    with pytest.raises(OSError):
        journal.replay(refuse)
    assert journal.pending and len(journal.entries()) == 3
    seen: list[int] = []
    assert journal.replay(lambda es: seen.extend(e["attempt_id"] for e in es)) == 3
    assert seen == [0, 1, 2] and not journal.pending and journal.dnc_numbers() == set()
    assert journal.replay(lambda es: seen.append(-1)) == 0 and seen == [0, 1, 2]


def test_the_data_folder_sits_next_to_a_sqlite_file_and_hides_urls() -> None:
    assert journal_dir("sqlite:///out/voicebot.db") == Path("out/voicebot.db.results")
    other = journal_dir("postgresql+psycopg://u:secret@db/voicebot")
    assert "secret" not in str(other) and other.parent == Path("out")


def test_a_rewrite_is_atomic_private_and_an_append_waiting_on_it_lands_in_the_new_file(
    tmp_path: Path,
) -> None:
    import threading

    from voicebot.campaign.journal import JournalSet

    journal = ResultJournal(tmp_path, 3)
    for n in range(3):
        journal.append(entry(n, dnc=n == 1))
    with journal.path.open("a", encoding="utf-8") as f:
        f.write('{"v": 1, "attempt_id": 9, "phone": "+1212555019')  # torn: never acknowledged
    appended = threading.Event()

    def append_one() -> None:
        journal.append(entry(4))
        appended.set()

    writer = threading.Thread(target=append_one)
    with JournalSet(tmp_path) as held:
        assert [e["attempt_id"] for e in held.entries()] == [0, 1, 2]
        writer.start()  # waits for the lock, on the file the rewrite replaces
        assert not appended.wait(0.3)
        assert held.rewrite(lambda e: None if e["attempt_id"] == 0 else e) == 1
    writer.join(10)
    data = journal.path.read_bytes()
    assert b"+12125550100" not in data and b"+1212555019" not in data  # dropped, torn line too
    assert [e["attempt_id"] for e in journal.entries()] == [1, 2, 4]  # nothing appended lost
    assert stat.S_IMODE(journal.path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["campaign-3.jsonl"]
    assert journal.dnc_numbers() == {"+12125550101"}
