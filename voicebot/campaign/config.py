"""A campaign's settings: calling window, retries, pre-dial rules, pacing, money. Validated when
the campaign is created; contradictions and unknown keys (a typo such as `max_attempt`) are
errors that name the file, line and key. `load_config` reads the YAML file, refusing alias
bombs (anchors that expand past `MAX_NODES`) and oversized files before anything is built."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from voicebot.core.errors import VoicebotError, yaml_problem
from voicebot.core.outcomes import RETRYABLE

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


MAX_CONFIG_BYTES = 1 << 20
MAX_NODES = 100_000  # YAML nodes after aliases are expanded


class ConfigFileError(VoicebotError):
    """A campaign config file that cannot be used; names the file, line and key."""


def load_config(path: Path) -> CampaignConfig:
    """The campaign config in a YAML file, or ConfigFileError naming file, line and key (never
    quoting a value)."""
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigFileError(f"{path}: {size} bytes; a campaign config is at most 1 MiB")
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigFileError(f"{path}: cannot read ({e.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigFileError(f"{path}: not UTF-8") from None
    try:
        tree = yaml.compose(text)
        if expanded_size(tree) > MAX_NODES:
            raise ConfigFileError(
                f"{path}: anchors and aliases expand to more than {MAX_NODES} values"
            )
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        raise ConfigFileError(yaml_problem(path, e)) from None
    except RecursionError:
        raise ConfigFileError(f"{path}: nested too deeply") from None
    if not isinstance(data, dict):
        raise ConfigFileError(f"{path}:1: a mapping of campaign settings is expected")
    try:
        return CampaignConfig.model_validate(data)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            loc = [str(p) for p in err["loc"]]
            what = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            problems.append(f"{path}:{_line_of(tree, loc)}: {'.'.join(loc)}: {what}")
        raise ConfigFileError("; ".join(problems)) from None


def expanded_size(root: yaml.Node | None) -> int:
    """How many nodes the document has once every alias is expanded, computed without
    expanding (each shared node's size is counted once and reused; iterative, so no recursion
    limit). A node that contains itself (a recursive alias) counts as too big."""
    if root is None:
        return 0
    too_big = MAX_NODES + 1
    sizes: dict[int, int] = {}
    visiting: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            total = 1 + sum(sizes.get(id(c), too_big) for c in _children(node))
            sizes[id(node)] = min(total, too_big)
            continue
        if id(node) in sizes or id(node) in visiting:
            continue
        visiting.add(id(node))
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in sizes)
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _line_of(tree: yaml.Node | None, loc: list[str]) -> int:
    """1-based line of the deepest node along `loc` (a key's own line for an unknown key)."""
    node, line = tree, 1
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if str(k.value) == key), None)
            if pair is None:
                break
            line, node = pair[0].start_mark.line + 1, pair[1]
        elif isinstance(node, yaml.SequenceNode) and key.isdigit() and int(key) < len(node.value):
            node = node.value[int(key)]
            line = node.start_mark.line + 1
        else:
            break
    return line
