"""The stages one script's calls use, loaded once: its voice with the line cache, the
recogniser, the intent classifier fitted on the script's exemplars, and the call options.

Fixed lines are rendered up front (`prerender`). Of a contact's personal lines, those a call
may need before anyone speaks to the bot (the greeting; with AMD the voicemail message and the
call-screening line) are rendered while the number rings (`ring`); the others once a person has
answered, in the background while the greeting plays (`in_call`), so that the lines a
conversation reaches are ready when it reaches them. When the call ends, the lines that carry
the contact's own details are dropped from the cache (`ended`): memory stays flat over a
campaign, and no one's name is kept after their call."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from voicebot.core.clock import Clock
from voicebot.models.store import ModelStore
from voicebot.policy.lint import script_lines
from voicebot.policy.schema import Script, filled, load_script, text_of
from voicebot.session.call import CallOptions, CallStages
from voicebot.session.dialogue import script_classifier
from voicebot.tts import zh_text
from voicebot.tts.prompt_pack import pack_folder, prompt_lines
from voicebot.tts.prompted import PromptedSpeech, PromptPack
from voicebot.tts.stage import LineCache, TextToSpeech
from voicebot.tts.voices import Voice

LINE_RATE = 8000  # the phone band every transport speaks at the session
# the variables that name the caller's side, not the person called (the compliance default of
# what a voicemail may say): a sentence filled in from these alone is the same for every contact
CAMPAIGN_FIELDS = frozenset({"company", "agent_name"})
# what a line opens with when its render is late (CallOptions.bridge_after_s): an
# acknowledgement that fits any reply, pre-rendered with the fixed lines
BRIDGES = {"zh": "好的。", "en": "Okay."}
_VARIABLE = re.compile(r"\{(\w+)\}")


class ScriptStages:
    """Loads the stages for one script once; every call of that script shares them."""

    def __init__(
        self,
        script_path: Path,
        store: ModelStore,
        options: CallOptions | None = None,
        language: str | None = None,
    ) -> None:
        self.script_path = script_path
        self.script: Script = load_script(script_path)
        self.language = language or self.script.languages[0]
        self.store = store
        self.options = options or CallOptions()
        cache_dir = store.config.tts.prerender_dir
        normalize = zh_text.normalize if self.language == "zh" else None
        voice = store.voice(self.language)
        self.tts = _speech(self, voice, LineCache(cache_dir), normalize)
        self.stages = CallStages(
            listener_asr=store.asr(self.language),
            classifier=script_classifier(self.script, self.language, store.encoder(self.language)),
            tts=self.tts,
            models=self._models(),
            slower_tts=self.slower_tts,
            in_call=self.in_call,
            ended=self.ended,
            bridge=BRIDGES.get(self.language),
        )

    def slower_tts(self, factor: float) -> TextToSpeech:
        """The script's voice stretched by `factor` (the caller asked the bot to speak slower),
        sharing the line cache (its keys name the voice's length scale)."""
        scale = self.store.config.tts.length_scale * factor
        tts = TextToSpeech(self.store.voice(self.language, scale), LINE_RATE, self.tts.cache)
        if self.stages.bridge is not None:
            tts.prerender([self.stages.bridge])
        return tts

    def _models(self) -> dict[str, str]:
        out = {}
        for stage in ("asr", "nlu", "tts"):
            spec = self.store.registry.default(stage, self.language)
            out[stage] = spec.name
            out[f"{stage}_version"] = spec.version
        return out

    def prerender(self) -> int:
        """Render every fixed line (no contact variables) once: they start with no wait; and
        the fixed words of the personal lines (`shared_parts`), so that a contact's own lines
        leave only their personal words to render while the number rings or the call runs."""
        lines = [text_of(line, self.language) for _, line in script_lines(self.script)]
        if self.stages.bridge is not None:
            lines.append(self.stages.bridge)
        new = self.tts.prerender(t for t in lines if not _VARIABLE.search(t))
        return new + self.tts.prerender_sentences(self.shared_parts())

    def shared_parts(self) -> list[str]:
        """The fixed words of this script's personal lines (`shared_parts`)."""
        return shared_parts(self.script, self.language, self.tts)

    def personal_lines(self, contact: dict[str, Any]) -> list[str]:
        """The lines of this script that carry this contact's details, filled in."""
        return personal_lines(self.script, self.language, contact)

    def first_lines(self, contact: dict[str, Any]) -> list[str]:
        """The personal lines a call may say before a person is known to be there: the
        greeting, and with AMD the voicemail message and the call-screening line."""
        return first_lines(self.script, self.language, contact, self.options.amd)

    async def ring(self, clock: Clock, contact: dict[str, Any]) -> None:
        """What happens while the phone rings: the contact's first lines (`first_lines`) are
        rendered (into memory only: they carry personal data). Callers await it before the
        call starts, so the greeting never waits for synthesis."""
        await clock.run_blocking(self.tts.prerender, self.first_lines(contact), True)

    async def in_call(self, clock: Clock, contact: dict[str, Any]) -> None:
        """The contact's other personal lines, rendered one at a time in the order a call
        may need them (run as a task once a person answered: the greeting plays meanwhile).
        Cancelled, it lets the line in synthesis finish first, so that nothing enters the
        cache after the call's `ended`."""
        first = set(self.first_lines(contact))
        for line in self.personal_lines(contact):
            if line in first or self.tts.ready(line):
                continue
            job = asyncio.ensure_future(clock.run_blocking(self.tts.prerender, [line], True))
            try:
                await asyncio.shield(job)
            except asyncio.CancelledError:
                await asyncio.gather(job, return_exceptions=True)
                raise

    def ended(self, contact: dict[str, Any]) -> int:
        """The call with `contact` is over: drop its lines' cached audio that carries the
        contact's own details, keeping the sentences that say only the campaign's own fields
        (`CAMPAIGN_FIELDS`: the next contact's greeting starts with the same words; they stay
        in the byte-capped LRU). Returns how many cache entries were dropped."""
        common = {k: v for k, v in contact.items() if k in CAMPAIGN_FIELDS}
        return self.tts.forget(self.personal_lines(contact), self.personal_lines(common))


def shared_parts(script: Script, language: str, tts: TextToSpeech) -> list[str]:
    """The chunks of the script's personal lines that say no contact detail, as the script's
    example contact's lines are split (a contact whose details split the same way shares them;
    any other chunk is rendered per contact). None carries personal data: they may persist."""
    example = script.example_contact
    sample = {v: str(example.get(v) or "某某") for v in script.variables}
    shadow = {v: _shadow(value) for v, value in sample.items()}
    out: list[str] = []
    for _, line in script_lines(script):
        text = text_of(line, language)
        if _VARIABLE.search(text):
            shared = tts.shared_sentences(filled(text, sample), filled(text, shadow))
            out += [s for s in shared if s not in out]
    return out


def _shadow(value: str) -> str:
    """Another value of the same length (CJK for CJK): a chunk that holds a variable's value
    differs between the two fillings."""
    return "".join("甲" if "\u4e00" <= c <= "\u9fff" else "x" if c.isalnum() else c for c in value)


def _speech(
    stages: ScriptStages, voice: Voice, cache: LineCache, normalize: Callable[[str], str] | None
) -> TextToSpeech:
    """The TTS stage: with the script's recorded prompt pack in front, when it has one."""
    folder = pack_folder(stages.script, stages.script_path, stages.language)
    if folder is None:
        return TextToSpeech(voice, LINE_RATE, cache, normalize)
    pack = PromptPack(prompt_lines(stages.script, stages.language), folder, LINE_RATE)
    return PromptedSpeech(voice, pack, LINE_RATE, cache, normalize)


def first_lines(
    script: Script, language: str, contact: dict[str, Any], amd: bool = True
) -> list[str]:
    """The personal lines a call may need before the callee is known to be a person: the
    greeting, and (with AMD) the voicemail message and the screening line."""
    lines = [script.nodes[script.start].say]
    if amd and script.voicemail.action == "leave" and script.voicemail.message is not None:
        lines.append(script.voicemail.message)
    if amd and script.lines.screening is not None:
        lines.append(script.lines.screening)
    out: list[str] = []
    for line in lines:
        text = text_of(line, language)
        if _VARIABLE.search(text) and (personal := filled(text, contact)) not in out:
            out.append(personal)
    return out


def personal_lines(script: Script, language: str, contact: dict[str, Any]) -> list[str]:
    """Every line of `script` that carries the contact's details, filled in, in the order a
    call may need them: the greeting and the voicemail message first, then the other nodes,
    reprompts, handlers and standard lines."""
    first = [script.nodes[script.start].say]
    if script.voicemail.action == "leave" and script.voicemail.message is not None:
        first.append(script.voicemail.message)
    out: list[str] = []
    for line in [*first, *(line for _, line in script_lines(script))]:
        text = text_of(line, language)
        if _VARIABLE.search(text) and (personal := filled(text, contact)) not in out:
            out.append(personal)
    return out
