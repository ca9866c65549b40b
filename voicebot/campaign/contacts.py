"""Contact import from CSV or JSON: numbers normalised to E.164 (phonenumbers), invalid rows
rejected with row number and reason, duplicates merged, extra columns kept as script
variables, do-not-call and pre-dial rules applied. Values are cleaned (control characters and
NUL stripped) and bounded (a value over its limit rejects the row, never truncated); a phone
extension (`ext. 12`, `x12`, or an `extension` column) is kept in its own field. A file that
cannot be read as a whole (encoding, quoting, no phone column, a header given twice, JSON nested
too deep) imports nothing."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any, Protocol

import phonenumbers
from phonenumbers import timezone as number_zones
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from voicebot.campaign.config import CampaignConfig, check_zone
from voicebot.campaign.models import Contact
from voicebot.campaign.schedule import failed_rule
from voicebot.campaign.store import CampaignError, Store, dnc_hash, utcnow

PHONE_COLUMNS = ("phone", "number", "phone_number", "mobile", "tel", "电话", "手机")
KNOWN = {"name", "timezone", "preferred_time", "source", "segment", "extension", "ext"}
LIMITS = {"name": 200, "source": 100, "segment": 100, "timezone": 64, "extension": 20}
MAX_VALUE = 1000  # characters of any other field (a script variable)
MAX_KEY = 64  # characters of a column name
MAX_FIELDS = 200  # columns of one contact
# C0 and C1 controls, DEL, and the bidirectional overrides that disguise text in a spreadsheet
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_BREAKS = re.compile(r"[\t\r\n]+")
KEEP_REJECTED = 1000  # messages kept in memory; all of them go to the rejects file
csv.field_size_limit(1 << 20)


@dataclass
class ImportResult:
    imported: int = 0
    merged: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count
    rejected: list[str] = field(default_factory=list)  # "row N: reason" (no number in clear)
    rejected_count: int = 0  # all of them (`rejected` keeps the first KEEP_REJECTED)
    rejects_path: Path | None = None  # the rejected rows with their reasons, to fix and re-import
    ambiguous: list[str] = field(default_factory=list)  # "row N: zones a, b, ..." (no number)
    ambiguous_count: int = 0

    def reject(self, row: Row, reason: str, out: Any) -> None:
        self.rejected_count += 1
        if len(self.rejected) < KEEP_REJECTED:
            self.rejected.append(f"row {row.number}: {reason}")
        if out is not None:
            out.writerow([row.number, reason, json.dumps(row.fields, ensure_ascii=False)])


@dataclass(frozen=True, slots=True)
class Row:
    number: int  # 1-based data row (the header is row 1 of a CSV file: data starts at 2)
    fields: dict[str, str]
    problem: str | None = None  # why the row cannot be taken as it is (rejected with it)


def clean_text(value: str, one_line: bool = False) -> str:
    """A value without NUL and control characters; line breaks are kept as `\\n` (a note may
    have lines), or with `one_line` (names, keys) they and tabs become a space."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if one_line:
        value = _BREAKS.sub(" ", value)
    return _CONTROL.sub("", value).strip()


def _row(number: int, items: list[tuple[str, str]]) -> Row:
    """A row's fields: keys lower-cased, everything cleaned; a key given twice (after that)
    is the row's problem."""
    fields: dict[str, str] = {}
    problem = None
    for key, value in items:
        name = clean_text(key, one_line=True).lower()
        if name in fields and problem is None:
            problem = f"field {name[:MAX_KEY]!r} given twice"
        fields[name] = clean_text(value, one_line=name in KNOWN)
    if len(fields) > MAX_FIELDS:
        problem = problem or f"{len(fields)} fields (at most {MAX_FIELDS})"
    return Row(number, fields, problem)


