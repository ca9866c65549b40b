"""Runs each clip through the bot's own hearing (webrtcvad -> whisper -> intent classifier ->
script policy at the node that asked) and reads back what the policy understood."""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

import numpy as np

from benchmarks.understanding.cases import Clip
from voicebot.asr.whisper import SAMPLE_RATE, Transcript, WhisperRecognizer, words_lost
from voicebot.audio.frames import AudioFrame
from voicebot.audio.resample import resample
from voicebot.nlu.intents import IntentClassifier
from voicebot.policy.actions import Record, Say, Transfer
from voicebot.policy.engine import DialogueState
from voicebot.policy.schema import Script, text_of
from voicebot.session.dialogue import Dialogue
from voicebot.session.listener import HeardTurn, first_reading, needs_second_pass, pick_answer
from voicebot.vad.endpoint import EndpointConfig, SpeechEnded
from voicebot.vad.webrtc import VoiceActivity

NOW = datetime(2026, 12, 1, 10, 0)  # a Tuesday: the phrasings' dates are relative to it
# what the turn recogniser keeps around the speech: its pre-roll, and the quiet after the end
# of speech that the speculative decode (most turns' final) gets
PREROLL_S, AFTER_S = 0.3, EndpointConfig().speculate_ms / 1000
_PARTS = {"morning": (6, 12), "afternoon": (12, 18), "evening": (17, 24)}
_VAR = re.compile(r"\{(\w+)\}")


@dataclass
class Outcome:
    """What the bot made of one clip."""

    heard: str  # the transcript the policy saw ("" when none)
    raw: str  # what the decoder said before the filter
    dropped: str
    no_speech: float
    logprob: float
    speech_s: float
    decode_s: float
    labels: set[str] = field(default_factory=set)
    intent: str = ""
    confidence: float = 0.0
    rescored: str = ""  # the closed-question pass: best two candidates and their scores


class Hearing:
    """The bot's stages for one language: its recogniser and one classifier per script."""

    def __init__(
        self,
        language: str,
        asr: WhisperRecognizer | None,  # None: typed text only (`read`)
        classifiers: dict[str, IntentClassifier],
        scripts: dict[str, Script],
    ) -> None:
        self.language, self.asr = language, asr
        self.classifiers, self.scripts = classifiers, scripts

    def hear(self, clip: Clip, pcm: np.ndarray) -> Outcome:
        case = clip.case
        script = self.scripts[case.script]
        dialogue = self._dialogue_at(script, case.node)
        turns = _vad_turns(pcm)
        if not turns:
            return Outcome("", "", "no speech (VAD)", 1.0, 0.0, 0.0, 0.0, {"nothing"})
        start, end = turns[0][0], turns[-1][1]
        speech_s = sum(e - s for s, e in turns)
        span = pcm[max(0, int((start - PREROLL_S) * 8000)) : int((end + AFTER_S) * 8000)]
        context = _fill(text_of(script.nodes[case.node].say, self.language), script)
        begin = time.perf_counter()
        audio = resample(span, 8000, SAMPLE_RATE)
        assert self.asr is not None, "a typed-only hearing has no recogniser"
        transcript = self.asr.transcribe(audio, context)
        transcript, rescored = self._second_pass(dialogue, transcript, audio, start, end, context)
        decode_s = time.perf_counter() - begin
        out = Outcome(
            transcript.text,
            transcript.raw_text,
            transcript.dropped,
            transcript.no_speech_prob,
            transcript.avg_logprob,
            speech_s,
            decode_s,
            rescored=rescored,
        )
        before = dialogue.state
        assert before is not None
        actions = self._step(dialogue, transcript, speech_s, out)
        if actions is None:
            out.labels = {"nothing"}
            return out
        out.labels = interpret(script, before, dialogue.state, actions)
        return out

    def read(self, clip: Clip) -> Outcome:
        """The phrasing as typed text, heard with certainty: what the classifier and the policy
        make of the right words (the ceiling the recogniser's mistakes pull down from)."""
        case = clip.case
        dialogue = self._dialogue_at(self.scripts[case.script], case.node)
        transcript = Transcript(case.text, self.language, 1.0, 0.0, 0.0, 0.0, 0.0, "", case.text)
        out = Outcome(case.text, case.text, "", 0.0, 0.0, 0.0, 0.0)
        before = dialogue.state
        assert before is not None
        actions = self._step(dialogue, transcript, 1.0, out)
        assert actions is not None
        out.labels = interpret(self.scripts[case.script], before, dialogue.state, actions)
        return out

    def _step(
        self, dialogue: Dialogue, transcript: Transcript, speech_s: float, out: Outcome
    ) -> list[Any] | None:
        """The call session's turn handling (session/call.py `_on_turn`): speech without usable
        words is "heard, not understood"; an empty transcript otherwise is noise and reaches no
        policy; words are classified and go to the policy with the transcript's certainty."""
        if not transcript.text:
            return dialogue.unheard(speech_s) if words_lost(transcript, speech_s) else None
        result = self.classifiers[dialogue.policy.script.name].classify(transcript.text)
        out.intent, out.confidence = result.intent, result.confidence
        return dialogue.heard(transcript.text, result, NOW, transcript)

    def _second_pass(
        self,
        dialogue: Dialogue,
        transcript: Transcript,
        audio: np.ndarray,
        start: float,
        end: float,
        context: str,
    ) -> tuple[Transcript, str]:
        """The listener's closed-question pass (session/listener.py `Listener.expecting`);
        also says what it scored, for calibration."""
        grammar = dialogue.expected()
        turn = HeardTurn(transcript, start, end, end, end, False, audio)
        if grammar is None or not needs_second_pass(turn, grammar):
            return transcript, ""
        assert self.asr is not None
        scores = self.asr.score(audio, list(grammar.candidates), context)
        ranked = sorted(zip(scores, grammar.candidates, strict=True), reverse=True)
        note = " ".join(f"{c}{s:.2f}" for s, c in ranked[:2])
        chosen = pick_answer(grammar, scores, first_reading(transcript))
        if chosen is None:
            return transcript, note
        text, score = chosen
        rescued = replace(
            transcript, text=text, dropped="", confidence=math.exp(score), avg_logprob=score
        )
        return rescued, note

    def _dialogue_at(self, script: Script, node: str) -> Dialogue:
        classifier = self.classifiers[script.name]
        # texts can be sent: the nodes asked here are the ones a call reaches (without an SMS
        # webhook the offer of a text is never made, and its yes would be read as no route)
        dialogue = Dialogue(
            script, self.language, classifier, dict(script.example_contact), sms=True
        )
        dialogue.start()
        assert dialogue.state is not None
        path = (*dialogue.state.path, node) if node != script.start else dialogue.state.path
        dialogue.state = replace(
            DialogueState(node, self.language, MappingProxyType(dict(script.example_contact))),
            path=path,
        )
        return dialogue


