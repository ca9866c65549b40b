"""`voicebot script graph`: the flow of a script drawn with graphviz (`dot`, from apt)."""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path

from voicebot.core.errors import VoicebotError
from voicebot.policy.schema import Script, load_script, text_of

_END_COLOUR = {"completed": "palegreen", "callback": "lightblue", "transferred": "khaki"}


def to_dot(script: Script, language: str | None = None) -> str:
    """DOT text: a box per node (its line, wrapped), an edge per transition; closings are
    filled, hand-offs are octagons, global handlers are listed in one note."""
    lang = language or script.languages[0]
    out = [f'digraph "{script.name}" {{', "  rankdir=TB; node [shape=box, fontsize=10];"]
    for nid, node in script.nodes.items():
        label = _label(nid, text_of(node.say, lang))
        style = ""
        if node.end:
            style = f', style=filled, fillcolor="{_END_COLOUR.get(node.end, "mistyrose")}"'
            label += f"\\n[{node.end}]"
        elif node.transfer:
            style = ', shape=octagon, style=filled, fillcolor="khaki"'
        out.append(f'  "{nid}" [label="{label}"{style}];')
        for event, target in node.goto.items():
            out.append(f'  "{nid}" -> "{target}" [label="{event}"];')
        if node.next:
            out.append(f'  "{nid}" -> "{node.next}";')
        if node.on_fail:
            out.append(f'  "{nid}" -> "{node.on_fail}" [label="no match", style=dashed];')
    handlers = [
        f"{name} -> {h.end or ('hand-off' if h.transfer else h.then)}"
        for name, h in script.globals.items()
    ]
    listing = "".join(f"{h}\\l" for h in handlers)
    out.append(f'  "globals" [label="from any node:\\l{listing}", shape=note];')
    out.append(f'  start [shape=circle, label="", width=0.2]; start -> "{script.start}";')
    out.append("}")
    return "\n".join(out)


def _label(title: str, text: str) -> str:
    width = 24 if any("\u4e00" <= c <= "\u9fff" for c in text) else 40
    body = "\\n".join(textwrap.wrap(text, width)[:4])
    return f"{title}\\n{body}".replace('"', '\\"')


def render(
    path: Path, fmt: str = "svg", language: str | None = None, out_dir: Path = Path("out/graphs")
) -> Path:
    dot = shutil.which("dot")
    if dot is None:
        raise VoicebotError("graphviz `dot` not found: sudo apt-get install graphviz")
    script = load_script(path)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{script.name}.{fmt}"
    result = subprocess.run(
        [dot, f"-T{fmt}", "-o", str(target)],
        input=to_dot(script, language),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        raise VoicebotError(f"{path}: graphviz failed: {result.stderr.strip()}")
    return target
