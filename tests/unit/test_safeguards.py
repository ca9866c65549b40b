"""Numbers that must never be dialled are refused with a reason, on any path."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from voicebot.campaign.safeguards import (
    DialPolicy,
    caller_id_problem,
    local_zones,
    outside_hours,
    refusal,
)
from voicebot.campaign.store import Store

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("number", "region", "reason"),
    [
        ("911", "US", "emergency"),
        ("112", "DE", "emergency"),
        ("999", "GB", "emergency"),
        ("110", "DE", "emergency"),
        ("sip:911@carrier.example.com", "US", "emergency"),
        ("55555", "US", "short code"),
        ("+1 900 555 1234", "US", "premium-rate"),
        ("+44 909 123 4567", "GB", "premium-rate"),
        ("+49 900 1234567", "DE", "premium-rate"),
        ("sip:+19005551234@carrier.example.com", "US", "premium-rate"),
        ("+1 800 555 1234", "US", "toll-free"),
        ("+1 212 5550", "US", "not a valid number"),
        ("call me", "US", "not a phone number"),
    ],
)
def test_numbers_that_must_not_be_dialled(number: str, region: str, reason: str) -> None:
    assert reason in (refusal(number, region) or "")


@pytest.mark.parametrize(
    "number", ["+1 212 555 0100", "+4915112345678", "+4930123456", "sip:agent1@pbx.example.com"]
)
def test_ordinary_numbers_and_named_sip_users_pass(number: str) -> None:
    assert refusal(number, "US") is None


def test_a_number_type_passes_only_when_the_config_allows_it() -> None:
    premium = DialPolicy(allow=["fixed_line", "mobile", "premium_rate"])
    assert refusal("+19005551234", "US", premium) is None
    assert refusal("911", "US", premium) is not None  # emergency numbers: never


@pytest.mark.parametrize("target", ["911", "sip:911@127.0.0.1", "+19005551234"])
def test_voicebot_call_refuses_before_dialling(target: str, capsys: pytest.CaptureFixture) -> None:
    from voicebot.cli import main

    code = main(
        ["call", target, "--script", "prompts/survey_en.yaml", "--trunk", "sip:127.0.0.1:9"]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert f"not calling {target}: " in err and ("emergency" in err or "premium" in err)


NIGHT_AND_DAY = datetime(2026, 12, 1, 3, 30, tzinfo=UTC)  # 22:30 in New York, 11:30 in Shanghai


def test_a_one_off_call_goes_out_only_in_the_callees_daytime() -> None:
    hours = DialPolicy().hours
    assert "22:30 there (America/New_York)" in (
        outside_hours("+1 212 555 0100", "US", NIGHT_AND_DAY, hours) or ""
    )
    assert outside_hours("+86 138 0013 8000", "CN", NIGHT_AND_DAY, hours) is None
    assert outside_hours("+1 212 555 0100", "US", NIGHT_AND_DAY.replace(hour=15), hours) is None
    # a Russian mobile may ring anywhere from Kaliningrad to Kamchatka: every zone must be awake
    mobile = "+7 912 345 6789"
    assert len(local_zones(mobile, "RU")) > 3
    assert outside_hours(mobile, "RU", datetime(2026, 12, 1, 6, 0, tzinfo=UTC), hours) is None
    assert outside_hours(mobile, "RU", datetime(2026, 12, 1, 15, 0, tzinfo=UTC), hours)
    assert "cannot be told" in (outside_hours("sip:bob@pbx", "US", NIGHT_AND_DAY, hours) or "")


@pytest.mark.parametrize(
    ("caller_id", "host", "problem"),
    [
        ("sip:voicebot@127.0.0.1", "127.0.0.1:5060", None),  # a lab peer on this machine
        ("sip:+14155550100@carrier.example", "carrier.example", None),
        ('"Acme" <sip:+442079460958@carrier.example>', "carrier.example", None),
        ("sip:voicebot@127.0.0.1", "carrier.example", "is not a phone number"),
        ("sip:+1415555@carrier.example", "carrier.example", "not a valid phone number"),
        ("voicebot", "carrier.example", "not a SIP URI"),
    ],
)
def test_the_caller_id_is_a_number_the_carrier_will_carry(
    caller_id: str, host: str, problem: str | None
) -> None:
    found = caller_id_problem(caller_id, host, dialling_a_number=True)
    assert (found is None) if problem is None else (problem in (found or "")), found


def _call(*args: str) -> list[str]:
    return ["call", *args, "--script", "prompts/survey_en.yaml"]


def test_voicebot_call_waits_for_the_callees_daytime(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from voicebot.cli import main

    now = datetime.now(UTC)
    hours = DialPolicy().hours
    asleep = next(  # somewhere it is night now: the world always has one
        n
        for n in ("+1 212 555 0100", "+86 138 0013 8000", "+44 20 7946 0958", "+1 310 555 0100")
        if outside_hours(n, "US", now, hours)
    )
    nowhere = f"sqlite:///{tmp_path / 'none.db'}"  # no do-not-call list in the way
    assert main([*_call(asleep), "--trunk", "sip:127.0.0.1:9", "--db", nowhere]) == 2
    assert f"not calling {asleep} now: it is " in capsys.readouterr().err


def test_voicebot_call_honours_the_do_not_call_lists_and_checks_the_caller_id(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from voicebot.cli import main

    db = tmp_path / "c.db"
    store = Store(f"sqlite:///{db}")
    with store.session() as s:
        store.add_dnc(s, "+12125550100", None, "asked not to be called")
    store.engine.dispose()
    number = "+1 212 555 0100"
    local = ["--any-hour", "--db", f"sqlite:///{db}", "--trunk", "sip:127.0.0.1:9"]
    assert main([*_call(number), *local]) == 2
    assert f"not calling {number}: on the do-not-call list" in capsys.readouterr().err
    other = "+1 212 555 0199"
    carrier = ["--any-hour", "--db", f"sqlite:///{db}", "--trunk", "sip:carrier.example.com"]
    assert main([*_call(other), *carrier]) == 2
    assert "sip.trunk.caller_id" in capsys.readouterr().err
