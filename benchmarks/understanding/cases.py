"""The benchmark's committed data: phrasings (split dev/test by phrasing) and caller voices
(split dev/test by voice), and the clips a split is made of."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import yaml

from benchmarks.understanding.render import NON_SPEECH, Channel, VoiceSpec

HERE = Path(__file__).resolve().parent
SPLITS = ("dev", "test")


@dataclass(frozen=True)
class Case:
    """One phrasing asked at one node, with what a right understanding is."""

    id: str
    language: str
    script: str
    node: str
    expect: str
    also: tuple[str, ...]
    text: str
    split: str

    @property
    def kind(self) -> str:
        if self.expect.startswith(("rating:", "when:")):
            return self.expect.split(":", 1)[0]
        if self.expect == "text":
            return "text"
        return "noise" if self.expect == "nothing" else "intent"


@dataclass(frozen=True)
class Clip:
    """A case spoken by one voice through one channel (or a non-speech turn: voice None)."""

    case: Case
    voice: VoiceSpec | None
    channel: Channel
    level_db: float

    @property
    def key(self) -> str:
        voice = self.voice.key if self.voice else "none"
        return f"{self.case.language}|{self.case.text}|{voice}|{self.channel}|{self.level_db:.2f}"


def load_cases(language: str) -> list[Case]:
    data = yaml.safe_load((HERE / f"phrasings.{language}.yaml").read_text(encoding="utf-8"))
    out: list[Case] = []
    for g, group in enumerate(data["groups"]):
        script, node = group["at"].split("/")
        for split in SPLITS:
            for p, text in enumerate(group.get(split, [])):
                out.append(
                    Case(
                        f"{language}-{g:02d}-{split}-{p}",
                        language,
                        script,
                        node,
                        str(group["expect"]),
                        tuple(group.get("also", [])),
                        text,
                        split,
                    )
                )
    return out


def load_voices(language: str, split: str) -> list[VoiceSpec]:
    data = yaml.safe_load((HERE / "voices.yaml").read_text(encoding="utf-8"))
    return [
        VoiceSpec(v["name"], language, v["engine"], {k: x for k, x in v.items() if k != "name"})
        for v in data[language][split]
    ]


def noise_cases(language: str, split: str, per_kind: int) -> list[Case]:
    script, node = ("survey_en", "q1") if language == "en" else ("followup_zh", "q1")
    return [
        Case(
            f"{language}-noise-{split}-{kind}-{i}",
            language,
            script,
            node,
            "nothing",
            (),
            f"<{kind}:{split}:{i}>",
            split,
        )
        for kind in NON_SPEECH
        for i in range(per_kind)
    ]


def clips(
    language: str, split: str, voices_per_case: int, limit: int | None, noise_per_kind: int = 2
) -> list[Clip]:
    """A split's clips: each phrasing by `voices_per_case` of the split's voices (rotating),
    each through a channel condition in rotation; plus non-speech turns."""
    cases = [c for c in load_cases(language) if c.split == split]
    if limit is not None and limit < len(cases):
        step = len(cases) / limit
        cases = [cases[int(i * step)] for i in range(limit)]
    voices = load_voices(language, split)
    out: list[Clip] = []
    for i, case in enumerate(cases):
        for j in range(min(voices_per_case, len(voices))):
            seed = zlib.crc32(f"{case.id}|{j}".encode())
            channel = Channel.pick(i * voices_per_case + j, seed)
            level = -30.0 + (seed % 1200) / 100  # -30 .. -18 dBFS
            out.append(Clip(case, voices[(i + j) % len(voices)], channel, level))
    per_kind = noise_per_kind if limit is None else 1
    for case in noise_cases(language, split, per_kind):
        out.append(Clip(case, None, Channel("clean", seed=zlib.crc32(case.id.encode())), 0.0))
    return out
