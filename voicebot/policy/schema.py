"""The call-script format (YAML in prompts/), validated by pydantic; errors name file and line."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from voicebot.core.errors import VoicebotError
from voicebot.core.outcomes import SCRIPTED, Outcome
from voicebot.core.yamlfile import YamlFileError, line_of, read_yaml


def _scripted(outcome: Outcome) -> Outcome:
    if not outcome.scripted:
        raise ValueError(f"a script ends a call with one of {', '.join(SCRIPTED)}")
    return outcome


ScriptOutcome = Annotated[Outcome, AfterValidator(_scripted)]
Line = str | dict[str, str]  # one text, or one per language
# the answer to "may we contact you again?" (True / False): the campaign keeps it per number and
# purpose, and a False stops every campaign of that purpose from calling the number again
CONSENT_FIELD = "consent.future_contact"


class ScriptError(VoicebotError):
    """A script problem, located as file:line: field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Ask(_Strict):
    """What a node listens for besides intents: a slot parsed from the answer."""

    slot: Literal["yes_no", "rating", "number", "when", "text"]
    scale: tuple[int, int] = (1, 5)
    record: str | None = Field(None, description="field to record the value in, e.g. survey.q1")


class Node(_Strict):
    say: Line
    audio: str | None = Field(None, description="recorded prompt played instead of TTS")
    protected: bool = Field(False, description="barge-in cannot cut this line")
    ask: Ask | None = None
    goto: dict[str, str] = Field(default_factory=dict, description="intent or slot event -> node")
    dtmf: dict[str, str] = Field(
        default_factory=dict, description='phone key -> intent, e.g. {"1": affirm, "2": deny}'
    )
    next: str | None = Field(None, description="node after a statement that expects nothing")
    record: dict[str, str | int | bool] = Field(default_factory=dict)
    reprompt: list[Line] = Field(default_factory=list, description="escalating no-match lines")
    on_fail: str | None = Field(None, description="node after reprompts are exhausted")
    end: ScriptOutcome | None = Field(None, description="closing node: hang up with this outcome")
    transfer: str | None = Field(None, description="hand off to a human with this reason")
    callback: bool = Field(False, description="book the callback time heard in this turn")
    dnc: bool = False
    sms: Line | None = Field(
        None, description="text message sent to the callee when the call reaches this node"
    )
    without_sms: str | None = Field(
        None,
        description="node to go to instead of this one when no SMS webhook is configured "
        "(required where the node sends or promises a text message)",
    )

    @model_validator(mode="after")
    def _sms_fallback(self) -> Node:
        if self.sms is not None and self.without_sms is None:
            raise ValueError(
                "a node with `sms` needs `without_sms`: the node to go to when no SMS "
                "webhook is configured (its line must not promise the message)"
            )
        return self


class Handler(_Strict):
    """A global handler: reachable from any node, then back to where the call was."""

    say: Line | None = Field(None, description="default: the script's `cant_answer` line")
    then: str = Field("return", description="'return', a node id, or 'end'")
    end: ScriptOutcome | None = None
    transfer: str | None = None
    callback: bool = False
    dnc: bool = False
    record: dict[str, str | int | bool] = Field(default_factory=dict)
    note: str | None = Field(
        None,
        description="record the caller's own words in this field (a follow-up task when it "
        "starts with followup.)",
    )
    slower: bool = Field(False, description="speak more slowly for the rest of the call")
    again: Handler | None = Field(
        None, description="what the handler does when it fires again in the same call"
    )


class GradeRule(_Strict):
    grade: Literal["A", "B", "C", "D"]
    when: dict[str, str | int | bool | list[str | int | bool]] = Field(default_factory=dict)


