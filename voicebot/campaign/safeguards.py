"""What must never be dialled, whatever the path (the campaign dialer, `voicebot call`, LiveKit):
emergency numbers and short codes always; premium-rate and other costly or unusual number types
unless the config allows them; invalid numbers. Do-not-call, calling hours and the per-number
frequency caps are checked against the store by the dialer with the same `DialPolicy`."""

from __future__ import annotations

import re
from typing import Literal

import phonenumbers
from phonenumbers import PhoneNumberType, shortnumberinfo
from pydantic import BaseModel, ConfigDict, Field

NumberKind = Literal[
    "fixed_line",
    "mobile",
    "fixed_line_or_mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
]
KINDS: dict[int, NumberKind] = {
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium_rate",
    PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.PERSONAL_NUMBER: "personal_number",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
}
ORDINARY: tuple[NumberKind, ...] = ("fixed_line", "mobile", "fixed_line_or_mobile")
_SIP_USER = re.compile(r"^sips?:([^@;]+)@")


class DialPolicy(BaseModel):
    """Which numbers may be dialled and how often one person may be called (all campaigns)."""

    model_config = ConfigDict(extra="forbid")

    allow: list[NumberKind] = Field(
        default_factory=lambda: list(ORDINARY),
        description="number types that may be dialled (premium_rate only if listed here)",
    )
    max_answered_per_day: int = Field(1, ge=1, description="answered calls per number per day")
    max_attempts_per_day: int = Field(3, ge=1, description="dials per number per day")
    max_answered_per_week: int = Field(3, ge=1)
    max_attempts_per_week: int = Field(10, ge=1)


def refusal(number: str, region: str, policy: DialPolicy | None = None) -> str | None:
    """Why `number` must not be dialled, or None. A SIP URI is checked by its user part when
    that is a number; a named user (sip:agent@pbx) is not a phone number and passes."""
    policy = policy or DialPolicy()
    if match := _SIP_USER.match(number):
        number = match.group(1)
        if not re.fullmatch(r"[+\d\s().-]+", number):
            return None
    digits = re.sub(r"[\s().-]", "", number)
    national = not digits.startswith("+")
    if shortnumberinfo.is_emergency_number(digits, region) or (
        national and shortnumberinfo.connects_to_emergency_number(digits, region)
    ):
        return "an emergency number: never dialled"
    try:
        parsed = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return "not a phone number"
    if not phonenumbers.is_valid_number(parsed):
        short = shortnumberinfo.is_possible_short_number(parsed)
        return "a short code: never dialled" if short else "not a valid number"
    kind = KINDS.get(phonenumbers.number_type(parsed))
    if kind is None or kind not in policy.allow:
        return f"a {(kind or 'unknown').replace('_', '-')} number (allow it in dial.allow)"
    return None
