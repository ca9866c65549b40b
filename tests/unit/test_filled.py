"""A contact's null or missing value is left out of a line, never read out as "None"."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT
from voicebot.policy.actions import Say
from voicebot.policy.engine import Policy
from voicebot.policy.schema import filled, load_script

pytestmark = pytest.mark.unit


def test_null_and_missing_values_are_left_out() -> None:
    assert filled("Am I speaking with {name}?", {"name": None}) == "Am I speaking with ?"
    assert filled("Hi {name}, {x}", {"name": "Ann"}) == "Hi Ann, "
    assert filled("{n} items", {"n": 0}) == "0 items"


def test_a_null_name_never_reaches_the_callee() -> None:
    script = load_script(ROOT / "prompts" / "survey_en.yaml")
    contact = {**script.example_contact, "name": None}
    _, actions = Policy(script, "en").start(contact)
    said = " ".join(a.text for a in actions if isinstance(a, Say))
    assert said and "None" not in said
