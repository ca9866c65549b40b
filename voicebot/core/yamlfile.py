"""Reading a YAML file a person wrote (a script, a campaign or voicebot config): bounded in size
and in alias expansion (an "alias bomb" of a few lines can expand to billions of values), with
errors that name the file and line and never quote a value (the line may hold a password)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from voicebot.core.errors import VoicebotError, yaml_problem

MAX_BYTES = 1 << 20
MAX_NODES = 100_000  # YAML nodes after aliases are expanded


class YamlFileError(VoicebotError):
    """A YAML file that cannot be read; the message starts with `file:line:` or `file:`."""


def read_yaml(path: Path, max_bytes: int = MAX_BYTES) -> tuple[Any, yaml.Node | None]:
    """The file's data and its node tree (for `line_of`), or YamlFileError."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise YamlFileError(f"{path}: {size} bytes; at most {max_bytes} are read")
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise YamlFileError(f"{path}: cannot read ({e.strerror})") from None
    except UnicodeDecodeError:
        raise YamlFileError(f"{path}: not UTF-8") from None
    try:
        tree = yaml.compose(text)
        if expanded_size(tree) > MAX_NODES:
            raise YamlFileError(
                f"{path}: anchors and aliases expand to more than {MAX_NODES} values"
            )
        return yaml.safe_load(text), tree
    except yaml.YAMLError as e:
        raise YamlFileError(yaml_problem(path, e)) from None
    except RecursionError:
        raise YamlFileError(f"{path}: nested too deeply") from None


def expanded_size(root: yaml.Node | None) -> int:
    """How many nodes the document has once every alias is expanded, computed without
    expanding (each shared node's size is counted once and reused; iterative, so no recursion
    limit). A node that contains itself (a recursive alias) counts as too big."""
    if root is None:
        return 0
    too_big = MAX_NODES + 1
    sizes: dict[int, int] = {}
    visiting: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            total = 1 + sum(sizes.get(id(c), too_big) for c in _children(node))
            sizes[id(node)] = min(total, too_big)
            continue
        if id(node) in sizes or id(node) in visiting:
            continue
        visiting.add(id(node))
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in sizes)
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def line_of(tree: yaml.Node | None, loc: list[str]) -> int:
    """1-based line of the deepest node along `loc` that exists (a key's own line for an
    unknown key)."""
    node, line = tree, 1
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if str(k.value) == key), None)
            if pair is None:
                break
            line, node = pair[0].start_mark.line + 1, pair[1]
        elif isinstance(node, yaml.SequenceNode) and key.isdigit() and int(key) < len(node.value):
            node = node.value[int(key)]
            line = node.start_mark.line + 1
        else:
            break
    return line
