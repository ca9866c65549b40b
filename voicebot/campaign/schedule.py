"""Pure scheduling: when a contact may be called next (calling window in local time, preferred
time, holidays), what a finished attempt leads to (retry or final), and the pre-dial rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from voicebot.campaign.config import (
    DAYS,
    PARTS_OF_DAY,
    CallingWindow,
    CampaignConfig,
    RetryRule,
    Rule,
)
from voicebot.core.outcomes import Outcome


def in_window(at: datetime, zone: str, window: CallingWindow) -> bool:
    local = at.astimezone(ZoneInfo(zone))
    return (
        DAYS[local.weekday()] in window.days
        and local.date() not in window.holidays
        and window.start <= local.time() < window.end
    )


def next_slot(
    now: datetime, zone: str, window: CallingWindow, preferred: time | None = None
) -> datetime | None:
    """The earliest moment at or after `now` inside the window (at the preferred local time of
    day when there is one, if the window allows it). None: the window never opens."""
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    start = window.start
    if preferred is not None and window.start <= preferred < window.end:
        start = preferred
    for day in range(0, 400):
        d = (local + timedelta(days=day)).date()
        if DAYS[d.weekday()] not in window.days or d in window.holidays:
            continue
        opens = datetime.combine(d, start, tz)
        closes = datetime.combine(d, window.end, tz)
        if day == 0 and local >= closes:
            continue
        candidate = max(opens, local) if day == 0 else opens
        if preferred is not None and day == 0 and local > opens:
            continue  # the preferred time has passed today: tomorrow at that time
        return candidate.astimezone(UTC)
    return None


def in_all_windows(at: datetime, zones: list[str], window: CallingWindow) -> bool:
    """Inside the window in every zone the contact may be in (a number spanning several)."""
    return all(in_window(at, zone, window) for zone in zones)


def next_common_slot(
    now: datetime, zones: list[str], window: CallingWindow, preferred: time | None = None
) -> datetime | None:
    """`next_slot` for a contact whose zone is one of `zones`: the earliest moment inside the
    window in all of them (None when they never overlap). The preferred time of day applies
    only to a contact with one known zone."""
    if len(zones) == 1:
        return next_slot(now, zones[0], window, preferred)
    at = now
    for _ in range(64):
        slots = [next_slot(at, zone, window) for zone in zones]
        if any(slot is None for slot in slots):
            return None
        latest = max(slot for slot in slots if slot is not None)
        if in_all_windows(latest, zones, window):
            return latest
        at = latest + timedelta(minutes=1)
    return None


def callback_slot(
    now: datetime, zones: list[str], window: CallingWindow, rule: RetryRule
) -> datetime | None:
    """When a callback without a booked time is dialled: `after_min` from now, then the next
    moment inside the window (inside the preferred part of the contact's day when the window
    allows it)."""
    at = now + timedelta(minutes=rule.after_min)
    if rule.prefer is not None:
        start, end = PARTS_OF_DAY[rule.prefer]
        start, end = max(start, window.start), min(end, window.end)
        if start < end:
            part = window.model_copy(update={"start": start, "end": end})
            slot = next_common_slot(at, zones, part)
            if slot is not None:
                return slot
    return next_common_slot(at, zones, window)


@dataclass(frozen=True, slots=True)
class Plan:
    """What happens to a contact after an attempt."""

    state: str  # pending (retry / callback) or done
    next_at: datetime | None = None


def after_attempt(
    outcome: str,
    attempts: int,
    retries_of_outcome: int,
    config: CampaignConfig,
    now: datetime,
    callback_at: datetime | None = None,
) -> Plan:
    """`retries_of_outcome`: earlier attempts of this contact that ended with this outcome."""
    if attempts >= config.max_attempts:
        return Plan("done")
    if outcome == Outcome.CALLBACK and callback_at is not None:
        return Plan("pending", max(callback_at, now))
    rule = config.retries.get(outcome)  # a callback without a time: the `callback` rule
    if rule is None or retries_of_outcome >= rule.max:
        return Plan("done")
    return Plan("pending", now + timedelta(minutes=rule.after_min))


def failed_rule(rules: list[Rule], fields: dict[str, Any], now: datetime) -> str | None:
    """The reason of the first rule this contact fails, or None."""
    for rule in rules:
        if not _passes(rule, fields.get(rule.field), now):
            return rule.reason
    return None


def _passes(rule: Rule, actual: Any, now: datetime) -> bool:
    value = rule.value
    if rule.op == "eq":
        return str(actual) == str(value)
    if rule.op == "ne":
        return str(actual) != str(value)
    if rule.op == "in":
        return str(actual) in [str(v) for v in value]
    if rule.op == "not_in":
        return str(actual) not in [str(v) for v in value]
    if rule.op == "days_since_gte":
        if actual in (None, ""):
            return True  # never contacted
        try:
            last = datetime.fromisoformat(str(actual))
        except ValueError:
            return False  # a date nobody can read: not proof that enough time has passed
        last = last if last.tzinfo else last.replace(tzinfo=UTC)
        now = now if now.tzinfo else now.replace(tzinfo=UTC)  # the dialer's clock is naive UTC
        return (now - last).days >= float(value)
    try:
        number = float(actual)
    except (TypeError, ValueError):
        return False
    return number >= float(value) if rule.op == "gte" else number <= float(value)
