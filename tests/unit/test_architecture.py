"""The import rules of the architecture map (ARCHITECTURE.md), checked on the source: who may
import whom. Imports under `if TYPE_CHECKING:` are annotations only and are not counted."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.unit
PACKAGE = ROOT / "voicebot"
STAGES = ("audio", "vad", "asr", "nlu", "tts", "policy")
ABOVE_STAGES = ("session", "telephony", "campaign", "app", "sim", "livekit", "web", "bench")
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "core": ("*",),
    **{stage: ABOVE_STAGES for stage in STAGES},
    "telephony": ("policy", "session", "campaign", "app", "sim", "livekit", "web"),
    "models": ("session", "telephony", "campaign", "app", "sim", "livekit", "web"),
    "metrics": ("session", "telephony", "campaign", "app", "sim", "livekit", "web"),
    "session": ("campaign", "app", "sim", "livekit", "web", "bench"),
    "campaign": ("session", "telephony", "app", "sim", "livekit", "web", "bench"),
    "handoff": ("session", "telephony", "campaign", "app", "sim", "livekit", "web"),
    "livekit": ("app", "sim", "web"),
}
# sim (simulated callees, trials, SIP test peers) is for tests, trials and the demo only;
# the composition layer is used by the entry points and the rooms built on production calls
MAY_IMPORT = {"sim": ("sim", "app"), "app": ("app", "cli", "sim", "bench", "web")}


def room_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 else rel.stem


def imported_rooms(source: str) -> set[str]:
    """The voicebot rooms a module imports at run time (at any depth, not in TYPE_CHECKING)."""
    tree = ast.parse(source)
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    rooms = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "voicebot" and len(parts) > 1:
                rooms.add(parts[1])
    return rooms


def violations() -> list[str]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        room = room_of(path)
        for target in sorted(imported_rooms(path.read_text(encoding="utf-8")) - {room}):
            banned = FORBIDDEN.get(room, ())
            reserved = target in MAY_IMPORT and room not in MAY_IMPORT[target]
            if "*" in banned or target in banned or reserved:
                out.append(f"{path.relative_to(ROOT)}: {room} imports {target}")
    return out


def test_every_module_keeps_the_import_rules() -> None:
    assert violations() == []


def test_the_checker_sees_imports_at_any_depth_but_not_annotations() -> None:
    source = """
import voicebot.audio.frames
from voicebot.session.call import CallSession
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from voicebot.app.stages import ScriptStages
def f():
    from voicebot.sim.trial import Trial
"""
    assert imported_rooms(source) == {"audio", "session", "sim"}