def read_rows(path: Path) -> Iterator[Row]:
    """Rows of a CSV (UTF-8, with or without BOM) or a JSON list of objects."""
    if path.suffix.lower() == ".json":
        yield from _json_rows(path)
        return
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as e:
        raise CampaignError(f"{path}: cannot read ({e.strerror})") from None
    with handle:
        reader = csv.DictReader(handle, strict=True)
        try:
            header = list(reader.fieldnames or [])
            _check_header(path, reader.line_num, header)
            _phone_column(path, header)
            for number, row in enumerate(reader, 2):  # row 1 is the header
                if None in row:
                    raise CampaignError(
                        f"{path}: row {number} (line {reader.line_num}): "
                        "more fields than the header"
                    )
                yield _row(number, [(k, v or "") for k, v in row.items()])
        except UnicodeDecodeError as e:
            line = _line_of_byte(path, e.start)
            raise CampaignError(
                f"{path}:{line}: not UTF-8 ({e.reason}); save the file as UTF-8 (Excel: CSV UTF-8)"
            ) from None
        except csv.Error as e:
            raise CampaignError(f"{path}:{reader.line_num}: broken CSV ({e})") from None


def _check_header(path: Path, line: int, header: list[str]) -> None:
    seen: set[str] = set()
    for name in (clean_text(h, one_line=True).lower() for h in header):
        if len(name) > MAX_KEY:
            raise CampaignError(f"{path}:{line}: a column name longer than {MAX_KEY} characters")
        if name in seen:
            raise CampaignError(
                f"{path}:{line}: the column {name!r} is in the header twice (which one is meant?)"
            )
        seen.add(name)


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """JSON objects keep a key given twice as a list of pairs, to be refused by row."""
    keys = [k for k, _ in pairs]
    if len(set(keys)) == len(keys):
        return dict(pairs)
    return {"\x00pairs": pairs}


def _json_rows(path: Path) -> Iterator[Row]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=_pairs)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CampaignError(f"{path}: not a readable JSON list of contacts ({e})") from None
    except RecursionError:
        raise CampaignError(f"{path}: JSON nested too deeply (contacts are flat objects)") from None
    if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
        raise CampaignError(f"{path}: a JSON list of objects (one per contact) is expected")
    first = data[0].get("\x00pairs", list(data[0].items())) if data else [("phone", "")]
    _phone_column(path, [clean_text(str(k)) for k, _ in first])
    for i, item in enumerate(data, 1):
        pairs = item.get("\x00pairs") or list(item.items())
        nested = [str(k) for k, v in pairs if isinstance(v, (dict, list))]
        row = _row(i, [(str(k), "" if v is None else str(v)) for k, v in pairs if k not in nested])
        if nested:
            name = clean_text(nested[0]).lower()[:MAX_KEY]
            row = Row(i, row.fields, f"{name}: a nested value (contact fields are text)")
        yield row


def _phone_column(path: Path, header: list[str]) -> str:
    names = [clean_text(h, one_line=True).lower()[:MAX_KEY] for h in header]
    for name in PHONE_COLUMNS:
        if name in names:
            return name
    raise CampaignError(
        f"{path}: no phone column (looked for {', '.join(PHONE_COLUMNS)}; "
        f"the columns are {', '.join(names) or 'none'})"
    )


def _line_of_byte(path: Path, offset: int) -> int:
    with path.open("rb") as f:
        return f.read(offset).count(b"\n") + 1


@dataclass(frozen=True, slots=True)
class NumberZone:
    """Where a contact's time zone came from: `column` (the file said so), `number` (the
    number's region or area code names one zone), `ambiguous` (several zones: the window is
    checked in all of them, `candidates`), `default` (the campaign's default zone)."""

    zone: str
    source: str
    candidates: tuple[str, ...] = ()


def normalise(raw: str, region: str, fallback_zone: str = "UTC") -> tuple[str, str]:
    """(E.164, the number's time zone), or ValueError with the reason."""
    phone, zone = parse_number(raw, region, fallback_zone)
    return phone, zone.zone


def parse_number(raw: str, region: str, fallback_zone: str = "UTC") -> tuple[str, NumberZone]:
    """(E.164, where its time zone comes from), or ValueError with the reason. A number whose
    region spans several zones (a Russian mobile, Australian or US toll-free numbers) is
    `ambiguous`: the campaign default when it is one of them, else the first, and all of them
    are kept as candidates."""
    phone, zone, _ = parse_full(raw, region, fallback_zone)
    return phone, zone


