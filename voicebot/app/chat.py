"""`voicebot chat`: talk to a script by typing. Shows what the bot understood and where the call is.

Commands: an empty line (or /silence) is a silent turn; /agent yes|no answers a hand-off;
/quit leaves."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from voicebot.core.errors import ConfigError
from voicebot.models.store import ModelStore
from voicebot.policy.actions import Action, Say, Transfer
from voicebot.policy.schema import load_script
from voicebot.session.dialogue import Dialogue, script_classifier, unvisited


def load_contact(value: str) -> dict[str, Any]:
    """A contact as inline JSON or a path to a .json file."""
    text = Path(value).read_text(encoding="utf-8") if value.endswith(".json") else value
    try:
        contact = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"--contact: not valid JSON ({e.msg} at line {e.lineno})") from None
    if not isinstance(contact, dict):
        raise ConfigError("--contact: a JSON object of script variables is expected")
    return contact


def run_chat(
    script_path: Path,
    contact: dict[str, Any],
    store: ModelStore,
    language: str | None = None,
    read: Callable[[str], str] = input,
    write: Callable[[str], None] = print,
    now: Callable[[], datetime] = datetime.now,
) -> Dialogue:
    script = load_script(script_path)
    language = language or script.languages[0]
    contact = contact or dict(script.example_contact)
    missing = [v for v in script.variables if v not in contact]
    if missing:
        write(f"(contact has no {', '.join(missing)}: those lines will have gaps)")
    classifier = script_classifier(script, language, store.encoder(language))
    dialogue = Dialogue(script, language, classifier, contact)
    _show(write, dialogue.start())
    while not dialogue.ended:
        try:
            line = read("you> ").strip()
        except EOFError:
            break
        if line == "/quit":
            break
        if line.startswith("/agent"):
            _show(write, dialogue.handoff(line.endswith("yes")))
            continue
        reply = dialogue.hear("" if line == "/silence" else line, now())
        state = dialogue.state
        assert state is not None
        if reply.understood:
            u = reply.understood
            write(f"   [{u.intent} {u.confidence:.2f}]")
        _show(write, reply.actions)
        write(f"   [node {state.node}; recorded {dict(state.records)}]")
    state = dialogue.state
    assert state is not None
    write(f"call ended: {state.ended or 'left'}; path: {' > '.join(state.path)}")
    write(f"nodes not visited: {', '.join(unvisited(script, [state.path])) or 'none'}")
    return dialogue


def _show(write: Callable[[str], None], actions: list[Action]) -> None:
    for action in actions:
        if isinstance(action, Say):
            write(f"bot> {action.text}")
        elif isinstance(action, Transfer):
            write(f"   [transfer: {action.reason}] (answer with /agent yes or /agent no)")
        else:
            write(f"   [{type(action).__name__}: {', '.join(map(str, vars_of(action)))}]")


def vars_of(action: Action) -> list[Any]:
    return [getattr(action, f) for f in action.__slots__]
