"""Fuzzing the contact importer (CSV and JSON) and the do-not-call importer with hypothesis:
whatever the file holds, the import either succeeds with every row accounted for (imported,
merged or rejected) or fails with a CampaignError having written nothing (no contact, no
rejects file). Bounded examples: a few seconds."""

from __future__ import annotations

import csv
import io
import itertools
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from voicebot.campaign.config import CampaignConfig
from voicebot.campaign.contacts import import_contacts
from voicebot.campaign.dnc import import_dnc
from voicebot.campaign.models import Contact, DncEntry
from voicebot.campaign.store import CampaignError, Store

pytestmark = pytest.mark.integration
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
_folder = tempfile.TemporaryDirectory(prefix="voicebot-fuzz-")
ROOT = Path(_folder.name)
STORE = Store(f"sqlite:///{ROOT / 'fuzz.db'}")
_names = itertools.count()

PHONES = st.sampled_from(
    [
        "+1 212 555 0100",
        "(212) 555-0101",
        "+44 20 7946 0000",
        "+86 138 0013 8000",
        "+1 212 555 0100 ext. 12",
        "212-555-0102 x7",
        "+1 900 555 0100",
        "911",
        "",
        "+",
        "h:0123456789abcdef01",
    ]
)
TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40
) | st.sampled_from(["\x00", "\r\n", "=HYPERLINK(1)", "Europe/Berlin", "Mars/Olympus", "9:30"])
KEYS = st.sampled_from(
    ["phone", "name", "timezone", "preferred_time", "extension", "source", "segment", "plan"]
) | st.text(max_size=12)


def new_campaign() -> str:
    name = f"c{next(_names)}"
    STORE.create(name, "prompts/survey_en.yaml", CampaignConfig())
    return name


def contact_count(name: str) -> int:
    with STORE.session() as s:
        campaign = STORE.campaign(s, name)
        query = select(func.count(Contact.id)).where(Contact.campaign_id == campaign.id)
        return int(s.scalar(query) or 0)


def check_import(name: str, path: Path, rows: int | None) -> None:
    rejects = path.with_suffix(".rejected.csv")
    try:
        result = import_contacts(STORE, name, path, rejects=rejects)
    except CampaignError:
        assert contact_count(name) == 0, "a failed import wrote contacts"
        assert not rejects.exists(), "a failed import left a rejects file"
        return
    if rows is not None:
        assert result.imported + result.merged + result.rejected_count == rows
    assert contact_count(name) == result.imported
    assert rejects.exists() == bool(result.rejected_count)


def csv_records(text: str) -> int | None:
    """The data rows the csv module reads in `text` (None: not readable as CSV)."""
    try:
        return sum(1 for _ in csv.DictReader(io.StringIO(text, newline=""), strict=True))
    except csv.Error:
        return None


@FUZZ
@given(
    header=st.lists(KEYS, min_size=1, max_size=6),
    rows=st.lists(st.lists(PHONES | TEXT, min_size=0, max_size=7), max_size=8),
    bom=st.booleans(),
)
def test_csv_contacts(header: list[str], rows: list[list[str]], bom: bool) -> None:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    text = out.getvalue()
    path = ROOT / f"f{next(_names)}.csv"
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    check_import(new_campaign(), path, csv_records(text))


@FUZZ
@given(data=st.binary(max_size=300))
def test_csv_bytes(data: bytes) -> None:
    path = ROOT / f"b{next(_names)}.csv"
    path.write_bytes(b"phone,name\n" + data)
    check_import(new_campaign(), path, None)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | PHONES | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)


@FUZZ
@given(
    items=st.lists(st.dictionaries(KEYS, JSON_VALUES, max_size=6), max_size=8) | JSON_VALUES,
)
def test_json_contacts(items: Any) -> None:
    path = ROOT / f"j{next(_names)}.json"
    path.write_text(json.dumps(items), encoding="utf-8")
    rows = len(items) if isinstance(items, list) else None
    check_import(new_campaign(), path, rows)


@FUZZ
@given(rows=st.lists(st.tuples(PHONES | TEXT, TEXT), max_size=8))
def test_dnc_lists(rows: list[tuple[str, str]]) -> None:
    name = new_campaign()
    path = ROOT / f"d{next(_names)}.csv"
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(["phone", "reason"])
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8", newline="")
    with STORE.session() as s:
        campaign_id = STORE.campaign(s, name).id
    result = import_dnc(STORE, path, campaign=name, rejects=path.with_suffix(".rej.csv"))
    records = csv_records(out.getvalue())
    assert result.added + result.already + result.rejected_count == records
    with STORE.session() as s:
        listed = s.scalar(
            select(func.count(DncEntry.id)).where(DncEntry.campaign_id == campaign_id)
        )
    assert listed == result.added
