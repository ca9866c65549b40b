"""A campaign's settings: calling window, retries, pre-dial rules, pacing, money. Validated when
the campaign is created; contradictions and unknown keys (a typo such as `max_attempt`) are
errors that name the file, line and key. `load_config` reads the YAML file, refusing alias
bombs and oversized files (`core.yamlfile`) before anything is built."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from voicebot.core.errors import VoicebotError
from voicebot.core.outcomes import RETRYABLE
from voicebot.core.yamlfile import YamlFileError, line_of, read_yaml

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class CallingWindow(BaseModel):
    """When contacts may be called, in each contact's own local time."""

    model_config = ConfigDict(extra="forbid")

    start: time = time(9, 0)
    end: time = time(20, 0)
    days: list[str] = Field(default_factory=lambda: list(DAYS[:6]))
    holidays: list[date] = Field(default_factory=list)
    default_timezone: str = Field("UTC", description="for numbers whose zone is unknown")

    @field_validator("days")
    @classmethod
    def _days(cls, days: list[str]) -> list[str]:
        bad = [d for d in days if d.lower()[:3] not in DAYS]
        if bad or not days:
            raise ValueError(f"days {bad or '[]'}: use {', '.join(DAYS)}")
        return [d.lower()[:3] for d in days]

    @field_validator("default_timezone")
    @classmethod
    def _zone(cls, name: str) -> str:
        return check_zone(name)

    @model_validator(mode="after")
    def _open(self) -> CallingWindow:
        if self.start >= self.end:
            raise ValueError(f"window.start {self.start} is not before window.end {self.end}")
        return self


PARTS_OF_DAY = {
    "morning": (time(9, 0), time(12, 0)),
    "afternoon": (time(12, 0), time(17, 0)),
    "evening": (time(17, 0), time(21, 0)),
}


class RetryRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max: int = Field(2, ge=0, description="retries after this outcome (not counting the first)")
    after_min: float = Field(60.0, ge=0, description="minutes to wait before the retry")
    prefer: Literal["morning", "afternoon", "evening"] | None = Field(
        None, description="part of the contact's day for the retry, where the window allows"
    )


class Rule(BaseModel):
    """A pre-dial rule over contact fields; a contact failing it is skipped with `reason`."""

    model_config = ConfigDict(extra="forbid")

    field: str
    op: Literal["eq", "ne", "in", "not_in", "gte", "lte", "days_since_gte"]
    value: Any
    reason: str


def default_retries() -> dict[str, RetryRule]:
    return {
        "no_answer": RetryRule(max=3, after_min=120),
        "busy": RetryRule(max=3, after_min=15),
        "voicemail": RetryRule(max=2, after_min=240),
        "failed": RetryRule(max=2, after_min=30),
        "interrupted": RetryRule(max=2, after_min=10),
        "rtp_timeout": RetryRule(max=1, after_min=30),
        # a callback without a booked time ("call me later", no agent free for a hand-off)
        "callback": RetryRule(max=2, after_min=120),
    }


RETRY_RULES = (*RETRYABLE, "callback")  # callbacks without a booked time follow `callback`


class CampaignConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    region: str = Field("US", description="default region for numbers without a country code")
    purpose: Literal["marketing", "service", "survey"] = Field(
        "marketing",
        description="the kind of calls: a callee's no to the consent question stops every "
        "campaign of the same purpose from calling the number again",
    )
    window: CallingWindow = Field(default_factory=CallingWindow)
    retries: dict[str, RetryRule] = Field(default_factory=default_retries)
    max_attempts: int = Field(5, ge=1, description="dials per contact at most, callbacks included")
    rules: list[Rule] = Field(default_factory=list)
    concurrency: int = Field(
        4, ge=1, le=500, description="calls at once on the trunk, across all dialer workers"
    )
    cps: float = Field(5.0, gt=0, description="new calls per second at most")
    recording: bool = Field(False, description="record every call (stereo WAV: bot | callee)")
    retention_days: int | None = Field(
        None, ge=1, description="delete recordings and transcripts older than this"
    )
    cost_per_minute: float = Field(0.02, ge=0)
    value_per_conversion: float = Field(25.0, ge=0)
    conversion: list[str] = Field(
        default_factory=lambda: ["grade:A", "transferred"],
        description="what counts as a conversion: grade:X or an outcome",
    )

    @field_validator("retries")
    @classmethod
    def _outcomes(cls, retries: dict[str, RetryRule]) -> dict[str, RetryRule]:
        bad = [k for k in retries if k not in RETRY_RULES]
        if bad:
            raise ValueError(f"retries for {bad}: retryable outcomes are {', '.join(RETRY_RULES)}")
        return {"callback": default_retries()["callback"], **retries}


def check_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name like Europe/Berlin)"
        ) from None
    return name


class ConfigFileError(VoicebotError):
    """A campaign config file that cannot be used; names the file, line and key."""


def load_config(path: Path) -> CampaignConfig:
    """The campaign config in a YAML file, or ConfigFileError naming file, line and key (never
    quoting a value)."""
    try:
        data, tree = read_yaml(path)
    except YamlFileError as e:
        raise ConfigFileError(str(e)) from None
    data = data or {}
    if not isinstance(data, dict):
        raise ConfigFileError(f"{path}:1: a mapping of campaign settings is expected")
    try:
        return CampaignConfig.model_validate(data)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            loc = [str(p) for p in err["loc"]]
            what = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            problems.append(f"{path}:{line_of(tree, loc)}: {'.'.join(loc)}: {what}")
        raise ConfigFileError("; ".join(problems)) from None
