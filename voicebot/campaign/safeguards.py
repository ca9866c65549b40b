"""What must never be dialled, whatever the path (the campaign dialer, `voicebot call`, LiveKit):
emergency numbers and short codes always; premium-rate and other costly or unusual number types
unless the config allows them; invalid numbers. Do-not-call, calling hours and the per-number
frequency caps are checked against the store by the dialer with the same `DialPolicy`; a
one-off `voicebot call` checks the callee's local hours and the caller ID here too."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from typing import Literal
from zoneinfo import ZoneInfo

import phonenumbers
import phonenumbers.timezone
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
    hours: tuple[time, time] = Field(
        (time(8), time(21)),
        description="`voicebot call`: the callee's local hours a one-off call may go out in "
        "(campaigns use their own window)",
    )


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


def local_zones(number: str, region: str) -> tuple[str, ...]:
    """The time zones `number` may ring in (more than one where a number range spans zones);
    empty when it cannot be told (a SIP URI, an unknown range)."""
    if match := _SIP_USER.match(number):
        number = match.group(1)
    try:
        parsed = phonenumbers.parse(re.sub(r"[\s().-]", "", number), region)
    except phonenumbers.NumberParseException:
        return ()
    zones = phonenumbers.timezone.time_zones_for_number(parsed)
    return tuple(z for z in zones if z != phonenumbers.timezone.UNKNOWN_TIMEZONE)


def outside_hours(
    number: str, region: str, now_utc: datetime, hours: tuple[time, time]
) -> str | None:
    """Why a one-off call to `number` must wait (the callee's local time is outside `hours` in
    any zone the number may ring in, or cannot be told), or None. Campaigns use their window."""
    zones = local_zones(number, region)
    if not zones:
        return "its local time cannot be told (pass --any-hour if you know it is daytime there)"
    start, end = hours
    aware = now_utc.replace(tzinfo=UTC) if now_utc.tzinfo is None else now_utc
    for zone in zones:
        local = aware.astimezone(ZoneInfo(zone))
        if not start <= local.time().replace(tzinfo=None) < end:
            return (
                f"it is {local:%H:%M} there ({zone}); calls go out {start:%H:%M}-{end:%H:%M} "
                "the callee's time (dial.hours)"
            )
    return None


_URI = re.compile(r"^(?:\"?[^\"<]*\"?\s*<)?(sips?):([^@\s<>;]+)@([^\s<>;]+)(?:;[^<>]*)?>?$")


def caller_id_problem(caller_id: str, trunk_host: str, dialling_a_number: bool) -> str | None:
    """Why the From identity would be refused by a carrier or mislead the callee, or None: it
    must be a SIP URI; a numeric user must be a valid phone number in international form; a
    call to a phone number through a trunk beyond this machine needs that number as caller ID
    (carriers drop or flag calls whose caller ID is not a number the caller owns)."""
    match = _URI.match(caller_id.strip())
    if match is None:
        return f"caller ID {caller_id!r} is not a SIP URI (sip:+14155550100@carrier.example)"
    user = match.group(2)
    if re.fullmatch(r"[+\d().-]+", user):
        try:
            valid = phonenumbers.is_valid_number(phonenumbers.parse(user, None))
        except phonenumbers.NumberParseException:
            valid = False
        if not valid:
            return f"caller ID user {user!r} is not a valid phone number in +country form"
        return None
    host = trunk_host.split(":")[0].strip("[]")
    local = host in ("localhost", "::1") or host.startswith("127.")
    if dialling_a_number and not local:
        return (
            f"caller ID {caller_id!r} is not a phone number: set sip.trunk.caller_id to the "
            "number callees will see (one you own), e.g. sip:+14155550100@your-carrier"
        )
    return None
