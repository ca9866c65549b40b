"""Logging set-up for the entry points. Log calls never carry personal data (numbers, names,
transcripts); as a safety net every line is scrubbed of phone numbers on its way out, with its
traceback, and libraries that would log row values (SQL parameters) are kept at WARNING."""

from __future__ import annotations

import logging
import re

# a phone number: + and 7-15 digits (spaces, dots, dashes between), a (area) local number, or
# 8+ digits in a row; dates, times, SIP codes and attempt ids do not look like these
_NUMBER = re.compile(
    r"\+\d(?:[\s.-]?\d){6,14}|\(\d{2,5}\)\s?\d{2,4}[\s.-]?\d{3,4}|(?<!\w)\d{8,}(?!\w)"
)
# piper logs every text it speaks at DEBUG (contact names in personal lines)
QUIET = (
    "sqlalchemy",
    "alembic",
    "piper",
    "matplotlib",
    "asyncio",
    "urllib3",
    "httpx",
    "aiohttp",
    "livekit",
)


def redact(text: str) -> str:
    return _NUMBER.sub("[number]", text)


class Redact(logging.Filter):
    """Replaces phone numbers in the message and traceback of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), None
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text, record.exc_info = redact(text), None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def configure(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(Redact())
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
