"""The intent exemplars a script's classifier is fitted on: the shared library in
prompts/intents/common.<lang>.yaml (when the script uses it) plus the script's own intents."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from voicebot.policy.schema import Script, ScriptError

PROMPTS = Path(__file__).resolve().parents[2] / "prompts"


@cache
def common_exemplars(language: str) -> dict[str, list[str]]:
    path = PROMPTS / "intents" / f"common.{language}.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ScriptError(f"{path}: cannot read the common intent library ({e})") from None
    return {name: list(texts) for name, texts in data["intents"].items()}


def exemplars(script: Script, language: str) -> dict[str, list[str]]:
    merged = dict(common_exemplars(language)) if script.use_common_intents else {}
    for name, texts in script.intents.items():
        merged[name] = [*merged.get(name, []), *texts]
    return merged