def _fill(text: str, script: Script) -> str:
    return _VAR.sub(lambda m: str(script.example_contact.get(m.group(1), "")), text)


def _vad_turns(pcm: np.ndarray) -> list[tuple[float, float]]:
    """Speech spans as the call's VAD and end-of-turn machine find them."""
    vad = VoiceActivity()
    turns: list[tuple[float, float]] = []
    frame = 160
    for i in range(0, len(pcm) - frame + 1, frame):
        for event in vad.push(AudioFrame(pcm[i : i + frame], 8000, i / 8000)):
            if isinstance(event, SpeechEnded):
                turns.append((event.start, event.end))
    silence = np.zeros(frame, np.int16)
    t = len(pcm) / 8000
    for k in range(60):  # let the hangover expire
        for event in vad.push(AudioFrame(silence, 8000, t + k * 0.02)):
            if isinstance(event, SpeechEnded):
                turns.append((event.start, event.end))
    return turns


def interpret(
    script: Script, before: DialogueState, after: DialogueState | None, actions: list[Any]
) -> set[str]:
    """What the policy did, as labels: global handlers taken (and the answer keys whose target
    a handler goes on to: "not now" then "when shall we call?" is the no to "is now a good
    time?"), the node's answer keys whose target it entered, recorded slot values, or
    `unclear` (clarify / reprompt / hand-off on low confidence) and `silence` (the no-input
    line)."""
    assert after is not None
    node = script.nodes[before.node]
    new_path = after.path[len(before.path) :]
    labels = {p.split(".", 1)[1] for p in new_path if p.startswith("global.")}
    for name in list(labels):  # a handler that goes on where an answer goes is that answer
        then = script.globals[name].then if name in script.globals else None
        labels |= {k for k, v in node.goto.items() if v == then}
    says = [a.node for a in actions if isinstance(a, Say)]
    if any(s == "clarify" or s.endswith(".reprompt") for s in says):
        labels.add("unclear")
    if any(isinstance(a, Transfer) and a.reason == "low confidence" for a in actions):
        labels.add("unclear")
    if "no_input" in says:
        labels.add("silence")
    if "abuse_warning" in says or "abuse" in new_path:
        labels.add("abuse")
    if not any(p.startswith("global.") for p in new_path):
        entered = [p for p in new_path if p in script.nodes]
        if entered:
            labels |= {k for k, v in node.goto.items() if v == entered[0]}
    if node.ask and node.ask.record:
        for a in actions:
            if isinstance(a, Record) and a.field == node.ask.record:
                if node.ask.slot in ("rating", "number"):
                    labels.add(
                        f"rating:{a.value:g}" if isinstance(a.value, float) else f"rating:{a.value}"
                    )
                elif node.ask.slot == "when":
                    labels.add(f"when:{a.value}")
                elif node.ask.slot == "text":
                    labels.add("text")
    return labels or {"unclear"}


def correct(expect: str, also: tuple[str, ...], labels: set[str]) -> bool:
    if expect == "nothing":
        return labels == {"nothing"}
    if expect == "not_affirm":
        return "affirm" not in labels and "nothing" not in labels
    if expect.startswith("when:"):
        return any(_when_matches(expect[5:], lab[5:]) for lab in labels if lab.startswith("when:"))
    return bool({expect, *also} & labels)


def _when_matches(expected: str, got: str) -> bool:
    if " " not in expected:
        return got == expected
    day, part = expected.split(" ")
    if not got.startswith(day):
        return False
    low, high = _PARTS[part]
    return low <= int(got[11:13]) < high


def primary(expect: str, also: tuple[str, ...], labels: set[str]) -> str:
    """One label for the confusion matrix: the expected one if the bot got it, else the most
    telling thing it did."""
    if correct(expect, also, labels):
        return expect
    for prefix in ("rating:", "when:"):
        if any(lab.startswith(prefix) for lab in labels) and expect.startswith(prefix):
            return "wrong value"
    order = sorted(labels, key=lambda lab: (lab in ("unclear", "silence", "nothing"), lab))
    return order[0]
