"""Log lines leave without phone numbers, tracebacks included."""

from __future__ import annotations

import logging

import pytest

from voicebot.core.logs import Redact, redact

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "number", ["+12125550100", "+1 212 555 0100", "(212) 555-0100", "+49 30 1234567", "13812345678"]
)
def test_phone_numbers_are_masked(number: str) -> None:
    assert redact(f"dial sip:{number}@trunk failed") == "dial sip:[number]@trunk failed"


def test_times_codes_and_ids_stay(caplog: pytest.LogCaptureFixture) -> None:
    text = "call 8040c630282a: SIP 486 after 12.5 s at 2026-12-01 07:20, attempt 1234"
    assert redact(text) == text


def test_a_record_and_its_traceback_are_scrubbed() -> None:
    try:
        raise ValueError("no such contact +44 20 7946 0958")
    except ValueError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "for %s", ("+12125550100",), exc_info=True
        )
        import sys

        record.exc_info = sys.exc_info()
    Redact().filter(record)
    line = logging.Formatter().format(record)
    assert "[number]" in line and "2125550100" not in line and "7946" not in line
