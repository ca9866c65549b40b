"""Do-not-call lists in and out: `voicebot dnc import FILE` loads an existing list (CSV or JSON,
the contact importer's reader: a phone column, row-numbered rejects) into the global list or one
campaign's; `voicebot dnc export FILE` writes the lists as CSV (formula cells neutralised). The
dialer refuses every number on them at dial time; `voicebot call` checks the global list too.

Hashed entries (what an erased contact leaves, `h:` + 18 hex digits) are exported as they are
and imported back unchanged: they still suppress the number without showing it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from voicebot.campaign.contacts import (
    PHONE_COLUMNS,
    Row,
    clean_text,
    parse_number,
    read_rows,
    rejects_csv,
)
from voicebot.campaign.journal import ResultJournal, journal_dir
from voicebot.campaign.models import Campaign, DncEntry
from voicebot.campaign.store import Store, dnc_hash, utcnow

HASHED = re.compile(r"^h:[0-9a-f]{18}$")
MAX_REASON = 200  # the reason column's width


@dataclass
class DncImport:
    added: int = 0
    already: int = 0  # on the list before (or twice in the file)
    rejected: list[str] = field(default_factory=list)  # "row N: reason" (no number in clear)
    rejected_count: int = 0
    rejects_path: Path | None = None


def import_dnc(
    store: Store,
    path: Path,
    campaign: str | None = None,
    region: str = "US",
    reason: str = "imported list",
    rejects: Path | None = None,
) -> DncImport:
    """All or nothing (one transaction). Each row's number is normalised to E.164 (`region` for
    numbers without a country code); a row that is not a valid number is rejected with its row
    number (and written to `rejects`: row, reason, fields). A `reason` column overrides the
    default reason per row."""
    result = DncImport()
    with rejects_csv(rejects, result) as out:
        _import(store, path, campaign, region, reason, result, out)
    return result


def _import(
    store: Store,
    path: Path,
    campaign: str | None,
    region: str,
    reason: str,
    result: DncImport,
    out: Any,
) -> None:
    with store.session() as s:
        campaign_id = store.campaign(s, campaign).id if campaign is not None else None
        same_list = (
            DncEntry.campaign_id.is_(None)
            if campaign_id is None
            else DncEntry.campaign_id == campaign_id
        )
        known = set(s.scalars(select(DncEntry.phone).where(same_list)))
        phone_key: str | None = None
        now = utcnow()
        for row in read_rows(path):
            phone_key = phone_key or next((k for k in PHONE_COLUMNS if k in row.fields), None)
            try:
                if row.problem is not None:
                    raise ValueError(row.problem)
                if phone_key is None:
                    raise ValueError("phone: no phone field")
                phone = _number(row, phone_key, region)
            except ValueError as e:
                result.rejected_count += 1
                if len(result.rejected) < 1000:
                    result.rejected.append(f"row {row.number}: {e}")
                if out is not None:
                    out.writerow([row.number, str(e), json.dumps(row.fields, ensure_ascii=False)])
                continue
            if phone in known:
                result.already += 1
                continue
            known.add(phone)
            why = clean_text(row.fields.get("reason", ""))[:MAX_REASON] or reason
            s.add(DncEntry(phone=phone, campaign_id=campaign_id, reason=why, added_at=now))
            result.added += 1


def _number(row: Row, phone_key: str, region: str) -> str:
    raw = row.fields.get(phone_key, "")
    if HASHED.match(raw):
        return raw
    phone, _ = parse_number(raw, region)
    return phone


def export_dnc(store: Store, path: Path) -> int:
    """Every list as CSV: phone, campaign (empty: the global list), reason, added_at (UTC).
    Returns the number of entries written."""
    from voicebot.campaign.contacts import csv_text

    with store.session() as s:
        names = {i: n for i, n in s.execute(select(Campaign.id, Campaign.name))}
        rows = [
            {
                "phone": d.phone,
                "campaign": names.get(d.campaign_id, "") if d.campaign_id is not None else "",
                "reason": d.reason,
                "added_at": d.added_at.isoformat(timespec="seconds"),
            }
            for d in s.scalars(select(DncEntry).order_by(DncEntry.id))
        ]
    header = "phone,campaign,reason,added_at\r\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(csv_text(rows) if rows else header, encoding="utf-8", newline="")
    return len(rows)


def on_global_list(store: Store, number: str) -> bool:
    """Whether an E.164 number is on the global do-not-call list of the store (in clear or as
    an erased contact's hash), or asked not to be called in a call whose result still waits in
    a results journal of the store."""
    with store.session() as s:
        found = s.scalar(
            select(DncEntry.id)
            .where(DncEntry.phone.in_([number, dnc_hash(number)]), DncEntry.campaign_id.is_(None))
            .limit(1)
        )
    if found is not None:
        return True
    return number in ResultJournal(journal_dir(store.url), 0).dnc_numbers()
