"""Pure campaign scheduling: calling windows in local time, preferred times, holidays, retry
plans, pre-dial rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from voicebot.campaign.config import CallingWindow, CampaignConfig, RetryRule, Rule
from voicebot.campaign.schedule import after_attempt, failed_rule, in_window, next_slot

pytestmark = pytest.mark.unit
WINDOW = CallingWindow(
    start="09:00",
    end="20:00",
    days=["mon", "tue", "wed", "thu", "fri"],
    holidays=[date(2026, 12, 25)],
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_the_window_is_in_the_contacts_local_time() -> None:
    noon_utc = utc(2026, 11, 24, 12)  # Tuesday
    assert in_window(noon_utc, "Europe/Berlin", WINDOW)  # 13:00 there
    assert not in_window(noon_utc, "America/Los_Angeles", WINDOW)  # 04:00 there
    assert not in_window(utc(2026, 11, 28, 12), "Europe/Berlin", WINDOW)  # Saturday
    assert not in_window(utc(2026, 12, 25, 12), "Europe/Berlin", WINDOW)  # holiday


def test_next_slot_skips_nights_weekends_holidays_and_honours_preferred_times() -> None:
    friday_evening = utc(2026, 12, 18, 21)  # 22:00 in Berlin, Friday
    assert next_slot(friday_evening, "Europe/Berlin", WINDOW) == utc(2026, 12, 21, 8)  # Mon 09:00
    christmas_eve = utc(2026, 12, 24, 20)
    assert next_slot(christmas_eve, "Europe/Berlin", WINDOW) == utc(2026, 12, 28, 8)
    morning = utc(2026, 11, 24, 7)  # 08:00 Berlin
    assert next_slot(morning, "Europe/Berlin", WINDOW, time(18, 30)) == utc(2026, 11, 24, 17, 30)
    late = utc(2026, 11, 24, 18)  # 19:00 Berlin: today's 18:30 has passed
    assert next_slot(late, "Europe/Berlin", WINDOW, time(18, 30)) == utc(2026, 11, 25, 17, 30)
    assert next_slot(utc(2026, 11, 24, 12), "Europe/Berlin", WINDOW) == utc(2026, 11, 24, 12)
    shanghai = next_slot(utc(2026, 11, 24, 12), "Asia/Shanghai", WINDOW)  # 20:00 there: closed
    assert shanghai == utc(2026, 11, 25, 1)


def test_retries_follow_the_rule_of_each_outcome_then_stop() -> None:
    config = CampaignConfig(
        retries={
            "no_answer": RetryRule(max=2, after_min=60),
            "busy": RetryRule(max=1, after_min=5),
        },
        max_attempts=5,
    )
    now = datetime(2026, 11, 24, 10)
    first = after_attempt("no_answer", 1, 0, config, now)
    assert (first.state, first.next_at) == ("pending", datetime(2026, 11, 24, 11))
    assert after_attempt("no_answer", 3, 2, config, now).state == "done"
    assert after_attempt("busy", 2, 0, config, now).next_at == datetime(2026, 11, 24, 10, 5)
    assert after_attempt("voicemail", 1, 0, config, now).state == "done"  # no rule: final
    assert after_attempt("completed", 1, 0, config, now).state == "done"
    booked = datetime(2026, 11, 25, 15)
    assert after_attempt("callback", 1, 0, config, now, booked).next_at == booked
    assert after_attempt("busy", 5, 0, config, now).state == "done"  # max attempts


def test_pre_dial_rules_name_their_reason() -> None:
    rules = [
        Rule(field="account", op="eq", value="active", reason="account not active"),
        Rule(field="plan", op="not_in", value=["gold"], reason="already on the offer"),
        Rule(field="last_contact", op="days_since_gte", value=30, reason="contacted lately"),
        Rule(field="age", op="gte", value=18, reason="minor"),
    ]
    now = datetime(2026, 11, 24, tzinfo=UTC)
    ok = {"account": "active", "plan": "basic", "last_contact": "2026-09-01", "age": "40"}
    assert failed_rule(rules, ok, now) is None
    assert failed_rule(rules, {**ok, "account": "closed"}, now) == "account not active"
    assert failed_rule(rules, {**ok, "plan": "gold"}, now) == "already on the offer"
    assert failed_rule(rules, {**ok, "last_contact": "2026-11-20"}, now) == "contacted lately"
    assert failed_rule(rules, {**ok, "age": "n/a"}, now) == "minor"
    with pytest.raises(ValueError, match="retryable outcomes"):
        CampaignConfig(retries={"completed": RetryRule()})


def test_days_since_rule_on_the_dialers_naive_clock_and_unreadable_dates() -> None:
    rule = [Rule(field="last_contact", op="days_since_gte", value=30, reason="contacted lately")]
    now = datetime(2026, 11, 24, 10, 0)  # naive UTC, as the dialer's campaign clock gives it
    assert failed_rule(rule, {"last_contact": "2026-09-01"}, now) is None
    assert failed_rule(rule, {"last_contact": "2026-11-20T08:00:00+01:00"}, now) is not None
    assert failed_rule(rule, {"last_contact": "last tuesday"}, now) == "contacted lately"
