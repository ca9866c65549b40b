"""One conversation's logic without audio: caller text -> intent -> policy -> actions.

The call session feeds it ASR finals; `voicebot chat` feeds it typed lines. Both share the
classifier fitted on the script's exemplars and the pure policy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from voicebot.asr.whisper import Transcript
from voicebot.nlu.confidence import turn_confidence
from voicebot.nlu.encoders import SentenceEncoder
from voicebot.nlu.grammar import AnswerGrammar, answer_grammar
from voicebot.nlu.intents import IntentClassifier, IntentResult
from voicebot.policy.actions import Action, HandoffResult, Heard, PolicyEvent, Silence, Unheard
from voicebot.policy.engine import DialogueState, Policy
from voicebot.policy.exemplars import exemplars
from voicebot.policy.schema import Script, text_of
from voicebot.vad.level import Audibility


def script_classifier(script: Script, language: str, encoder: SentenceEncoder) -> IntentClassifier:
    """The script's intents; its own lines are words callers echo ("套餐", "维修")."""
    lines = tuple(text_of(node.say, language) for node in script.nodes.values())
    return IntentClassifier(encoder, language).fit(exemplars(script, language), lines)


@dataclass(frozen=True, slots=True)
class Reply:
    """What one caller turn produced."""

    heard: str
    understood: IntentResult | None
    actions: list[Action]


class Dialogue:
    """Holds the policy state of one call; every method returns the actions to carry out."""

    def __init__(
        self,
        script: Script,
        language: str,
        classifier: IntentClassifier,
        contact: dict[str, Any],
        sms: bool = False,
    ) -> None:
        """`sms`: text messages can be sent (see `Policy`)."""
        self.policy = Policy(script, language, sms)
        self.classifier = classifier
        self.contact = contact
        self.state: DialogueState | None = None

    def start(self) -> list[Action]:
        self.state, actions = self.policy.start(self.contact)
        return actions

    def hear(self, text: str, now: datetime) -> Reply:
        """A caller turn; empty text is silence."""
        text = text.strip()
        if not text:
            return Reply("", None, self._step(Silence()))
        result = self.classifier.classify(text)
        return Reply(text, result, self._step(Heard(text, result.intent, result.confidence, now)))

    def heard(
        self,
        text: str,
        result: IntentResult,
        now: datetime,
        transcript: Transcript | None = None,
        audibility: Audibility = Audibility.OK,
        line_loss: float = 0.0,
    ) -> list[Action]:
        """A caller turn already classified (the call session classifies off the event loop).
        With the transcript, the policy gets one turn confidence from ASR and NLU together;
        with the turn's measures, whether it was quiet or noisy and how much the line lost."""
        confidence = result.confidence
        if transcript is not None:
            confidence = turn_confidence(result, transcript.avg_logprob, transcript.no_speech_prob)
        return self._step(Heard(text, result.intent, confidence, now, audibility, line_loss))

    def unheard(
        self, speech_s: float, audibility: Audibility = Audibility.OK, line_loss: float = 0.0
    ) -> list[Action]:
        """The caller spoke but no words came through: heard, not understood."""
        return self._step(Unheard(speech_s, audibility, line_loss))

    def expected(self) -> AnswerGrammar | None:
        """The answers the current question expects, when it is a closed one."""
        if self.state is None or self.state.ended:
            return None
        ask = self.policy.script.nodes[self.state.node].ask
        return answer_grammar(ask.slot, ask.scale, self.policy.language) if ask else None

    def voicemail(self) -> list[Action]:
        return self.policy.voicemail(self.contact)

    def screening(self) -> list[Action]:
        """A call-screening assistant answered: the script's line for it (before the call)."""
        return self.policy.screening(self.contact)

    def keypress(self, digit: str, now: datetime) -> list[Action]:
        """A phone key: the node's `dtmf` map names its intent; otherwise the digit is the
        answer text (ratings and numbers parse it)."""
        node = self.policy.script.nodes[self.state.node] if self.state else None
        intent = node.dtmf.get(digit, "dtmf") if node else "dtmf"
        return self._step(Heard(digit, intent, 1.0, now))

    def silence(self) -> list[Action]:
        return self._step(Silence())

    def handoff(self, connected: bool) -> list[Action]:
        return self._step(HandoffResult(connected))

    @property
    def ended(self) -> str | None:
        return self.state.ended if self.state else None

    def _step(self, event: PolicyEvent) -> list[Action]:
        if self.state is None:
            raise RuntimeError("Dialogue.start() must be called first")
        self.state, actions = self.policy.step(self.state, event)
        return actions


def unvisited(script: Script, paths: list[tuple[str, ...]]) -> list[str]:
    """Nodes of the script that none of the given call paths went through."""
    seen = {node for path in paths for node in path}
    return [n for n in script.nodes if n not in seen]
