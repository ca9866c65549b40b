"""The inbound half of a call: frames in, caller turns out (VAD -> end of turn -> ASR).

The listener stamps each turn with the true speech end and the moment its transcript was ready,
both on the call's clock, so latency is measured here once rather than inside each stage.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from voicebot.asr.turn import TurnRecognizer
from voicebot.asr.whisper import Transcript, WhisperRecognizer, lasts_as_words, words_lost
from voicebot.audio.frames import AudioFrame
from voicebot.core.clock import Clock
from voicebot.nlu.grammar import AnswerGrammar
from voicebot.policy.trouble import LOSSY_TURN
from voicebot.vad.completion import Completion, completion
from voicebot.vad.endpoint import EndpointConfig, SpeechEnded, SpeechStarted, VadEvent
from voicebot.vad.level import Audibility, LevelMeter, TurnLevel
from voicebot.vad.webrtc import VoiceActivity

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HeardTurn:
    """One caller turn: what was said and when (call clock, seconds)."""

    transcript: Transcript
    speech_start: float
    speech_end: float  # true end of speech
    endpoint_at: float  # when the hangover confirmed the end
    asr_final_at: float  # when the transcript was ready
    speculative: bool
    pcm: np.ndarray | None = field(default=None, repr=False, compare=False)  # 16 kHz turn audio
    level: TurnLevel | None = None  # speech level, noise floor and frame loss of the turn

    @property
    def audibility(self) -> Audibility:
        """Quiet, noisy or ok; a turn without words is judged by its line, not by its SNR."""
        if self.level is None:
            return Audibility.OK
        if self.transcript.text or self.words_lost:
            return self.level.audibility()
        return self.level.without_words()

    @property
    def line_loss(self) -> float:
        return self.level.loss if self.level else 0.0

    @property
    def speech_s(self) -> float:
        return self.speech_end - self.speech_start

    @property
    def words_lost(self) -> bool:
        """Speech was heard but no usable words came through (see asr.whisper.words_lost)."""
        return words_lost(self.transcript, self.speech_s)


def line_trouble(turn: HeardTurn) -> bool:
    """A turn without words that the line explains: quiet or noisy speech, or a turn the line
    lost frames of (never a tone, never a click too short to be words)."""
    if not lasts_as_words(turn.speech_s) or turn.transcript.dropped == "tone":
        return False
    return turn.audibility is not Audibility.OK or turn.line_loss >= LOSSY_TURN


# Calibrated on the dev split of `./dev bench understanding`: the best expected answer must fit
# the audio this well, and better than the runner-up by this margin.
MIN_ANSWER_SCORE = -5.5
MIN_ANSWER_MARGIN = 1.0
_SHORT_TEXT_WORDS = 3


def needs_second_pass(turn: HeardTurn, grammar: AnswerGrammar) -> bool:
    """A short turn whose words parse as nothing the question expects (or that lost its words
    to the filter); never a tone, a cough or line noise, never a sentence."""
    text = turn.transcript.text
    if turn.speech_s > grammar.max_speech_s:
        return False
    if not text:  # dropped words: the expected answers may still fit (the rescoring's floor
        # turns a cough away); a Silero-voiceless "three" still deserves the pass
        return lasts_as_words(turn.speech_s) and turn.transcript.dropped != "tone"
    return short_answer(text, grammar.language) and not grammar.parses(text)


def short_answer(text: str, language: str) -> bool:
    """As short as an answer to a closed question is ("four", "五分"), not a sentence."""
    return len(text.split()) <= _SHORT_TEXT_WORDS if language == "en" else len(text) <= 6


def first_reading(transcript: Transcript) -> str:
    """What the free decode read in a turn whose words the filter dropped as unsure, when it is
    as short as an answer (not a sentence with a "one" in it, not an echo of the bot's own
    question, not a tone): a second opinion for the rescoring."""
    if transcript.dropped in ("", "echo of the question", "tone"):
        return ""
    raw = transcript.raw_text.strip()
    return raw if short_answer(raw, transcript.language) else ""


def pick_answer(
    grammar: AnswerGrammar, scores: list[float], first: str = ""
) -> tuple[str, float] | None:
    """The expected answer the audio supports clearly, if one does: well ahead of the
    runner-up, or (a rating) on top and the very number the free decode read first (`first`,
    see `first_reading`): two readings of the audio agree."""
    if not scores:
        return None
    order = sorted(range(len(scores)), key=lambda i: scores[i], reverse=True)
    best = scores[order[0]]
    runner_up = scores[order[1]] if len(order) > 1 else -10.0
    top = grammar.candidates[order[0]]
    if best < MIN_ANSWER_SCORE or best <= runner_up:
        return None
    if best - runner_up < MIN_ANSWER_MARGIN and not grammar.agrees(first, top):
        return None
    return top, best


class Listener:
    """push() each inbound frame; caller turns arrive on `turns` (an asyncio.Queue, which the
    call session may share with its other events).

    End of turn adapts (`EndpointConfig.adaptive`): once the speculative decode of a pause is
    back, its words set that pause's hangover: short when they end a turn, long after "um",
    "and" or a number still growing."""

    def __init__(
        self,
        asr: WhisperRecognizer,
        clock: Clock,
        endpoint: EndpointConfig | None = None,
        aggressiveness: int = 2,
        speculate: bool = True,
        turns: asyncio.Queue[Any] | None = None,
        language: str = "en",
    ) -> None:
        self.vad = VoiceActivity(endpoint, aggressiveness)
        self.meter = LevelMeter(self.vad.endpoint.config.frame_ms / 1000)
        self.config = self.vad.endpoint.config
        self.recognizer = TurnRecognizer(
            asr,
            speculate=speculate,
            speculate_after_s=self.config.speculate_ms / 1000,
            run_blocking=clock.run_blocking,
        )
        self.language = language
        self.completion: Completion = Completion.UNKNOWN  # of the pause under way
        # complete words shorten the hangover; off while a machine may still be greeting (its
        # "Hello," then a short pause, then "you've reached ..." must stay one turn)
        self.quick_end = True
        self._judged_pause: float | None = None
        self.clock = clock
        self.turns: asyncio.Queue[Any] = turns if turns is not None else asyncio.Queue()
        self.speech_started: asyncio.Event = asyncio.Event()
        self._pending: set[asyncio.Task[None]] = set()

    def push(self, frame: AudioFrame, received: bool = True, missing: int = 0) -> list[VadEvent]:
        """One inbound frame: `received` False when the line delivered none this tick (the
        frame is silence), `missing` the frames the line lost before it."""
        self.recognizer.push(frame)
        self._adapt_hangover()
        events = self.vad.push(frame)
        self.meter.push(frame.t, self.vad.last_dbfs, self.vad.last_speech, received, missing)
        for event in events:
            self.recognizer.on_vad(event)
            if isinstance(event, SpeechStarted):
                self.speech_started.set()
            if isinstance(event, SpeechEnded):
                task = asyncio.get_running_loop().create_task(self._finish(event))
                self._pending.add(task)
                task.add_done_callback(self._pending.discard)
        return events

    def _adapt_hangover(self) -> None:
        pause = self.vad.endpoint.pause_at
        if pause is None:
            self.completion, self._judged_pause = Completion.UNKNOWN, None
            return
        spec = self.recognizer.speculation
        if not self.config.adaptive or spec is None or self._judged_pause == pause:
            return
        if abs(spec[0] - pause) > 1e-6:
            return  # decoded at an earlier pause
        self._judged_pause = pause
        self.completion = completion(spec[1].text, self.language)
        if self.completion is Completion.COMPLETE and self.quick_end:
            self.vad.endpoint.set_hangover(self.config.complete_hangover_ms)
        elif self.completion is Completion.INCOMPLETE:
            self.vad.endpoint.set_hangover(self.config.incomplete_hangover_ms)

    @property
    def in_speech(self) -> bool:
        return self.vad.in_speech

    async def _finish(self, ended: SpeechEnded) -> None:
        level = self.meter.turn(ended.start, ended.end)  # before later frames arrive
        try:
            final = await self.recognizer.final(ended)
            transcript, speculative, pcm = final.transcript, final.speculative, final.pcm
        except Exception as e:  # a failed decode loses the words, not the turn
            log.error("ASR failed on a %.1f s turn: %r", ended.end - ended.start, e)
            transcript = Transcript(
                "", "", 0.0, 0.0, ended.end - ended.start, 0.0, 0.0, "asr error"
            )
            speculative, pcm = False, None
        await self.turns.put(
            HeardTurn(
                transcript=transcript,
                speech_start=ended.start,
                speech_end=ended.end,
                endpoint_at=ended.confirmed_at,
                asr_final_at=self.clock.now(),
                speculative=speculative,
                pcm=pcm,
                level=level,
            )
        )

    async def expecting(self, turn: HeardTurn, grammar: AnswerGrammar | None) -> HeardTurn:
        """The turn as the answer to a closed question: when its words parse as no expected
        answer, the expected answers are rescored against its audio (a second pass)."""
        if grammar is None or turn.pcm is None or not needs_second_pass(turn, grammar):
            return turn
        context = self.recognizer.context
        scores = await self.clock.run_blocking(
            self.recognizer.recognizer.score, turn.pcm, list(grammar.candidates), context
        )
        chosen = pick_answer(grammar, scores, first_reading(turn.transcript))
        if chosen is None:
            return turn
        text, score = chosen
        transcript = replace(
            turn.transcript, text=text, dropped="", confidence=math.exp(score), avg_logprob=score
        )
        return replace(turn, transcript=transcript)

    async def drain(self) -> None:
        """Wait for turns still being transcribed."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    async def aclose(self) -> None:
        for task in list(self._pending):
            task.cancel()
        await self.drain()
        await self.recognizer.aclose()
