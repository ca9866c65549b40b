"""Erasing a person's data (right to erasure): their number, name and script variables in the
store, what they said and answered in the call reports, the call recordings, and the results
still waiting in the results journal for the store (`journal.py`). What stays is anonymous:
attempts with outcome, duration and latency (the campaign's counts do not change), and, if
the number was on a do-not-call list or asked not to be called in a journaled call, its hash,
which still suppresses it."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from voicebot.campaign.journal import JournalSet, journal_dir
from voicebot.campaign.models import Attempt, ConsentEntry, Contact, DncEntry
from voicebot.campaign.store import CampaignError, Store, dnc_hash

ERASED = "[erased]"


@dataclass
class Erased:
    """What one erasure touched (counts only)."""

    contacts: int = 0
    attempts: int = 0
    reports: int = 0
    recordings: int = 0
    dnc_hashed: int = 0
    journaled: int = 0  # results waiting in the journal, anonymised
    consent_hashed: int = 0  # a no to future contact stays as a hash; a yes is deleted


def erase_contact(
    store: Store, contact_id: int, every_campaign: bool = True, journals: Path | None = None
) -> Erased:
    """Erase contact `contact_id` and, with `every_campaign`, the same number in every other
    campaign, in the store and in the results journals (`journals`: their folder, default the
    store's data folder), which stay locked meanwhile. The store is compacted afterwards so
    the old rows leave no copy on disk."""
    done = Erased()
    with JournalSet(journals or journal_dir(store.url)) as held:
        with store.session() as s:
            contact = s.get(Contact, contact_id)
            if contact is None or contact.reason == "erased":
                raise CampaignError(f"no contact {contact_id} (or it is already erased)")
            phone = contact.phone
            same = (
                select(Contact).where(Contact.phone == phone)
                if every_campaign
                else select(Contact).where(Contact.id == contact_id)
            )
            people = {person.id: personal_values(person) for person in s.scalars(same)}
            for person in [s.get(Contact, i) for i in people]:
                if person is not None:
                    _erase_one(s, person, done)
            done.dnc_hashed = _hash_dnc(s, phone)
            done.consent_hashed = _hash_consent(s, phone)
            phones = {person_id: phone for person_id in people}
            done.dnc_hashed += _hash_journal_dnc(store, s, held.entries(), phones)
        done.journaled = held.rewrite(_anonymise(phones, people, done))
    compact(store)
    return done


def erase_number(store: Store, phone: str, journals: Path | None = None) -> Erased:
    """Erase everyone with this (E.164) number, in every campaign."""
    with store.session() as s:
        contact_id = s.scalar(
            select(Contact.id)
            .where(Contact.phone == phone, func.coalesce(Contact.reason, "") != "erased")
            .limit(1)
        )
    if contact_id is None:
        raise CampaignError("no contact with that number (or it is already erased)")
    return erase_contact(store, contact_id, journals=journals)


def expire(
    store: Store,
    campaign: str,
    days: int,
    now: datetime | None = None,
    journals: Path | None = None,
) -> Erased:
    """Retention: erase the people of `campaign` who are done with it (finished or skipped)
    and whose last call is older than `days`, in this campaign only (in the store and the
    results journals); their anonymous counts and a hashed do-not-call entry stay."""
    done = Erased()
    cutoff = (now or datetime.now(UTC).replace(tzinfo=None)) - timedelta(days=days)
    with JournalSet(journals or journal_dir(store.url)) as held:
        phones, secrets = _expire(store, campaign, cutoff, held, done)
        if phones:
            done.journaled = held.rewrite(_anonymise(phones, secrets, done))
    if done.contacts:
        compact(store)
    return done


def _expire(
    store: Store, campaign: str, cutoff: datetime, held: JournalSet, done: Erased
) -> tuple[dict[int, str], dict[int, list[str]]]:
    phones: dict[int, str] = {}
    secrets: dict[int, list[str]] = {}
    with store.session() as s:
        c = store.campaign(s, campaign)
        last = (
            select(Attempt.contact_id, func.max(Attempt.started_at).label("at"))
            .where(Attempt.campaign_id == c.id)
            .group_by(Attempt.contact_id)
            .subquery()
        )
        people = s.scalars(
            select(Contact)
            .join(last, last.c.contact_id == Contact.id)
            .where(
                Contact.campaign_id == c.id,
                Contact.state.in_(("done", "skipped")),
                func.coalesce(Contact.reason, "") != "erased",
                last.c.at < cutoff,
            )
        )
        for person in list(people):
            phone = phones[person.id] = person.phone
            secrets[person.id] = personal_values(person)
            _erase_one(s, person, done)
            done.dnc_hashed += _hash_dnc(s, phone)
            done.consent_hashed += _hash_consent(s, phone)
        done.dnc_hashed += _hash_journal_dnc(store, s, held.entries(), phones)
    return phones, secrets


def _matches(entry: dict[str, Any], phones: dict[int, str]) -> str | None:
    """The erased number a journal entry is about (by its contact), or None."""
    contact_id = entry.get("contact_id")
    if isinstance(contact_id, int) and contact_id in phones:
        return phones[contact_id]
    return None


def _hash_journal_dnc(
    store: Store, s: Session, entries: list[dict[str, Any]], phones: dict[int, str]
) -> int:
    """A do-not-call request of an erased person that still waits in a journal is put on the
    store's do-not-call list as the number's hash: it holds, and names nobody."""
    hashed = 0
    for entry in entries:
        phone = _matches(entry, phones)
        if phone is not None and entry.get("result", {}).get("dnc") and not entry.get("erased"):
            store.add_dnc(s, dnc_hash(phone), None, "erased contact")
            hashed += 1
    return hashed


def _anonymise(
    phones: dict[int, str], secrets: dict[int, list[str]], done: Erased
) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
    """What erasure leaves of a journal entry about an erased person: what the store keeps of
    an erased attempt (outcome, duration, grade, latency, a scrubbed report), no number (a
    do-not-call request keeps its hash), no answers, callback time or recording."""

    def change(entry: dict[str, Any]) -> dict[str, Any] | None:
        phone = _matches(entry, phones)
        if phone is None or entry.get("erased"):
            return entry
        result = entry.get("result", {})
        report, recording = result.get("report_path"), result.get("recording_path")
        words = secrets.get(int(entry["contact_id"])) or [phone, phone.lstrip("+")]
        if report and scrub_report(Path(report), words):
            done.reports += 1
        if recording:
            Path(recording).unlink(missing_ok=True)
            done.recordings += 1
        dnc = bool(result.get("dnc"))
        kept = ("outcome", "duration_s", "grade", "transferred", "latency_ms", "handoff_failed")
        return {
            "v": entry.get("v"),
            "attempt_id": entry["attempt_id"],
            "contact_id": entry["contact_id"],
            "phone": dnc_hash(phone) if dnc else ERASED,
            "at": entry.get("at"),
            "erased": True,
            "result": {
                **{k: result[k] for k in kept if k in result},
                "answers": {},
                "dnc": dnc,
                "callback_at": None,
                "report_path": report,
                "recording_path": None,
            },
        }

    return change


def _erase_one(s: Session, contact: Contact, done: Erased) -> None:
    secrets = personal_values(contact)
    for attempt in s.scalars(select(Attempt).where(Attempt.contact_id == contact.id)):
        if attempt.report_path and scrub_report(Path(attempt.report_path), secrets):
            done.reports += 1
        if attempt.recording_path:
            Path(attempt.recording_path).unlink(missing_ok=True)
            done.recordings += 1
        attempt.answers, attempt.recording_path = {}, None
        done.attempts += 1
    contact.phone, contact.name, contact.variables = f"erased-{contact.id}", "", {}
    contact.source = contact.segment = ""
    if contact.state in ("pending", "dialing"):
        contact.state, contact.next_at = "skipped", None
    contact.reason = "erased"
    done.contacts += 1


def personal_values(contact: Contact) -> list[str]:
    """The contact's number, name and variables: what must not show where they are erased
    or hidden (longest first, so a name is replaced before a part of it)."""
    values = [
        contact.phone,
        contact.phone.lstrip("+"),
        contact.name,
        *(str(v) for v in contact.variables.values()),
    ]
    return sorted({v for v in values if len(v.strip()) >= 3}, key=len, reverse=True)


def _hash_dnc(s: Session, phone: str) -> int:
    hashed = 0
    for entry in list(s.scalars(select(DncEntry).where(DncEntry.phone == phone))):
        twin = s.scalar(
            select(DncEntry).where(DncEntry.phone == dnc_hash(phone), _same_list(entry.campaign_id))
        )
        if twin is None:
            entry.phone, entry.reason = dnc_hash(phone), "erased contact"
        else:
            s.delete(entry)
        hashed += 1
    return hashed


def _hash_consent(s: Session, phone: str) -> int:
    """A no to future contact keeps suppressing the number as its hash; a yes is dropped (it
    would only ever allow calls)."""
    hashed = 0
    for entry in list(s.scalars(select(ConsentEntry).where(ConsentEntry.phone == phone))):
        twin = s.scalar(
            select(ConsentEntry).where(
                ConsentEntry.phone == dnc_hash(phone), ConsentEntry.purpose == entry.purpose
            )
        )
        if entry.granted or twin is not None:
            s.delete(entry)
        else:
            entry.phone = dnc_hash(phone)
            hashed += 1
    return hashed


def _same_list(campaign_id: int | None) -> Any:
    return (
        DncEntry.campaign_id.is_(None)
        if campaign_id is None
        else DncEntry.campaign_id == campaign_id
    )


def scrub_report(path: Path, secrets: list[str]) -> bool:
    """Blank the personal fields of one call report JSON (contact, answers, what the caller
    said, bot lines and hand-off summaries that quote the contact). False if it is gone."""
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    report["contact"], report["records"] = {}, {}
    for turn in report.get("turns", []):
        turn["text"] = ""
    for line in report.get("bot_lines", []):
        if any(secret in line.get("text", "") for secret in secrets):
            line["text"] = ERASED
    if isinstance(report.get("transfer"), dict):
        report["transfer"]["summary"] = ERASED
    if report.get("error"):
        report["error"] = _redact(str(report["error"]), secrets)
    tmp = path.with_suffix(".erasing")
    tmp.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, path)
    return True


def _redact(value: str, secrets: list[str]) -> str:
    for secret in secrets:
        value = value.replace(secret, ERASED)
    return value


def compact(store: Store) -> None:
    """Rewrite the database files so erased values leave no stale copy in free pages or the
    write-ahead log (SQLite VACUUM + WAL truncate; PostgreSQL VACUUM FULL of the tables)."""
    with store.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        if store.engine.dialect.name == "sqlite":
            connection.execute(text("VACUUM"))
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        elif store.engine.dialect.name == "postgresql":
            connection.execute(text("VACUUM FULL contacts, attempts, dnc"))
