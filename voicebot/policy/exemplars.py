"""The intent exemplars a script's classifier is fitted on: the shared library in
prompts/intents/common.<lang>.yaml (when the script uses it), widened by everyday phrasings of
the same intents (voicebot/nlu/answers/<lang>.yaml), plus the script's own intents."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from voicebot.policy.schema import Script, ScriptError

PROMPTS = Path(__file__).resolve().parents[2] / "prompts"
ANSWERS = Path(__file__).resolve().parents[1] / "nlu" / "answers"


@cache
def common_exemplars(language: str) -> dict[str, list[str]]:
    path = PROMPTS / "intents" / f"common.{language}.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ScriptError(f"{path}: cannot read the common intent library ({e})") from None
    return {name: list(texts) for name, texts in data["intents"].items()}


@cache
def everyday_phrasings(language: str) -> dict[str, list[str]]:
    """More ways people say the common intents on the phone; {} for a language without them."""
    path = ANSWERS / f"{language}.yaml"
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {name: list(texts) for name, texts in data["intents"].items()}


def exemplars(script: Script, language: str) -> dict[str, list[str]]:
    merged: dict[str, list[str]] = {}
    if script.use_common_intents:
        merged = dict(common_exemplars(language))
        for name, texts in everyday_phrasings(language).items():
            if name in merged:  # an intent the library has (and so the script handles)
                merged[name] = [*merged[name], *(t for t in texts if t not in merged[name])]
    for name, texts in script.intents.items():
        merged[name] = [*merged.get(name, []), *texts]
    return merged
