"""Pure scheduling: when a contact may be called next (calling window in local time, preferred
time, holidays), what a finished attempt leads to (retry or final), and the pre-dial rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from voicebot.campaign.config import DAYS, CallingWindow, CampaignConfig, Rule
from voicebot.core.outcomes import Outcome


def in_window(at: datetime, zone: str, window: CallingWindow) -> bool:
    local = at.astimezone(ZoneInfo(zone))
    return (
        DAYS[local.weekday()] in window.days
        and local.date() not in window.holidays
        and window.start <= local.time() < window.end
    )


def next_slot(now: datetime, zone: str, window: CallingWindow,
              preferred: time | None = None) -> datetime | None:  # fmt: skip
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


@dataclass(frozen=True, slots=True)
class Plan:
    """What happens to a contact after an attempt."""

    state: str  # pending (retry / callback) or done
    next_at: datetime | None = None


def after_attempt(outcome: str, attempts: int, retries_of_outcome: int, config: CampaignConfig,
                  now: datetime, callback_at: datetime | None = None) -> Plan:  # fmt: skip
    """`retries_of_outcome`: earlier attempts of this contact that ended with this outcome."""
    if attempts >= config.max_attempts:
        return Plan("done")
    if outcome == Outcome.CALLBACK and callback_at is not None:
        return Plan("pending", max(callback_at, now))
    rule = config.retries.get(outcome)
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
        last = datetime.fromisoformat(str(actual))
        last = last if last.tzinfo else last.replace(tzinfo=UTC)
        return (now - last).days >= float(value)
    try:
        number = float(actual)
    except (TypeError, ValueError):
        return False
    return number >= float(value) if rule.op == "gte" else number <= float(value)
