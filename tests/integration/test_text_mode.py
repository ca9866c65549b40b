"""Text mode: typed caller lines through the real intent classifier and the policy, for every
example script. Together the conversations must visit every node (a coverage report)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import yaml

from tests.conftest import FIXTURES, ROOT
from voicebot.policy.schema import Script, load_script
from voicebot.session.dialogue import Dialogue, script_classifier, unvisited

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 24, 10, 0)
CONVERSATIONS: dict[str, list[dict[str, Any]]] = yaml.safe_load(
    (FIXTURES / "conversations.yaml").read_text(encoding="utf-8")
)
CASES = [(name, conv) for name, convs in CONVERSATIONS.items() for conv in convs]
_classifiers: dict[str, Any] = {}


def dialogue_for(store, script: Script) -> Dialogue:  # type: ignore[no-untyped-def]
    lang = script.languages[0]
    if script.name not in _classifiers:
        _classifiers[script.name] = script_classifier(script, lang, store.encoder(lang))
    # the scripts as they run with an SMS webhook configured (without one: test_sms.py)
    return Dialogue(script, lang, _classifiers[script.name], script.example_contact, sms=True)


def converse(store, script: Script, conv: dict[str, Any]) -> tuple[Dialogue, list[str]]:  # type: ignore[no-untyped-def]
    dialogue = dialogue_for(store, script)
    dialogue.start()
    trace = []
    for line in conv["caller"]:
        reply = dialogue.hear(line, NOW)
        u = reply.understood
        trace.append(f"{line!r} -> {u.intent if u else 'silence'} {u.confidence if u else 0:.2f}")
        assert dialogue.state is not None
        if dialogue.state.awaiting_handoff:
            dialogue.handoff(conv.get("agent", True))
    return dialogue, trace


@pytest.mark.parametrize(("script_name", "conv"), CASES, ids=[f"{s}:{c['name']}" for s, c in CASES])
def test_conversation_reaches_its_outcome(store, script_name: str, conv: dict[str, Any]) -> None:
    script = load_script(ROOT / "prompts" / f"{script_name}.yaml")
    dialogue, trace = converse(store, script, conv)
    assert dialogue.state is not None
    assert dialogue.state.ended == conv["outcome"], (dialogue.state.path, trace)
    recorded = dialogue.state.recorded()
    for key, value in conv.get("records", {}).items():
        assert recorded.get(key) == value, (key, recorded, trace)


@pytest.mark.parametrize("script_name", sorted(CONVERSATIONS))
def test_conversations_visit_every_node(store, script_name: str) -> None:
    script = load_script(ROOT / "prompts" / f"{script_name}.yaml")
    paths = []
    for conv in CONVERSATIONS[script_name]:
        dialogue, _ = converse(store, script, conv)
        assert dialogue.state is not None
        paths.append(dialogue.state.path)
    missing = unvisited(script, paths)
    print(f"{script_name}: {len(script.nodes) - len(missing)}/{len(script.nodes)} nodes visited")
    assert not missing, f"{script_name}: nodes not visited: {missing}"


def test_every_example_script_has_conversations() -> None:
    assert {p.stem for p in (ROOT / "prompts").glob("*.yaml")} == set(CONVERSATIONS)


def test_chat_shows_intent_state_and_records_and_ends_with_coverage(store) -> None:
    from voicebot.app.chat import run_chat

    typed = iter(["yes this is Ben", "yes I'll be there"])
    shown: list[str] = []
    script = ROOT / "prompts" / "reminder_en.yaml"
    dialogue = run_chat(
        script,
        {"name": "Ben"},
        store,
        read=lambda _: next(typed),
        write=shown.append,
        now=lambda: NOW,
    )
    text = "\n".join(shown)
    assert dialogue.ended == "completed"
    assert "contact has no company" in text  # missing variables are pointed out
    assert "bot> Hello, this is" in text and "[affirm " in text
    assert "[node remind; recorded {}]" in text
    assert "'appointment.status': 'confirmed'" in text
    assert (
        "nodes not visited: reschedule, reschedule_close, when_callback, decline_close, "
        "callback_close"
    ) in text


def test_script_graph_renders_svg_with_every_node(tmp_path) -> None:
    from voicebot.policy.graph import render

    svg = render(ROOT / "prompts" / "upgrade_zh.yaml", "svg", out_dir=tmp_path).read_text("utf-8")
    assert svg.startswith("<?xml") and "<svg" in svg
    for node in load_script(ROOT / "prompts" / "upgrade_zh.yaml").nodes:
        assert f">{node}</text>" in svg
    assert "智能客服" in svg  # Mandarin lines render (the greeting says it is automated)
