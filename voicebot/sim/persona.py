"""Simulated callees described in YAML (voicebot/sim/personas/): what they answer, how fast they
speak, what their line is like, and the outcome a script should reach with them.

A persona listens to the bot's *text* (the loopback line's caption side channel) rather than
running its own ASR: trials stay deterministic and cheap, while everything the bot hears is
real synthesised speech through a phone channel."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError

from voicebot.core.errors import ConfigError
from voicebot.telephony.loopback import Impairment

PERSONAS = Path(__file__).resolve().parent / "personas"
# named persona sets (`voicebot trial --personas situations`): the folder's personas and the
# built-in ones named here. `situations`: one persona per standard-phrase situation of a call
# centre (scam worry, agent ID, chit-chat, praise, suggestion, when-followup, speak slower, not
# now, screening, abuse, complaint, unsure question) and a voicemail that sounds like a person
SETS = {
    "situations": (
        PERSONAS / "situations",
        ["cooperative", "asks_slower", "screened_google", "screened_ios", "abusive"],
    ),
}


class Persona(BaseModel):
    name: str
    description: str = ""
    hello: dict[str, str] = Field(default_factory=dict, description="said on answer, per language")
    greeting_beep: bool = Field(False, description="a 1 kHz beep after the hello (machines)")
    hello_then: dict[str, str] = Field(
        default_factory=dict,
        description="said `hello_gap_s` after the hello without waiting for the bot, per "
        "language: a voicemail greeting that starts like a person (the beep comes after it)",
    )
    hello_gap_s: float = Field(1.5, ge=0, description="the pause between hello and hello_then")
    screener: dict[str, str] = Field(
        default_factory=dict,
        description="a call-screening assistant's prompt said on answer, per language; the "
        "person says the hello once the bot has answered the screener",
    )
    replies: dict[str, dict[str, str | list[str]]] = Field(
        default_factory=dict,
        description="language -> cue -> reply (or replies, used in turn). Cues: identity (the "
        "first question), yes_no, rating, number, when, text, default",
    )
    speed: float = Field(1.0, description="piper length scale; < 1 speaks faster")
    think_s: float = Field(0.6, description="pause after the bot stops before answering")
    barge_in_after_s: float | None = Field(None, description="talk over the bot after this long")
    line: Impairment = Field(default_factory=Impairment)
    quiet_dbfs: float | None = Field(
        None,
        description="replies at this speech level (RMS dBFS) until the bot asks to speak up "
        "(a caller far from the phone); then at the voice's own level",
    )
    expect: dict[str, str] = Field(description="script name (or 'default') -> expected outcome")

    def expected(self, script: str) -> str:
        return self.expect.get(script, self.expect["default"])

    def lines(self, language: str) -> list[str]:
        """Every reply this persona may say in `language` (rendered before the call: a person
        answers without waiting for a synthesiser)."""
        out: list[str] = []
        for said in self.replies.get(language, {}).values():
            out += [s for s in ([said] if isinstance(said, str) else said) if s not in out]
        return out

    def reply(self, language: str, cue: str, count: int) -> str | None:
        table = self.replies.get(language, {})
        said = table.get(cue, table.get("default"))
        if said is None:
            return None
        return said[count % len(said)] if isinstance(said, list) else said


def load_persona(name_or_path: str) -> Persona:
    path = Path(name_or_path)
    if not path.suffix:
        path = PERSONAS / f"{name_or_path}.yaml"
        for folder, _ in SETS.values():  # a set's own personas are found by name too
            if not path.exists() and (folder / f"{name_or_path}.yaml").exists():
                path = folder / f"{name_or_path}.yaml"
    try:
        return Persona.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except OSError as e:
        known = ", ".join(sorted(p.stem for p in PERSONAS.glob("*.yaml")))
        raise ConfigError(f"persona {name_or_path}: {e.strerror} (built in: {known})") from None
    except (yaml.YAMLError, ValidationError) as e:
        raise ConfigError(f"{path}: invalid persona: {e}") from None


def all_personas() -> list[Persona]:
    """The built-in personas (the demo's contacts; not the sets' own)."""
    return [load_persona(str(p)) for p in sorted(PERSONAS.glob("*.yaml"))]


def persona_set(name: str) -> list[Persona]:
    folder, built_in = SETS[name]
    own = [load_persona(str(p)) for p in sorted(folder.glob("*.yaml"))]
    return [load_persona(n) for n in built_in] + own


def choose(names: list[str] | None) -> list[Persona]:
    """Persona names, files or set names (`situations`), in order; none: the built-in ones."""
    if not names:
        return all_personas()
    return [p for n in names for p in (persona_set(n) if n in SETS else [load_persona(n)])]
