"""Every example script in prompts/, driven by intents (no models): the linter, the closed loop,
global handlers from every node, and random conversations (hypothesis)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import FIXTURES, ROOT
from voicebot.policy.actions import HandoffResult, HangUp, Heard, MarkDnc, Say, Silence, Transfer
from voicebot.policy.engine import DialogueState, Policy
from voicebot.policy.graph import to_dot
from voicebot.policy.lint import check_file, script_lines
from voicebot.policy.schema import load_script, text_of

pytestmark = pytest.mark.unit
SCRIPTS = sorted((ROOT / "prompts").glob("*.yaml"))
NOW = datetime(2026, 11, 24, 10, 0)
ANSWERS = {
    "en": ["3", "tomorrow at 3 pm", "it was fine really"],
    "zh": ["三分", "明天下午三点", "挺好的"],
}


def heard(text: str, intent: str = "other", confidence: float = 0.9) -> Heard:
    return Heard(text, intent, confidence, NOW)


def probes(policy: Policy) -> list[Heard]:
    """Answers that move a call along: yes, no, each script intent, and slot values."""
    own = [heard(i, i) for i in policy.script.intents]
    # global handlers that lead on to a node ("not right now" -> when to call back)
    own += [heard(n, n) for n, h in policy.script.globals.items() if h.then in policy.script.nodes]
    lang = policy.language
    return [heard("yes", "affirm"), heard("no", "deny"), *own, *(heard(t) for t in ANSWERS[lang])]


def explore(path: Path) -> tuple[Policy, dict[str, DialogueState], set[str]]:
    """A live (not ended) state at every node where the policy can wait for the caller, found
    breadth first, and every node any explored call went through (with an SMS webhook
    configured: the nodes that send or promise a text message are reached too)."""
    policy = Policy(load_script(path), sms=True)
    start, _ = policy.start(policy.script.example_contact)
    found, frontier, visited = {start.node: start}, [start], set(start.path)
    seen = {(start.node, 0)}
    while frontier:
        state = frontier.pop(0)
        for event in probes(policy):
            after, _ = policy.step(state, event)
            visited |= set(after.path)
            if not after.ended and (after.node, after.reprompts) not in seen:
                seen.add((after.node, after.reprompts))
                found.setdefault(after.node, after)
                frontier.append(after)
    return policy, found, visited


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_example_scripts_pass_the_linter(path: Path) -> None:
    assert check_file(path) == []


def test_there_are_four_examples_in_both_languages() -> None:
    languages = [load_script(p).languages[0] for p in SCRIPTS]
    assert len(SCRIPTS) >= 4 and languages.count("en") >= 2 and languages.count("zh") >= 2


BROKEN = sorted((FIXTURES / "broken_scripts").glob("*.yaml"))


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_broken_scripts_fail_naming_the_line(path: Path) -> None:
    header = re.match(r"# expect: (\d+): (.*)", path.read_text(encoding="utf-8"))
    problems = check_file(path)
    if header is None:  # valid files: the one the broken ones were made from, accepted loops
        assert problems == []
        return
    line, message = header.groups()
    assert any(p.startswith(f"{path}:{line}: ") and message in p for p in problems), problems


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_every_node_is_reached_by_some_conversation(path: Path) -> None:
    policy, _, visited = explore(path)
    assert set(policy.script.nodes) <= visited, (
        f"never reached: {set(policy.script.nodes) - visited}"
    )


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_stop_calling_in_any_node_ends_politely_with_dnc(path: Path) -> None:
    policy, found, _ = explore(path)
    for node, state in found.items():
        after, actions = policy.step(state, heard("stop calling me", "stop_calling"))
        assert MarkDnc() in actions and actions[-1] == HangUp("dnc"), node
        goodbye = [a for a in actions if isinstance(a, Say)]
        assert after.ended == "dnc" and goodbye[-1].node == "global.stop_calling", node


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_manager_request_in_any_node_hands_off_with_a_summary(path: Path) -> None:
    policy, found, _ = explore(path)
    name = policy.script.example_contact["name"]
    for node, state in found.items():
        after, actions = policy.step(state, heard("get me your manager", "want_human"))
        transfers = [a for a in actions if isinstance(a, Transfer)]
        assert transfers and name in transfers[0].summary, node
        assert after.awaiting_handoff and not after.ended, node


def approved_lines(policy: Policy) -> set[str]:
    contact = policy.script.example_contact
    out = set()
    for _, line in script_lines(policy.script):
        text = text_of(line, policy.language)
        out.add(re.sub(r"\{(\w+)\}", lambda m: contact[m.group(1)], text))
    return out


def events(path: Path) -> st.SearchStrategy[list[Heard | Silence | HandoffResult]]:
    script = load_script(path)
    intents = [
        "affirm",
        "deny",
        "who_are_you",
        "stop_calling",
        "want_human",
        "busy_callback",
        "repeat",
        "abuse",
        "other",
        "ask_question",
        "cant_hear",
        "too_expensive",
        "not_interested",
        *script.intents,
    ]
    texts = ["yes", "no", "", *ANSWERS[script.languages[0]]]
    one = st.one_of(
        st.builds(
            lambda i, c, t: heard(t, i, c),
            st.sampled_from(intents),
            st.floats(0.0, 1.0),
            st.sampled_from(texts),
        ),
        st.just(Silence()),
        st.builds(HandoffResult, st.booleans()),
    )
    return st.lists(one, min_size=1, max_size=80)


def _random_call(path: Path, sequence: list[Heard | Silence | HandoffResult]) -> None:
    policy = Policy(load_script(path))
    state, actions = policy.start(policy.script.example_contact)
    for event in sequence:
        state, more = policy.step(state, event)
        actions += more
    while not state.ended:  # the caller goes silent: the script must still close
        event = HandoffResult(False) if state.awaiting_handoff else Silence()
        state, more = policy.step(state, event)
        actions += more
    assert state.turns <= policy.script.settings.max_turns + 1
    assert isinstance(actions[-1], HangUp)
    said = {a.text for a in actions if isinstance(a, Say)}
    assert said <= approved_lines(policy), said - approved_lines(policy)
    last = (
        actions[-2]
        if isinstance(actions[-2], Say)
        else next(a for a in reversed(actions) if isinstance(a, Say))
    )
    assert last.text in approved_lines(policy)


def _property_test(path: Path):  # type: ignore[no-untyped-def]
    @settings(max_examples=150, deadline=None)
    @given(events(path))
    def run(sequence):  # type: ignore[no-untyped-def]
        _random_call(path, sequence)

    return run


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_any_sequence_closes_in_bounded_turns_saying_only_approved_lines(path: Path) -> None:
    _property_test(path)()


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_graph_has_every_node_and_transition(path: Path) -> None:
    script = load_script(path)
    dot = to_dot(script)
    for nid, node in script.nodes.items():
        assert f'"{nid}" [label="{nid}\\n' in dot
        for event, target in node.goto.items():
            assert f'"{nid}" -> "{target}" [label="{event}"]' in dot
