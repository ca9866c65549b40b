"""The script as its flow graph (graphviz SVG) with each node's visits and drop-off (calls
whose path stopped at a node that is not a closing) from the campaign's real calls."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from voicebot.core.errors import VoicebotError
from voicebot.policy.graph import to_dot
from voicebot.policy.schema import load_script


def flow_svg(script_path: str, counts: dict[str, Any]) -> str:
    dot = shutil.which("dot")
    if dot is None:
        raise VoicebotError("graphviz `dot` not found: apt-get install graphviz")
    script = load_script(Path(script_path))
    text = to_dot(script).rstrip().removesuffix("}")
    calls = max(1, counts["calls"])
    lines = []
    for nid, node in script.nodes.items():
        seen, stopped = counts["visits"].get(nid, 0), counts["ended_at"].get(nid, 0)
        drop = stopped if not node.end else 0
        note = f"{seen} calls" + (f", {drop} dropped here" if drop else "")
        width = 1 + 4 * seen / calls
        colour = ', color="#d1495b", fontcolor="#d1495b"' if drop else ""
        lines.append(f'  "{nid}" [xlabel="{note}", penwidth={width:.1f}{colour}];')
    done = subprocess.run(
        [dot, "-Tsvg"],
        input=text + "\n".join(lines) + "\n}\n",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if done.returncode != 0:
        raise VoicebotError(f"{script_path}: graphviz failed: {done.stderr.strip()}")
    svg = done.stdout
    return svg[svg.find("<svg") :]
