"""Fuzzing the campaign config loader, the script loader and the slot parsers with hypothesis:
whatever the input, a clean result or the loader's own error naming the file, never another
exception. Bounded examples: a few seconds."""

from __future__ import annotations

import random
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT
from voicebot.campaign.config import CampaignConfig, ConfigFileError, load_config
from voicebot.nlu import slots
from voicebot.policy.schema import Script, ScriptError, load_script

pytestmark = pytest.mark.unit
FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_folder = tempfile.TemporaryDirectory(prefix="voicebot-fuzz-")
FOLDER = Path(_folder.name)

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(
        ["09:00", "25:99", "mon", "Europe/Berlin", "no_answer", "eq", "days_since_gte"]
    )
)
CONFIG_KEYS = st.sampled_from(
    [
        "region",
        "window",
        "retries",
        "max_attempts",
        "max_attempt",
        "rules",
        "concurrency",
        "cps",
        "recording",
        "retention_days",
        "start",
        "end",
        "days",
        "holidays",
        "default_timezone",
        "busy",
        "max",
        "after_min",
        "field",
        "op",
        "value",
        "reason",
    ]
) | st.text(max_size=8)
TREES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(CONFIG_KEYS, inner, max_size=5),
    max_leaves=20,
)


def write(text: str, suffix: str = ".yaml") -> Path:
    path = FOLDER / f"f{random.getrandbits(48):x}{suffix}"
    path.write_text(text, encoding="utf-8")
    return path


@FUZZ
@given(data=st.dictionaries(CONFIG_KEYS, TREES, max_size=6))
def test_campaign_configs(data: dict[str, Any]) -> None:
    path = write(yaml.safe_dump(data, allow_unicode=True))
    try:
        config = load_config(path)
    except ConfigFileError as e:
        assert str(e).startswith(str(path))
        return
    assert isinstance(config, CampaignConfig)
    assert CampaignConfig.model_validate(config.model_dump(mode="json")) == config


@FUZZ
@given(text=st.text(max_size=200))
def test_campaign_config_text(text: str) -> None:
    path = write(text)
    try:
        load_config(path)
    except ConfigFileError as e:
        assert str(e).startswith(str(path))


SURVEY = (ROOT / "prompts" / "survey_en.yaml").read_text(encoding="utf-8").splitlines()


@FUZZ
@given(
    edits=st.lists(
        st.tuples(
            st.integers(0, len(SURVEY) - 1),
            st.sampled_from(["drop", "dup", "indent", "dedent", "garble", "swap"]),
            st.text(max_size=6),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_scripts_with_random_edits(edits: list[tuple[int, str, str]]) -> None:
    lines = list(SURVEY)
    for at, kind, junk in edits:
        at %= len(lines)
        if kind == "drop":
            del lines[at]
        elif kind == "dup":
            lines.insert(at, lines[at])
        elif kind == "indent":
            lines[at] = "  " + lines[at]
        elif kind == "dedent":
            lines[at] = lines[at].lstrip()
        elif kind == "garble":
            lines[at] = lines[at][: len(lines[at]) // 2] + junk
        else:
            lines[at], lines[0] = lines[0], lines[at]
        if not lines:
            lines = [""]
    path = write("\n".join(lines) + "\n")
    try:
        assert isinstance(load_script(path), Script)
    except ScriptError as e:
        assert str(e).startswith(str(path))


@FUZZ
@given(data=st.dictionaries(st.text(max_size=10), TREES, max_size=5))
def test_scripts_from_random_trees(data: dict[str, Any]) -> None:
    path = write(yaml.safe_dump(data, allow_unicode=True))
    try:
        load_script(path)
    except ScriptError as e:
        assert str(e).startswith(str(path))


WORDS = (
    "yes no not sure maybe three 3 five 十 三 两 下午 明天 tomorrow at pm am 99 -1 0.5 next week "
    "monday 点 半 零 百 万 亿 1e309 ninety hundred 九十九 ext . : 999999999 days"
)
SPEECH = st.text(max_size=60) | st.lists(st.sampled_from(WORDS.split(" ")), max_size=10).map(
    " ".join
)


@settings(max_examples=100, deadline=None)
@given(text=SPEECH, language=st.sampled_from(["en", "zh"]), low=st.integers(0, 3))
def test_slot_parsers(text: str, language: str, low: int) -> None:
    now = datetime(2026, 11, 23, 10, 0)
    assert slots.yes_no(text, language) in (True, False, None)
    assert isinstance(slots.plain_yes(text, language), bool)
    answer = slots.not_an_answer(text, language)
    assert answer is None or isinstance(answer, str)
    assert all(isinstance(n, float | int) for n in slots.numbers(text, language))
    high = low + 4
    rated = slots.rating(text, language, low, high)
    assert rated is None or low <= rated <= high
    when = slots.when(text, language, now)
    assert when is None or isinstance(when, datetime)
