"""The script policy: a pure function `(state, event) -> (state, actions)`. No I/O, no clock."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from voicebot.core.outcomes import Outcome
from voicebot.nlu import slots
from voicebot.policy import trouble
from voicebot.policy.actions import (
    Action,
    HandoffResult,
    HangUp,
    Heard,
    MarkDnc,
    PolicyEvent,
    Record,
    Say,
    ScheduleCallback,
    SendSms,
    SetGrade,
    SlowDown,
    Transfer,
    Unheard,
)
from voicebot.policy.schema import GradeRule, Handler, Line, Node, Script, filled, text_of

_SURE = 0.8  # a turn confidence (probability the intent is right) that outweighs a number
_ALWAYS_GLOBAL = frozenset({"stop_calling", "want_human", "complaint", "abuse"})
_FEEDBACK = frozenset({"complaint", "praise", "suggestion"})  # what an open comment may read as


@dataclass(frozen=True)
class DialogueState:
    """Where one conversation stands in the script (immutable: each step returns a new one)."""

    node: str
    language: str
    contact: MappingProxyType[str, Any]
    records: tuple[tuple[str, Any], ...] = ()
    path: tuple[str, ...] = ()
    reprompts: int = 0
    low_confidence: int = 0
    no_input: int = 0
    unheard: int = 0  # turns in a row with speech but no usable words
    abuse: int = 0
    turns: int = 0
    awaiting_handoff: bool = False
    identity_confirmed: bool = False  # the opening identity question was answered yes
    slower: bool = False  # the caller asked the bot to speak more slowly
    speak_up: int = 0  # asks to speak up in a row (quiet or noisy turns not understood)
    asked_louder: bool = False  # the caller was asked to speak up once already
    losses: tuple[float, ...] = ()  # share of frames the line lost, last turns
    ended: Outcome | None = None
    said: tuple[str, ...] = field(default=(), repr=False)

    def recorded(self) -> dict[str, Any]:
        return dict(self.records)


class Policy:
    """Runs one script for one language. `sms`: whether text messages can be sent (an SMS
    webhook is configured); without, a node that sends or promises one is replaced by its
    `without_sms` node, so the bot never promises a message nothing sends."""

    def __init__(self, script: Script, language: str | None = None, sms: bool = False) -> None:
        self.script = script
        self.language = language or script.languages[0]
        self.sms = sms

    def start(self, contact: dict[str, Any]) -> tuple[DialogueState, list[Action]]:
        state = DialogueState(self.script.start, self.language, MappingProxyType(dict(contact)))
        return self._enter(state, self.script.start)

    def step(self, state: DialogueState, event: PolicyEvent) -> tuple[DialogueState, list[Action]]:
        if state.ended:
            return state, []
        state = replace(state, turns=state.turns + 1)
        if state.turns > self.script.settings.max_turns:
            return self._close(state, Outcome.NO_INPUT, self.script.lines.no_input_goodbye, "turns")
        if isinstance(event, HandoffResult):
            return self._handoff_result(state, event)
        if isinstance(event, Heard | Unheard):
            state = replace(state, losses=trouble.remember(state.losses, event.line_loss))
            if trouble.broken_line(state.losses):
                return self._line_unstable(state)
        if isinstance(event, Unheard):
            return self._unheard(replace(state, no_input=0), event)
        if not isinstance(event, Heard):
            return self._no_input(state)
        state = replace(state, no_input=0, unheard=0)
        if event.confidence >= self.script.settings.min_confidence:
            state = replace(state, speak_up=0)
        after, actions = self._heard(state, event)
        return self._ask_louder(state, event, after, actions)

    def _heard(self, state: DialogueState, event: Heard) -> tuple[DialogueState, list[Action]]:
        if event.intent == "abuse" and event.confidence >= self.script.settings.min_confidence:
            return self._abuse(state)
        handler = self.script.globals.get(event.intent)
        confident = event.confidence >= self.script.settings.min_confidence
        if handler and confident and not self._answers_node(state, event):
            return self._global(state, event, handler)
        return self._answer(state, event)

    def _answers_node(self, state: DialogueState, event: Heard) -> bool:
        """A precise answer to the node's question ("tomorrow at 3 pm" when asked for a time),
        or an intent the node routes itself ("not interested" to the consent question: a no),
        wins over a global handler, unless the caller wants out or wants a person."""
        node = self.script.nodes[state.node]
        if node.ask is not None and node.ask.slot == "text" and event.intent in _FEEDBACK:
            # "Anything else about the visit?" - "He was very polite and tidy.": feedback is
            # the comment asked for, kept in the caller's words; only a sure complaint ("I
            # want to make a complaint") goes to the complaint handler
            return not (event.intent == "complaint" and event.confidence >= _SURE)
        if event.intent == "complaint" and event.confidence < _SURE:
            # "Not very happy, two.": a short answer with a score, read as a complaint by an
            # unsure classifier, is the score asked for (a low one), not a case for the desk
            return self._short_score(node, event)
        if event.intent in _ALWAYS_GLOBAL:
            return False
        if event.intent in node.goto:  # the node names this intent: its own route wins
            return True
        if node.ask is None:
            return False
        if node.ask.slot == "yes_no":
            # a plain yes ("Sure, go ahead.") answers the question unless the classifier is
            # sure of something else; a no leaves the global reading (not interested, busy
            # ...) in charge, as it says more than the no
            return event.confidence < _SURE and slots.plain_yes(event.text, self.language)
        if node.ask.slot == "text":
            # "Anything else?" - "No, all good.": a no answers a question that has a way for
            # no; it is not the caller turning the call down
            return self._no_key(node) is not None and self._says_no(event)
        if node.ask.slot not in ("when", "rating", "number"):
            return False
        if self._parse_slot(node, event) is None:
            return False
        if node.ask.slot == "when":
            return True
        # a number in a sentence the classifier reads confidently ("could you say that one
        # more time?") is not a rating: a number answer is short, or the classifier is unsure
        return _short(event.text, self.language) or event.confidence < _SURE

    # --- the current node's answer -------------------------------------------------------
    def _answer(self, state: DialogueState, event: Heard) -> tuple[DialogueState, list[Action]]:
        node = self.script.nodes[state.node]
        actions: list[Action] = []
        target, value = self._route(node, event)
        if target is None and event.confidence < self.script.settings.min_confidence:
            return self._low_confidence(state, event)
        if target is None:
            return self._no_match(state, node)
        state = replace(state, low_confidence=0, reprompts=0)
        if state.node == self.script.start and node.goto.get("affirm") == target:
            state = replace(state, identity_confirmed=True)
        if node.ask and node.ask.record and value is not None:
            state, rec = self._record(state, node.ask.record, value)
            actions += rec
        if node.callback or (target in self.script.nodes and self.script.nodes[target].callback):
            actions.append(ScheduleCallback(slots.when(event.text, self.language, event.now)))
        state, more = self._enter(state, target)
        return state, actions + more

    def _route(self, node: Node, event: Heard) -> tuple[str | None, Any]:
        ask = node.ask
        yes_target = node.goto.get("affirm")
        if ask is not None and ask.slot == "when" and "filled" in node.goto:
            # "No, call me tomorrow" gives a time: the time answers, not the no
            when = self._parse_slot(node, event)
            if when is not None:
                return node.goto["filled"], when
        if event.intent in node.goto and event.confidence >= self.script.settings.min_confidence:
            value: Any = event.text if ask and ask.slot == "text" else None
            if ask and ask.slot == "yes_no":
                value = {"affirm": True, "deny": False}.get(event.intent)
                if node.goto[event.intent] == yes_target and self._contrary_to_yes(event):
                    return None, None
            return node.goto[event.intent], value
        if ask is None:
            return None, None
        no_key = self._no_key(node)
        if ask.slot == "text" and no_key and self._says_no(event):
            # kept as said: "No, but the technician was late" is still a comment
            return node.goto[no_key], event.text.strip()
        if ask.slot == "when" and no_key and self._says_no(event):
            return node.goto[no_key], None  # "when shall we call?" - "no": no time booked
        value = self._parse_slot(node, event)
        if value is None:
            return None, None
        if ask.slot == "yes_no":
            if not self._classifier_allows(node, event, bool(value)):
                return None, None
            key = "affirm" if value else "deny"
            return node.goto.get(key, node.goto.get("filled")), value
        return node.goto.get("filled"), value

    def _short_score(self, node: Node, event: Heard) -> bool:
        return (
            node.ask is not None
            and node.ask.slot in ("rating", "number")
            and _short(event.text, self.language)
            and self._parse_slot(node, event) is not None
        )

    @staticmethod
    def _no_key(node: Node) -> str | None:
        return next((k for k in ("deny", "no_comment") if k in node.goto), None)

    def _says_no(self, event: Heard) -> bool:
        return slots.yes_no(event.text, self.language) is False

    def _contrary_to_yes(self, event: Heard) -> bool:
        """A doubt, a question back or someone else speaking is never a yes."""
        return slots.not_an_answer(event.text, self.language) is not None

    def _classifier_allows(self, node: Node, event: Heard, yes: bool) -> bool:
        """A yes/no word parse stands only where the classifier does not contradict it: a yes
        needs the classifier to be confident of a yes, or the whole turn to be a plain yes
        ("Speaking.") that the classifier is not sure is something else (doubts, questions
        back and someone else speaking never parse as yes). A classifier that only leans yes
        below `min_confidence` is unsure: a yes word in a longer sentence ("Okay, I'm going to
        be in the clinic." for "Okay, and where is the clinic?") gets the clarify line, not a
        confirmation. A no is refused when the classifier is confident of a yes."""
        yes_target = node.goto.get("affirm")
        says_yes = event.intent == "affirm" or (
            event.intent in node.goto and node.goto[event.intent] == yes_target
        )
        confident = event.confidence >= self.script.settings.min_confidence
        if yes:  # a plain yes holds against all but a sure classifier (see _answers_node)
            plain = slots.plain_yes(event.text, self.language)
            return (says_yes and confident) or (plain and event.confidence < _SURE)
        return not (says_yes and confident)

    def _parse_slot(self, node: Node, event: Heard) -> Any:
        assert node.ask is not None
        kind, lang = node.ask.slot, self.language
        if kind == "yes_no":
            return slots.yes_no(event.text, lang)
        if kind == "rating":
            return slots.rating(event.text, lang, *node.ask.scale)
        if kind == "number":
            found = slots.numbers(event.text, lang)
            return found[0] if found else None
        if kind == "when":
            when = slots.when(event.text, lang, event.now)
            return when.isoformat(timespec="minutes") if when else None
        return event.text.strip() or None

    # --- line trouble ---------------------------------------------------------------------
    def _no_match(self, state: DialogueState, node: Node) -> tuple[DialogueState, list[Action]]:
        if state.reprompts < len(node.reprompt):
            line = node.reprompt[state.reprompts]
            state = replace(state, reprompts=state.reprompts + 1)
            return state, [self._say(state, f"{state.node}.reprompt", line, node.protected)]
        return self._enter(replace(state, reprompts=0), node.on_fail or self._fail_node())

    def _low_confidence(
        self, state: DialogueState, event: Heard
    ) -> tuple[DialogueState, list[Action]]:
        if trouble.faint(event.audibility) and self.script.lines.speak_up is not None:
            return self._speak_up(state)
        if trouble.unstable_line(state.losses):
            return self._line_unstable(state)
        count = state.low_confidence + 1
        state = replace(state, low_confidence=count)
        if count >= self.script.settings.max_low_confidence:
            if trouble.lossy(state.losses):
                return self._line_unstable(state)
            return self._transfer(state, "low confidence")
        return state, [self._say(state, "clarify", self.script.lines.clarify)]

    def _unheard(self, state: DialogueState, event: Unheard) -> tuple[DialogueState, list[Action]]:
        """Speech without words: the clarify line, then the question in other words (the
        node's reprompt, else its own line again), then a person. Quiet or noisy speech asks
        the caller to speak up instead; on a line that keeps losing frames the bot calls back."""
        if trouble.faint(event.audibility) and self.script.lines.speak_up is not None:
            return self._speak_up(state)
        if trouble.unstable_line(state.losses):
            return self._line_unstable(state)
        count = state.unheard + 1
        state = replace(state, unheard=count)
        if count == 1:
            return state, [self._say(state, "clarify", self.script.lines.clarify)]
        node = self.script.nodes[state.node]
        if count == 2:
            line = node.reprompt[0] if node.reprompt else node.say
            return state, [self._say(state, f"{state.node}.reprompt", line, node.protected)]
        if trouble.lossy(state.losses):
            return self._line_unstable(state)
        return self._transfer(replace(state, unheard=0), "caller not understood")

    def _speak_up(self, state: DialogueState) -> tuple[DialogueState, list[Action]]:
        """Too quiet or too noisy to understand: ask to speak up (never a person for it); when
        asking has not helped, the line is the problem and the bot calls back."""
        line = self.script.lines.speak_up
        count = state.speak_up + 1
        if line is None or count > trouble.MAX_SPEAK_UP:
            return self._line_unstable(replace(state, speak_up=0))
        state = replace(state, speak_up=count, asked_louder=True)
        return state, [self._say(state, "speak_up", line)]

    def _ask_louder(
        self, before: DialogueState, event: Heard, state: DialogueState, actions: list[Action]
    ) -> tuple[DialogueState, list[Action]]:
        """An answer understood although it was quiet or noisy: asked once in the call to speak
        up, before the bot goes on (never before a goodbye or a hand-off)."""
        line = self.script.lines.speak_up
        if (
            line is None
            or not trouble.faint(event.audibility)
            or before.asked_louder
            or state.asked_louder
            or state.ended
            or state.awaiting_handoff
        ):
            return state, actions
        state = replace(state, asked_louder=True)
        return state, [self._say(state, "speak_up", line), *actions]

    def _line_unstable(self, state: DialogueState) -> tuple[DialogueState, list[Action]]:
        """The line is breaking up: say so, book a callback and end (never a transfer)."""
        line = self.script.lines.line_unstable or self.script.lines.no_input_goodbye
        state, actions = self._close(state, Outcome.CALLBACK, line, "line_unstable")
        return state, [ScheduleCallback(None), *actions]

    def _no_input(self, state: DialogueState) -> tuple[DialogueState, list[Action]]:
        count = state.no_input + 1
        state = replace(state, no_input=count)
        if count > self.script.settings.max_no_input:
            return self._close(
                state, Outcome.NO_INPUT, self.script.lines.no_input_goodbye, "no_input"
            )
        return state, [self._say(state, "no_input", self.script.lines.no_input)]

    def _abuse(self, state: DialogueState) -> tuple[DialogueState, list[Action]]:
        count = state.abuse + 1
        state = replace(state, abuse=count)
        lines, warnings = self.script.lines, self.script.settings.abuse_warnings
        if count > warnings:
            return self._close(state, Outcome.ABUSIVE, lines.abuse_goodbye, "abuse")
        if count == warnings and count > 1 and lines.abuse_recorded is not None:
            return state, [self._say(state, "abuse_recorded", lines.abuse_recorded)]
        return state, [self._say(state, "abuse_warning", lines.abuse_warning)]

    # --- global handlers, hand-off and closing --------------------------------------------
    def _global(
        self, state: DialogueState, event: Heard, handler: Handler
    ) -> tuple[DialogueState, list[Action]]:
        name = f"global.{event.intent}"
        for _ in range(state.path.count(name)):  # fired before in this call: its `again`
            handler = handler.again or handler
        actions: list[Action] = []
        for key, value in handler.record.items():
            state, rec = self._record(state, key, value)
            actions += rec
        if handler.note:
            state, rec = self._note(state, handler.note, event.text)
            actions += rec
        if handler.slower and not state.slower:
            state = replace(state, slower=True)
            actions.append(SlowDown(self.script.settings.slower_factor))
        if handler.dnc:
            actions.append(MarkDnc())
        if handler.callback:
            actions.append(ScheduleCallback(slots.when(event.text, self.language, event.now)))
        state = replace(state, path=(*state.path, name))
        say = self.script.lines.cant_answer if handler.say is None else handler.say
        if handler.transfer:
            actions.append(self._say(state, name, say))
            state, more = self._transfer(state, handler.transfer)
            return state, actions + more
        if handler.end:
            state, more = self._close(state, handler.end, say, name)
            return state, actions + more
        actions.append(self._say(state, name, say))
        if handler.then == "return":
            node = self.script.nodes[state.node]
            return state, [*actions, self._say(state, state.node, node.say, node.protected)]
        state, more = self._enter(state, handler.then)
        return state, actions + more

    def _transfer(self, state: DialogueState, reason: str) -> tuple[DialogueState, list[Action]]:
        state = replace(state, awaiting_handoff=True)
        return state, [
            self._say(state, "transfer", self.script.lines.transfer),
            Transfer(reason, self.summary(state, reason)),
        ]

    def _handoff_result(
        self, state: DialogueState, event: HandoffResult
    ) -> tuple[DialogueState, list[Action]]:
        state = replace(state, awaiting_handoff=False)
        if event.connected:
            state, actions = self._grade(state)
            return replace(state, ended=Outcome.TRANSFERRED), [
                *actions,
                HangUp(Outcome.TRANSFERRED),
            ]
        state, actions = self._close(
            state, Outcome.CALLBACK, self.script.lines.no_agent, "no_agent"
        )
        return state, [ScheduleCallback(None), *actions]

    def _close(
        self, state: DialogueState, outcome: Outcome, line: Line, name: str
    ) -> tuple[DialogueState, list[Action]]:
        state = replace(state, path=(*state.path, name))
        state, grade = self._grade(state)
        say = self._say(state, name, line)
        return replace(state, ended=outcome), [say, *grade, HangUp(outcome)]

    def _enter(self, state: DialogueState, node_id: str) -> tuple[DialogueState, list[Action]]:
        actions: list[Action] = []
        for _ in range(2 * len(self.script.nodes) + 1):  # follow `next` chains, bounded
            node = self.script.nodes[node_id]
            if node.without_sms is not None and not self.sms:
                node_id = node.without_sms  # no message can be sent: nor promised
                continue
            state = replace(state, node=node_id, path=(*state.path, node_id), reprompts=0)
            for key, value in node.record.items():
                state, rec = self._record(state, key, value)
                actions += rec
            if node.dnc:
                actions.append(MarkDnc())
            sms = [SendSms(node_id, self._text(state, node.sms))] if node.sms and self.sms else []
            if node.end:
                state, more = self._close(
                    replace(state, path=state.path[:-1]), node.end, node.say, node_id
                )
                return state, actions + more[:-1] + sms + more[-1:]  # sent before the hang-up
            actions.append(self._say(state, node_id, node.say, node.protected, node.audio))
            actions += sms  # after the line is queued: the post runs while it plays
            if node.transfer:
                state, more = self._transfer(state, node.transfer)
                return state, actions + more
            if node.next is None:
                return state, actions
            node_id = node.next
        raise RuntimeError(f"script {self.script.name}: `next` cycle through {node_id}")

    def _record(
        self, state: DialogueState, key: str, value: Any
    ) -> tuple[DialogueState, list[Action]]:
        records = (*((k, v) for k, v in state.records if k != key), (key, value))
        return replace(state, records=records), [Record(key, value)]

    def _note(
        self, state: DialogueState, key: str, text: str
    ) -> tuple[DialogueState, list[Action]]:
        """The caller's own words, kept (PII, in the report's records); a second note in the
        same field is added to the first."""
        before = state.recorded().get(key)
        words = text.strip()
        value = f"{before} / {words}" if isinstance(before, str) and before else words
        return self._record(state, key, value)

    def _grade(self, state: DialogueState) -> tuple[DialogueState, list[Action]]:
        rec = state.recorded()
        for rule in self.script.grades:
            if _matches(rule, rec):
                state, actions = self._record(state, "lead.grade", rule.grade)
                return state, [*actions[1:], SetGrade(rule.grade)]
        return state, []

    def _fail_node(self) -> str:
        return next(n for n, node in self.script.nodes.items() if node.end == "completed")

    def _say(
        self,
        state: DialogueState,
        name: str,
        line: Line,
        protected: bool = False,
        audio: str | None = None,
    ) -> Say:
        return Say(name, self._text(state, line), protected, audio)

    @staticmethod
    def _text(state: DialogueState, line: Line) -> str:
        return filled(text_of(line, state.language), state.contact)

    def voicemail(self, contact: Mapping[str, Any]) -> list[Action]:
        """An answering machine picked up: the script's message (after the beep), or nothing."""
        vm = self.script.voicemail
        if vm.action == "leave" and vm.message is not None:
            state = DialogueState(self.script.start, self.language, MappingProxyType(dict(contact)))
            return [
                self._say(state, "voicemail", vm.message, protected=True),
                HangUp(Outcome.VOICEMAIL),
            ]
        return [HangUp(Outcome.VOICEMAIL)]

    def screening(self, contact: Mapping[str, Any]) -> list[Action]:
        """A call-screening assistant answered ("say your name and why you're calling"): the
        script's screening line (who calls and why), then the call waits for the person."""
        line = self.script.lines.screening
        if line is None:
            return []
        state = DialogueState(self.script.start, self.language, MappingProxyType(dict(contact)))
        return [self._say(state, "screening", line, protected=True)]

    def summary(self, state: DialogueState, reason: str) -> str:
        """A short summary the agent hears and reads: who, identity confirmed (only when the
        caller said yes to the identity question) or not, why handed off, where in the script,
        and the answers so far."""
        who = state.contact.get("name") or ("the caller" if self.language == "en" else "客户")
        checked = state.identity_confirmed
        answers = ", ".join(f"{_label(k)} {v}" for k, v in state.records)
        if self.language == "zh":
            return (
                f"{who}。身份{'已确认' if checked else '未确认'}。转接原因:{reason}。"
                f"当前步骤:{state.node}。已记录:{answers or '无'}。"
            )
        return (
            f"{who}. Identity {'confirmed' if checked else 'not confirmed'}. "
            f"Handed over because: {reason}. Step: {state.node}. "
            f"Answers: {answers or 'none yet'}."
        )


def _short(text: str, language: str) -> bool:
    if language == "zh":
        return len(re.sub(r"\W", "", text)) <= 6
    return len(re.findall(r"[\w']+", text)) <= 4


def _label(field_name: str) -> str:
    return field_name.rsplit(".", 1)[-1].replace("_", " ")


def _matches(rule: GradeRule, records: dict[str, Any]) -> bool:
    for key, expected in rule.when.items():
        field_name, _, op = key.partition(" ")
        actual = records.get(field_name)
        if op == ">=" and not (isinstance(actual, int | float) and actual >= expected):  # type: ignore[operator]
            return False
        if op == "in" and actual not in (expected if isinstance(expected, list) else [expected]):
            return False
        if op == "" and actual != expected:
            return False
    return True
