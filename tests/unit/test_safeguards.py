"""Numbers that must never be dialled are refused with a reason, on any path."""

from __future__ import annotations

import pytest

from voicebot.campaign.safeguards import DialPolicy, refusal

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