def parse_full(raw: str, region: str, fallback_zone: str = "UTC") -> tuple[str, NumberZone, str]:
    """`parse_number`, and the number's extension ("" when it has none)."""
    if len(raw) > 64:
        raise ValueError("phone: longer than 64 characters")
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as e:
        raise ValueError(f"phone: not a phone number ({e.args[0] if e.args else e})") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("phone: not a valid number for its region")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    ext = number.extension or ""
    zones = tuple(z for z in number_zones.time_zones_for_number(number) if z != "Etc/Unknown")
    if not zones:
        return e164, NumberZone(fallback_zone, "default"), ext
    if len(zones) == 1:
        return e164, NumberZone(zones[0], "number"), ext
    chosen = fallback_zone if fallback_zone in zones else zones[0]
    return e164, NumberZone(chosen, "ambiguous", zones), ext


def import_contacts(
    store: Store,
    campaign_name: str,
    path: Path,
    source: str = "",
    segment: str = "",
    batch: int = 5000,
    rejects: Path | None = None,
) -> ImportResult:
    """All or nothing: one transaction; rows are streamed and written in batches, so a list of
    a million contacts needs no more memory than its set of numbers. Rejected rows (bad number,
    time zone, preferred time) are listed in `rejects` (CSV: row, reason, fields) when given."""
    result = ImportResult()
    with rejects_csv(rejects, result) as out:
        _import(store, campaign_name, path, source, segment, batch, result, out)
    return result


class _Rejecting(Protocol):
    rejected_count: int
    rejects_path: Path | None


@contextlib.contextmanager
def rejects_csv(path: Path | None, result: _Rejecting) -> Iterator[Any]:
    """The CSV writer (row, reason, fields) of an all-or-nothing import's rejected rows, or None
    without a path. The file goes when the import fails (nothing was imported, so nothing was
    rejected either) or when it rejected nothing."""
    if path is None:
        yield None
        return
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["row", "reason", "fields"])
        result.rejects_path = path
        try:
            yield out
        except BaseException:
            handle.close()
            path.unlink(missing_ok=True)
            result.rejects_path = None
            raise
    if not result.rejected_count:
        path.unlink()
        result.rejects_path = None


def _import(
    store: Store,
    campaign_name: str,
    path: Path,
    source: str,
    segment: str,
    batch: int,
    result: ImportResult,
    out: Any,
) -> None:
    with store.session() as s:
        campaign = store.campaign(s, campaign_name)
        config = CampaignConfig.model_validate(campaign.config)
        writer = _Writer(s, campaign.id, config, store.dnc_numbers(s, campaign.id), result)
        seen: set[str] = set()
        repeats: list[dict[str, Any]] = []
        phone_key: str | None = None
        for row in read_rows(path):
            phone_key = phone_key or next((k for k in PHONE_COLUMNS if k in row.fields), None)
            try:
                if row.problem is not None:
                    raise ValueError(row.problem)
                if phone_key is None:
                    raise ValueError("phone: no phone field")
                contact = _contact(row, phone_key, config, source, segment)
            except ValueError as e:
                result.reject(row, str(e), out)
                continue
            if contact["timezone_source"] == "ambiguous":
                result.ambiguous_count += 1
                if len(result.ambiguous) < KEEP_REJECTED:
                    zones = contact["zone_candidates"]
                    result.ambiguous.append(
                        f"row {row.number}: the number spans {len(zones)} time zones "
                        f"({', '.join(zones[:4])}{', ...' if len(zones) > 4 else ''}); "
                        "called only when the window is open in all of them (add a timezone "
                        "column to choose)"
                    )
            if contact["phone"] in seen:
                repeats.append(contact)
                continue
            seen.add(contact["phone"])
            writer.pending.append(contact)
            if len(writer.pending) >= batch:
                writer.flush()
        writer.flush()
        for contact in repeats:  # a duplicate in the file fills in what the first one lacked
            writer.merge(contact, fill_only=True)


