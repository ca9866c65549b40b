"""Script coverage from trial calls: which nodes, global handlers and reprompts the calls went
through (from each report's path and the lines the bot said), and per-node drop-off: of the
calls that reached a node, how many ended there without the node closing them (the caller hung
up, stayed silent, refused through a global handler, was abusive ...)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from voicebot.metrics.report import CallReport
from voicebot.policy.schema import Script


@dataclass(frozen=True)
class Covered:
    """One kind of script part: how many of `total` the calls reached, and which they missed."""

    covered: int
    total: int
    missing: list[str]

    def line(self, kind: str) -> str:
        text = f"{kind}: {self.covered}/{self.total}"
        return text + (f"; never reached: {', '.join(self.missing)}" if self.missing else "")


@dataclass(frozen=True)
class DropOff:
    """The calls that reached `node`, and those that ended there without the node ending them
    (`how`: their outcomes)."""

    node: str
    reached: int
    ended_here: int
    how: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.ended_here / self.reached if self.reached else 0.0


@dataclass(frozen=True)
class Coverage:
    nodes: Covered
    handlers: Covered
    reprompts: Covered
    drop_off: list[DropOff]

    def as_dict(self) -> dict[str, Any]:
        return {
            "nodes": vars(self.nodes),
            "handlers": vars(self.handlers),
            "reprompts": vars(self.reprompts),
            "drop_off": [{**vars(d), "rate": round(d.rate, 3)} for d in self.drop_off],
        }


def _covered(names: list[str], seen: set[str]) -> Covered:
    missing = [n for n in names if n not in seen]
    return Covered(len(names) - len(missing), len(names), missing)


def coverage(script: Script, reports: list[CallReport]) -> Coverage:
    """What `reports` (calls of `script`) covered of it."""
    steps: set[str] = set()
    for report in reports:
        steps |= set(report.path) | {line.node for line in report.bot_lines}
    handlers = [f"global.{name}" for name in script.globals]
    reprompted = [f"{nid}.reprompt" for nid, node in script.nodes.items() if node.reprompt]
    closing = {nid for nid, node in script.nodes.items() if node.end or node.transfer}
    reached: Counter[str] = Counter()
    ended: dict[str, Counter[str]] = {}
    for report in reports:
        path = [step for step in report.path if step in script.nodes]
        for nid in dict.fromkeys(path):
            reached[nid] += 1
        if path and path[-1] not in closing:
            ended.setdefault(path[-1], Counter())[str(report.outcome)] += 1
    drop_off = [
        DropOff(nid, reached[nid], sum(ended.get(nid, {}).values()), dict(ended.get(nid, {})))
        for nid in script.nodes
        if nid not in closing
    ]
    return Coverage(
        nodes=_covered(list(script.nodes), steps),
        handlers=_covered(handlers, steps),
        reprompts=_covered(reprompted, steps),
        drop_off=drop_off,
    )
