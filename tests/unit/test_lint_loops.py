"""The loops `voicebot script check` rejects are loops the policy really enters at run time:
each rejected fixture, driven by the pure policy, goes round without the call ending; the
accepted loop is left by an answer."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.conftest import FIXTURES
from voicebot.cli import main
from voicebot.policy.actions import Heard
from voicebot.policy.engine import Policy
from voicebot.policy.schema import load_script

pytestmark = pytest.mark.unit
BROKEN = FIXTURES / "broken_scripts"
NOW = datetime(2026, 11, 24, 10, 0)


def off_topic() -> Heard:
    """A confident answer that matches nothing the node asks (a no-match)."""
    return Heard("the weather is lovely today", "other", 0.9, NOW)


@pytest.mark.parametrize("name", ["no_match_loop", "no_match_self", "no_match_via_next"])
def test_a_no_match_loop_goes_round_until_max_turns(name: str) -> None:
    script = load_script(BROKEN / f"{name}.yaml")
    policy = Policy(script)
    state, _ = policy.start({"name": "Ann"})
    for _ in range(script.settings.max_turns):
        state, _ = policy.step(state, off_topic())
        assert state.ended is None
    assert state.path.count("ask") >= 3  # round and round
    state, _ = policy.step(state, off_topic())
    assert state.ended == "no_input"  # only the max_turns safety net ends it


def test_a_next_loop_never_stops_once_entered() -> None:
    policy = Policy(load_script(BROKEN / "next_loop.yaml"))
    state, _ = policy.start({"name": "Ann"})
    with pytest.raises(RuntimeError, match="`next` cycle"):
        policy.step(state, Heard("no", "deny", 0.9, NOW))


def test_a_trapped_loop_has_no_answer_that_leaves_it() -> None:
    policy = Policy(load_script(BROKEN / "trapped_loop.yaml"))
    state, _ = policy.start({"name": "Ann"})
    state, _ = policy.step(state, Heard("yes", "affirm", 0.9, NOW))
    for _ in range(10):
        for answer in ("affirm", "deny"):
            after, _ = policy.step(state, Heard(answer, answer, 0.9, NOW))
            assert after.ended is None and after.node in ("first", "second")
        state = after


def test_a_loop_an_answer_leaves_is_accepted_and_left() -> None:
    policy = Policy(load_script(BROKEN / "loop_left_by_answer.yaml"))
    state, _ = policy.start({"name": "Ann"})
    for _ in range(3):
        state, _ = policy.step(state, Heard("no", "deny", 0.9, NOW))
        assert state.node == "spell"
    state, _ = policy.step(state, Heard("yes", "affirm", 0.9, NOW))
    assert state.ended == "completed"


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("next_loop", ":23: nodes.intro.next: `next` loop"),
        ("no_match_loop", ":21: nodes.ask.on_fail: no-match loop"),
        ("trapped_loop", ":21: nodes.first: no answer leads out"),
    ],
)
def test_script_check_fails_naming_file_line_and_node(
    name: str, where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = BROKEN / f"{name}.yaml"
    assert main(["script", "check", str(path)]) != 0
    assert f"{path}{where}" in capsys.readouterr().out