class _Writer:
    def __init__(
        self,
        s: Session,
        campaign_id: int,
        config: CampaignConfig,
        dnc: set[str],
        result: ImportResult,
    ) -> None:
        self.s, self.campaign_id, self.config, self.dnc = s, campaign_id, config, dnc
        self.result = result
        self.pending: list[dict[str, Any]] = []
        self.now = utcnow()

    def flush(self) -> None:
        batch, self.pending = self.pending, []
        if not batch:
            return
        phones = [c["phone"] for c in batch]
        existing = set(
            self.s.scalars(
                select(Contact.phone).where(
                    Contact.campaign_id == self.campaign_id, Contact.phone.in_(phones)
                )
            )
        )
        rows = []
        for contact in batch:
            if contact["phone"] in existing:
                self.merge(contact, fill_only=False)
                continue
            fields = {**contact["variables"], "name": contact["name"]}
            on_dnc = contact["phone"] in self.dnc or dnc_hash(contact["phone"]) in self.dnc
            reason = "do-not-call" if on_dnc else failed_rule(self.config.rules, fields, self.now)
            if reason is not None:
                self.result.skipped[reason] = self.result.skipped.get(reason, 0) + 1
            rows.append(
                {
                    **contact,
                    "campaign_id": self.campaign_id,
                    "next_at": self.now,
                    "state": "skipped" if reason else "pending",
                    "reason": reason,
                    "attempts": 0,
                }
            )
        if rows:
            self.s.execute(insert(Contact), rows)
        self.result.imported += len(rows)

    def merge(self, contact: dict[str, Any], fill_only: bool) -> None:
        """A number already known: its new fields update the stored contact (a repeat within
        the same file only fills in empty fields)."""
        old = self.s.scalar(
            select(Contact).where(
                Contact.campaign_id == self.campaign_id, Contact.phone == contact["phone"]
            )
        )
        if old is None:
            return
        new = {k: v for k, v in contact["variables"].items() if v}
        old.variables = {**new, **old.variables} if fill_only else {**old.variables, **new}
        if contact["name"] and (not fill_only or not old.name):
            old.name = contact["name"]
        self.result.merged += 1


def _contact(
    row: Row, phone_key: str, config: CampaignConfig, source: str, segment: str
) -> dict[str, Any]:
    f = row.fields
    phone, number_zone, in_number = parse_full(
        f.get(phone_key, ""), config.region, config.window.default_timezone
    )
    column = f.get("extension") or f.get("ext") or ""
    if in_number and column and in_number != column:
        raise ValueError("extension: the number's and the extension column's differ")
    extension = in_number or column
    if extension and not extension.isdigit():
        raise ValueError("extension: digits only")
    values = {
        "name": f.get("name", ""),
        "source": f.get("source") or clean_text(source, one_line=True),
        "segment": f.get("segment") or clean_text(segment, one_line=True),
        "timezone": f.get("timezone", ""),
        "extension": extension,
    }
    for key, limit in LIMITS.items():
        if len(values[key]) > limit:
            raise ValueError(f"{key}: longer than {limit} characters")
    for key, value in f.items():
        if key not in KNOWN and len(value) > MAX_VALUE:
            raise ValueError(f"{key[:MAX_KEY]}: longer than {MAX_VALUE} characters")
    zone = f.get("timezone") or number_zone.zone
    source = "column" if f.get("timezone") else number_zone.source
    candidates = list(number_zone.candidates) if source == "ambiguous" else None
    try:
        check_zone(zone)
    except ValueError as e:
        raise ValueError(f"timezone: {e}") from None
    preferred = f.get("preferred_time") or None
    if preferred is not None:
        try:
            time.fromisoformat(preferred)
        except ValueError:
            raise ValueError(f"preferred_time {preferred!r}: use HH:MM") from None
    return {
        "phone": phone,
        "extension": extension,
        "name": f.get("name", ""),
        "variables": {k: v for k, v in f.items() if k not in KNOWN and k != phone_key},
        "source": values["source"],
        "segment": values["segment"],
        "timezone": zone,
        "preferred_time": preferred,
        "import_row": row.number,
        "timezone_source": source,
        "zone_candidates": candidates,
    }


def csv_text(rows: list[dict[str, Any]]) -> str:
    """Rows as CSV for spreadsheets: a cell that a spreadsheet would run as a formula
    (`=HYPERLINK(...)`, `@SUM(...)`, `+cmd|...`) is written with a leading apostrophe."""
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({k: inert(v) for k, v in row.items()} for row in rows)
    return out.getvalue()


_FORMULA = re.compile(r"^[=@\t\r]|^[+-](?![\d\s().-]*$)")


def inert(value: Any) -> Any:
    """A cell value that no spreadsheet evaluates (numbers and phone numbers stay as they are)."""
    return f"'{value}" if isinstance(value, str) and _FORMULA.match(value) else value
