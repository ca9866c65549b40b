"""Campaign time: callbacks with and without a booked time, read in the callee's zone whatever
the server's zone is; numbers whose country spans several zones."""

from __future__ import annotations

import os
import time as systime
from collections.abc import Iterator
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from voicebot.campaign.config import CallingWindow, CampaignConfig, RetryRule
from voicebot.campaign.contacts import parse_number
from voicebot.campaign.dialer import Dial, utc_instant
from voicebot.campaign.schedule import callback_slot, in_all_windows, next_common_slot
from voicebot.nlu.slots import when

pytestmark = pytest.mark.unit
WINDOW = CallingWindow(start="09:00", end="20:00", days=["mon", "tue", "wed", "thu", "fri", "sat"])


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.fixture(params=["Asia/Shanghai", "America/New_York"])
def server_zone(request: pytest.FixtureRequest) -> Iterator[str]:
    """The machine's own zone (TZ): it must not matter."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    systime.tzset()
    yield request.param
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    systime.tzset()


def test_a_booked_callback_is_the_callees_local_time_on_any_server(server_zone: str) -> None:
    dial = Dial(1, 1, "+8613800138000", "", {}, 1, timezone="Asia/Shanghai")
    campaign_now = datetime(2026, 11, 23, 2, 0)  # naive UTC: 10:00 in Shanghai, Monday
    wall = dial.local_time(campaign_now)
    assert (wall.hour, str(wall.tzinfo)) == (10, "Asia/Shanghai")
    booked = when("I'm busy right now, call me back tomorrow at three pm", "en", wall)
    assert booked is not None
    stored = utc_instant(booked.isoformat())
    assert stored == datetime(2026, 11, 24, 7, 0)  # 15:00 in Shanghai, whatever TZ says
    assert in_all_windows(stored.replace(tzinfo=UTC), ["Asia/Shanghai"], WINDOW)
    assert utc_instant("2026-11-24T15:00:00") == datetime(2026, 11, 24, 15)  # naive: UTC


def test_a_callback_without_a_time_follows_its_rule_inside_the_window() -> None:
    rule = RetryRule(max=2, after_min=120)
    evening = utc(2026, 11, 24, 11, 30)  # 19:30 in Shanghai: +2 h is past the window
    assert callback_slot(evening, ["Asia/Shanghai"], WINDOW, rule) == utc(2026, 11, 25, 1)
    morning = utc(2026, 11, 24, 1)  # 09:00 there
    assert callback_slot(morning, ["Asia/Shanghai"], WINDOW, rule) == utc(2026, 11, 24, 3)
    afternoon = RetryRule(max=2, after_min=30, prefer="afternoon")
    assert callback_slot(morning, ["Asia/Shanghai"], WINDOW, afternoon) == utc(2026, 11, 24, 4)
    config = CampaignConfig(retries={"no_answer": RetryRule()})
    assert config.retries["callback"].max >= 1  # every callback gets a dial, by default too
    with pytest.raises(ValueError, match="retryable outcomes are"):
        CampaignConfig(retries={"completed": RetryRule()})


def test_numbers_spanning_several_zones_keep_every_candidate() -> None:
    phone, moscow = parse_number("+7 495 123 4567", "US")
    assert (phone, moscow.zone, moscow.source) == ("+74951234567", "Europe/Moscow", "number")
    _, mobile = parse_number("+7 912 345 6789", "US", "Europe/Moscow")
    assert mobile.source == "ambiguous" and mobile.zone == "Europe/Moscow"
    assert {"Europe/Moscow", "Asia/Vladivostok"} <= set(mobile.candidates)
    _, sydney = parse_number("+61 412 345 678", "US")
    assert sydney.source == "ambiguous" and "Australia/Perth" in sydney.candidates
    _, unknown = parse_number("+1 212 555 0100", "US", "UTC")
    assert unknown.source == "number" and unknown.zone == "America/New_York"
    # the window must be open in every candidate: Moscow 09:00 is 16:00 in Vladivostok
    zones = ["Europe/Moscow", "Asia/Vladivostok"]
    slot = next_common_slot(utc(2026, 11, 23, 3), zones, WINDOW)  # 06:00 Moscow, Monday
    assert slot == utc(2026, 11, 23, 6)  # 09:00 Moscow, 16:00 Vladivostok
    assert in_all_windows(slot, zones, WINDOW)
    assert not in_all_windows(utc(2026, 11, 23, 12), zones, WINDOW)  # 22:00 in Vladivostok
    apart = ["America/New_York", "Asia/Shanghai"]  # 13 h apart: 11 h windows never meet
    assert next_common_slot(utc(2026, 11, 23, 0), apart, WINDOW) is None  # never both open
    assert time(9) <= slot.astimezone(ZoneInfo("Asia/Vladivostok")).time() < time(20)