class Settings(_Strict):
    min_confidence: float = 0.35
    max_low_confidence: int = 2
    max_no_input: int = 2
    abuse_warnings: int = Field(
        2,
        description="warnings before the call is ended; with lines.abuse_recorded the last "
        "warning says the call is recorded (three steps: civility, recorded, end)",
    )
    slower_factor: float = Field(
        1.3, gt=1.0, le=2.0, description="'speak slower' stretches the voice by this much"
    )
    max_turns: int = 40
    max_line_chars: int = 220


class StandardLines(_Strict):
    """Line-trouble phrases every script provides."""

    clarify: Line
    no_input: Line
    no_input_goodbye: Line
    cant_answer: Line
    abuse_warning: Line
    abuse_goodbye: Line
    transfer: Line
    no_agent: Line
    abuse_recorded: Line | None = Field(None, description="the last abuse warning")
    screening: Line | None = Field(
        None, description="said to a call-screening assistant: who calls and why, no personal data"
    )
    speak_up: Line | None = Field(
        None, description="the caller's speech was too quiet or too noisy: ask them to speak up"
    )
    line_unstable: Line | None = Field(
        None, description="the line keeps breaking up: say so, book a callback and end"
    )


class Compliance(_Strict):
    """The rules of outbound calling the linter checks (`voicebot script check`)."""

    disclosure: bool = Field(True, description="the opening says the call is automated")
    recording_notice: bool = Field(True, description="when calls are recorded, the opening says so")
    opt_out: bool = Field(True, description="'stop calling' works from every node")
    voicemail_fields: list[str] | None = Field(
        default_factory=lambda: ["company", "agent_name"],
        description="the only variables a voicemail message may say (null: no check)",
    )


class Voicemail(_Strict):
    """What to do when an answering machine picks up."""

    action: Literal["hang_up", "leave"] = "hang_up"
    message: Line | None = Field(None, description="said after the beep when action is leave")
    wait_beep_s: float = Field(8.0, gt=0, description="wait this long for the beep at most")


class Script(_Strict):
    name: str
    languages: list[Literal["en", "zh"]]
    description: str = ""
    variables: list[str] = Field(default_factory=list)
    intents: dict[str, list[str]] = Field(default_factory=dict, description="script's own")
    use_common_intents: bool = True
    settings: Settings = Field(default_factory=Settings)
    lines: StandardLines
    start: str
    nodes: dict[str, Node]
    globals: dict[str, Handler] = Field(default_factory=dict)
    grades: list[GradeRule] = Field(default_factory=list)
    voicemail: Voicemail = Field(default_factory=Voicemail)
    compliance: Compliance = Field(default_factory=Compliance)
    example_contact: dict[str, str] = Field(
        default_factory=dict, description="a made-up contact for chat, trials and the linter"
    )
    prompts: str | None = Field(
        None,
        description="folder of recorded prompts (relative to the script): fixed words are "
        "played from <folder>/<language>/, variables synthesised; `voicebot script prompts`",
    )


def load_script(path: str | Path) -> Script:
    """Parse and validate; raises ScriptError naming file, line and field."""
    path = Path(path)
    try:
        data, tree = read_yaml(path)
    except YamlFileError as e:
        raise ScriptError(str(e)) from None
    if not isinstance(data, dict):
        raise ScriptError(f"{path}:1: a script is a mapping with name, languages, nodes ...")
    try:
        return Script.model_validate(data)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            loc = [str(p) for p in err["loc"]]
            problems.append(f"{path}:{line_of(tree, loc)}: {'.'.join(loc)}: {err['msg']}")
        raise ScriptError("\n".join(problems)) from None


def text_of(line: Line, language: str) -> str:
    return line if isinstance(line, str) else line.get(language, next(iter(line.values())))


_VARIABLE = re.compile(r"\{(\w+)\}")


def filled(text: str, contact: Mapping[str, Any]) -> str:
    """A line with the contact's variables put in; a missing or empty (null) value is left out,
    never read out as "None"."""
    return _VARIABLE.sub(
        lambda m: "" if contact.get(m.group(1)) is None else str(contact[m.group(1)]), text
    )
