"""One call, audio in and audio out: VAD -> ASR -> intent -> policy -> TTS over a media port.

Three tasks share the call: the media loop (20 ms ticks: inbound frame to the listener,
barge-in, silence timer, outbound frame from the playout), the conversation (caller turns and
silences through the dialogue, carrying out its actions) and the speaker (synthesis of queued
lines). Latency is stamped here, on the one call clock."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from voicebot.audio.frames import AudioFrame, samples_per_frame
from voicebot.audio.wav import read_wav, write_wav
from voicebot.core.clock import Clock
from voicebot.core.outcomes import Outcome
from voicebot.core.webhook import Webhook
from voicebot.handoff.agents import AgentPool
from voicebot.metrics.ear import EarMeter
from voicebot.metrics.report import BotLine, CallReport, TimelineEvent, Turn, TurnLatency
from voicebot.nlu.intents import IntentClassifier
from voicebot.policy.actions import Action, HangUp, Say, Silence, SlowDown, Transfer, carry_out
from voicebot.policy.schema import Script
from voicebot.session.actions import ReportActions
from voicebot.session.amd import (
    AnsweringMachineDetector,
    Verdict,
    addressed_to_caller,
    is_recording,
    judge,
)
from voicebot.session.bargein import BargeIn
from voicebot.session.dialogue import Dialogue
from voicebot.session.listener import HeardTurn, Listener, line_trouble
from voicebot.session.playout import PlayedLine, Playout
from voicebot.telephony.loopback import Caption
from voicebot.tts.stage import TextToSpeech
from voicebot.tts.trim import trim_leading
from voicebot.vad.completion import Completion, completion
from voicebot.vad.endpoint import (
    EndpointConfig,
    NoiseIgnored,
    SpeechEnded,
    SpeechStarted,
    VadEvent,
)

log = logging.getLogger(__name__)
FRAME_S = 0.02
SCREENED_WAIT_S = 10.0  # after a screener, greet a silent line only after this long
# after a first answer with a greeting's words, how long the reply waits for a beep: until this
# much quiet, at most BEEP_AFTER_WORDS_S (a machine's greeting goes on to its beep)
BEEP_QUIET_S = 1.2
BEEP_AFTER_WORDS_S = 8.0
LATE_AMD_S = 20.0  # a machine found this soon after answer, before any answer, still gets voicemail


class CallOptions(BaseModel):
    """Timers and switches of one call."""

    model_config = ConfigDict(extra="forbid")

    no_input_s: float = Field(5.0, description="caller silence before the no-input line")
    answer_wait_s: float = Field(1.0, description="greet after this much silence at answer")
    answer_pause_s: float = Field(
        0.9,
        description="after a hello, the quiet (from the end of its speech) before greeting: a "
        "machine's greeting goes on within it",
    )
    person_pause_s: float = Field(
        0.35,
        description="the quiet before greeting after words addressed to the caller (who's "
        "calling?, 哪位): a person, so only the end of their turn is waited for",
    )
    short_hello_s: float = Field(
        1.2, description="a hello this short whose words end cleanly gets the short pause"
    )
    short_hello_pause_s: float = Field(
        0.45,
        description="the quiet before greeting after a short, clean hello (from the end of its "
        "speech; chosen on `./dev bench amd --split dev`, see benchmarks/results/greeting.md)",
    )
    short_hello_languages: list[str] = Field(
        default_factory=lambda: ["en"],
        description="languages whose short hellos get the short pause: Mandarin voicemail "
        "greetings open with 您好， and a pause as long as a person's wait (the short pause "
        "spoke to 3 of 12 held-out Mandarin machines), so zh keeps the full pause",
    )
    max_call_s: float = Field(300.0, description="hard deadline: the call is ended")
    amd: bool = Field(True, description="answering-machine detection on the first words")
    barge_in: bool = True
    barge_in_hold_s: float = Field(
        1.0,
        description="caller speech over the bot pauses the line at once; speech this long "
        "cuts it (backchannels are shorter: 'mm-hmm' is ~0.7 s), shorter speech once its "
        "words are known, unless it is a backchannel (uh-huh, okay, 嗯) or has no words: then "
        "the line goes on from where it paused. 0: any speech cuts at once",
    )
    speculate: bool = Field(True, description="speculative ASR decode at the first pause")
    bridge_after_s: float | None = Field(
        0.6,
        gt=0,
        description="a line whose audio is still rendering this long after its turn came is "
        "opened with the script's short bridge phrase (好的 / okay; pre-rendered): a late "
        "render is never a long silence. null: wait in silence",
    )
    sms: Webhook | None = Field(
        None,
        exclude=True,  # its URL may hold tokens: not copied into call reports
        description="where the text messages a script sends (`sms:` nodes) are posted; "
        "without it, nodes that send or promise one are replaced by their `without_sms` node",
    )
    endpoint: EndpointConfig = Field(default_factory=EndpointConfig)
    vad_aggressiveness: int = 2


@dataclass
class CallSetup:
    """What this call is: the script, the contact and who is called."""

    script: Script
    script_path: Path
    contact: dict[str, Any]
    language: str
    call_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    # aware: "tomorrow at three" is read in this zone (a campaign passes the contact's local time)
    started_wall: datetime = field(default_factory=lambda: datetime.now().astimezone())
    persona: str | None = None
    record_to: Path | None = None  # folder for <call_id>.wav (left: bot, right: caller)
    phone: str | None = None  # the number called (PII): a text message's recipient


@dataclass
class CallStages:
    """The loaded stages a call uses (shared across calls of a process)."""

    listener_asr: Any  # WhisperRecognizer
    classifier: IntentClassifier
    tts: TextToSpeech
    models: dict[str, str] = field(default_factory=dict)
    # the same voice stretched by a factor ("speak slower"): loaded on first use, then shared
    slower_tts: Callable[[float], TextToSpeech] | None = None
    # the contact's other personal lines, rendered once a person answered (a task, cancelled
    # at the end), and what is done with them when the call ends (dropped from the cache)
    in_call: Callable[[Clock, dict[str, Any]], Awaitable[None]] | None = None
    ended: Callable[[dict[str, Any]], object] | None = None
    bridge: str | None = None  # the short fixed phrase a late line opens with (pre-rendered)


@dataclass(frozen=True, slots=True)
class MachineBeep:
    """A voicemail beep heard after the bot greeted: a machine was greeted."""

    t: float


@dataclass(frozen=True, slots=True)
class Keypress:
    """A phone key the caller pressed (DTMF)."""

    digit: str
    t: float


class LinePort(Protocol):
    """The media side of a line as the session uses it (loopback and SIP both provide it)."""

    def send(self, frame: AudioFrame) -> None: ...

    def receive(self) -> AudioFrame | None: ...

    def caption(self, caption: Caption) -> None: ...

    def dtmf(self) -> list[str]: ...


class LineControl(Protocol):
    """Call control as the session sees it: hang up, and learn that the far end did."""

    ended: asyncio.Event
    ended_by: str | None

    def hang_up(self, by: str) -> None: ...


class CallSession(ReportActions):
    """One answered call on a line; it is the `ActionSink` of its dialogue's actions."""

    def __init__(
        self,
        setup: CallSetup,
        stages: CallStages,
        port: LinePort,
        control: LineControl,
        clock: Clock,
        agents: AgentPool,
        options: CallOptions | None = None,
        rate: int = 8000,
    ) -> None:
        self.setup, self.stages, self.port, self.control = setup, stages, port, control
        self.clock, self.agents, self.rate = clock, agents, rate
        self.options = options or CallOptions()
        self.events: asyncio.Queue[HeardTurn | Silence | Keypress | MachineBeep] = asyncio.Queue()
        self.listener = Listener(
            stages.listener_asr,
            clock,
            self.options.endpoint,
            self.options.vad_aggressiveness,
            self.options.speculate,
            turns=self.events,
            language=setup.language,
        )
        self.listener.quick_end = False  # until the callee is known to be a person
        self.dialogue = Dialogue(
            setup.script,
            setup.language,
            stages.classifier,
            setup.contact,
            sms=self.options.sms is not None,
        )
        self.playout = Playout(rate, self.options.bridge_after_s or 0.0)
        self.amd = AnsweringMachineDetector(rate)
        self.barge = BargeIn(self.options.barge_in_hold_s, setup.language)
        self._draining = False  # the conversation waits for the lines to play out
        self.report = CallReport(
            call_id=setup.call_id,
            script=setup.script.name,
            script_path=str(setup.script_path),
            language=setup.language,
            transport=type(port).__name__,
            persona=setup.persona,
            contact=dict(setup.contact),
            models=stages.models,
            config=self.options.model_dump(mode="json"),
            started_at=setup.started_wall.isoformat(timespec="seconds"),
        )
        super().__init__(
            self.report,
            lambda kind: self._event(self.clock.now(), kind),
            self.options.sms,
            setup.phone,
        )
        self._replying: Turn | None = None  # the caller turn the actions answer
        self._lines: asyncio.Queue[PlayedLine] = asyncio.Queue()
        self._reply_lines: list[tuple[Turn, PlayedLine]] = []
        self._pending_turns = 0
        self._understanding = False  # a caller turn is being understood: the next move is the bot's
        self._greeted = False
        self._answered = False  # a caller turn (or key) moved the dialogue on: a person answered
        self._answering = True
        self._handoff = False
        self._finished = False
        self._last_activity = 0.0
        self._speech_started_at = 0.0
        self._was_busy = False
        self._audio_in: list[np.ndarray] = []
        self.ear = EarMeter(rate)  # both sides' levels at the bot's port
        self._audio_out: list[np.ndarray] = []
        self._tts = stages.tts  # the voice of this call (slower once the caller asked)
        self._screening_said = False
        self._hello_end: float | None = None  # true end of the callee's last answer words
        # (when its end of turn was confirmed, the true end of speech) of the last speech heard
        self._speech_ended = (0.0, 0.0)
        self._rendering: asyncio.Future[None] | None = None  # the contact's other lines
        self._last_in_t: float | None = None  # timestamp of the last inbound frame
        # the call time up to which the callee's audio has been heard (the media loop's last
        # tick): on a loaded machine the clock runs ahead of the frames processed, and a quiet
        # line or a beep is judged on what was heard, not on the time that has passed
        self._heard_to = 0.0

    # --- the call ----------------------------------------------------------------------------
    async def run(self) -> CallReport:
        tasks = [asyncio.ensure_future(self._conversation()), asyncio.ensure_future(self._speak())]
        try:
            await self._media(tasks)
        finally:
            for task in tasks:
                task.cancel()
            done = await asyncio.gather(*tasks, return_exceptions=True)
            errors = [e for e in done if isinstance(e, Exception)]
            if errors and self.report.error is None:
                self.report.error = repr(errors[0])
                self.report.outcome = Outcome.FAILED
                # the type only: the error's text may quote personal data (it is in the report)
                log.error("call %s failed: %s", self.setup.call_id, type(errors[0]).__name__)
            await self.listener.aclose()
            await self._lines_done()
            self._finish_report()
        return self.report

    async def _lines_done(self) -> None:
        """The call is over: its personal lines stop rendering and leave the cache."""
        if self._rendering is not None:
            self._rendering.cancel()
            await asyncio.gather(self._rendering, return_exceptions=True)
        if self.stages.ended is not None:
            self.stages.ended(self.setup.contact)

    async def _media(self, tasks: list[asyncio.Task[None]]) -> None:
        silence = np.zeros(samples_per_frame(self.rate), np.int16)
        tick = 0
        while True:
            now = tick * FRAME_S
            await self.clock.sleep_until(now)
            tick += 1
            if self._finished or any(t.done() for t in tasks):
                return
            if self.control.ended.is_set():
                self._end(Outcome.HUNG_UP, self.control.ended_by or "callee", now)
                return
            if now >= self.options.max_call_s:
                self._end(Outcome.MAX_DURATION, "deadline", now)
                self.control.hang_up("bot")
                return
            inbound = self.port.receive()
            pcm_in = inbound.pcm if inbound is not None else silence
            # the frame that arrives now holds the last 20 ms of audio: it started a frame ago
            frame_in = AudioFrame(pcm_in, self.rate, now - FRAME_S)
            missing = self._missing(inbound)
            for event in self.listener.push(frame_in, inbound is not None, missing):
                self._on_vad(event, now)
            speaking = self.listener.in_speech and self.listener.vad.endpoint.pause_at is None
            if self.barge.due(now, speaking):
                self._cut(now, "held speech")
            self._resume_if_judged(now)
            if self._answering or self._machine_may_be_greeted(now):
                beeped = self.amd.beep_at
                self.amd.frame(pcm_in, now - FRAME_S)
                if not self._answering and self.amd.beep_at != beeped:
                    self.events.put_nowait(MachineBeep(now))
            for digit in self.port.dtmf():
                self._on_key(digit, now)
            pcm_out = self.playout.next_frame(max(now, self.clock.now()))  # late ticks: real time
            pcm_out = silence if pcm_out is None else pcm_out
            self.port.send(AudioFrame(pcm_out, self.rate, now))
            self.ear.push(pcm_in, pcm_out)
            self._heard_to = now
            if self.setup.record_to is not None:
                self._audio_in.append(pcm_in)
                self._audio_out.append(pcm_out)
            self._silence_timer(now)

    def _missing(self, inbound: AudioFrame | None) -> int:
        """Frames the line lost before this one: the gap in the frames' own timestamps (the
        sender's on a loopback line, like RTP's; arrival times on a SIP line, where a frame
        PJSIP did not deliver in time is a gap).
        A frame that comes after a later one (reordered by jitter) fills a gap counted before:
        -1."""
        if inbound is None:
            return 0
        last = self._last_in_t
        if last is not None and inbound.t < last - FRAME_S / 2:
            return -1
        self._last_in_t = inbound.t
        return 0 if last is None else max(0, round((inbound.t - last) / FRAME_S) - 1)

    def _on_vad(self, event: VadEvent, now: float) -> None:
        if isinstance(event, SpeechStarted):
            self._last_activity = self._speech_started_at = now
            over_bot = self.options.barge_in and self._greeted and self._cuttable()
            if over_bot and self.barge.speech_started(event.t):
                self._cut(now, f"speech at {event.t:.2f}")
            elif over_bot and self.playout.pause(now):  # quiet at once while it is judged
                self._event(now, "paused", f"speech at {event.t:.2f}")
        elif isinstance(event, NoiseIgnored):
            self.barge.clear()
        elif isinstance(event, SpeechEnded):
            self._last_activity = now
            self._speech_ended = (now, event.end)
            self._pending_turns += 1

    def _resume_if_judged(self, now: float) -> None:
        """A paused line goes on once the speech over it was judged not to cut it (a
        backchannel, noise), or when no judgement is still to come (the speech ended and its
        turn, if any, has been taken)."""
        if not self.playout.paused:
            return
        judged = self.barge.onset is None
        nothing_to_come = self._pending_turns == 0 or self._draining
        if judged or (not self.listener.in_speech and nothing_to_come):
            self.barge.clear()
            self.playout.resume()
            self._event(now, "resumed")

    def _cuttable(self) -> bool:
        line = self.playout.current
        return line is not None and line.first_audio_at is not None and not line.protected

    def _cut(self, now: float, why: str) -> None:
        if self.playout.interrupt(now):
            self._event(now, "barge_in", why)

    def _judge_overlap(self, turn: HeardTurn) -> None:
        """A short turn over the bot's line: its words decide whether the line is cut."""
        cut = self.barge.heard(turn.transcript.text, turn.speech_start, turn.transcript.confidence)
        now = round(self.clock.now(), 3)  # the line's end and the timeline event agree exactly
        if cut:
            self._cut(now, "words")
        elif cut is False:
            self._event(now, "backchannel")

    def _on_key(self, digit: str, now: float) -> None:
        self._last_activity = now
        self._event(now, "dtmf")  # the digit itself may be personal (an account number)
        if self._greeted:
            if self.options.barge_in:
                self.playout.interrupt(now)
            self.events.put_nowait(Keypress(digit, now))

    def _silence_timer(self, now: float) -> None:
        busy = self.playout.busy
        if self._was_busy and not busy:
            self._last_activity = now
        self._was_busy = busy
        waiting = (
            self._greeted
            and not busy
            and not self._handoff
            and not self._finished
            and not self._understanding  # a slow reply is no silence of the caller's
        )
        if (
            waiting
            and not self.listener.in_speech
            and self._pending_turns == 0
            and now - self._last_activity >= self.options.no_input_s
        ):
            self._last_activity = now
            self.events.put_nowait(Silence())

    # --- the conversation -----------------------------------------------------------------------
    async def _conversation(self) -> None:
        if not await self._answer():
            return
        self._greeted = True
        await self._carry_out(self.dialogue.start(), None)
        if self.stages.in_call is not None:  # a person: the lines the talk may reach, now
            self._rendering = asyncio.ensure_future(
                self.stages.in_call(self.clock, self.setup.contact)
            )
        while not self._finished:
            event = await self.events.get()
            if isinstance(event, Silence):
                self._event(self.clock.now(), "no_input")
                await self._carry_out(self.dialogue.silence(), None)
                continue
            if isinstance(event, Keypress):
                self._answered = True  # machines press no keys
                await self._carry_out(self.dialogue.keypress(event.digit, self._wall_now()), None)
                continue
            if isinstance(event, MachineBeep):
                if self._machine_may_be_greeted(self.clock.now()):
                    await self._late_machine("beep")
                    return
                continue
            self._pending_turns -= 1
            if self._late_machine_words(event):
                await self._late_machine("greeting phrase")
                return
            self._judge_overlap(event)
            if self._greeting_words(event) and await self._beep_follows():
                await self._late_machine("greeting phrase, then a beep")
                return
            self._understanding = True
            try:
                await self._on_turn(event)
            finally:  # the caller's silence counts from when the bot had understood
                self._understanding = False
                self._last_activity = max(self._last_activity, self._heard_to)

    def _machine_may_be_greeted(self, now: float) -> bool:
        """The bot greeted what it took for a person, and nothing it heard since has been an
        answer yet (words that only got a clarify or a reprompt are none): a beep or a machine's
        words can still show it was a machine."""
        return (
            self.options.amd
            and self._greeted
            and not self._finished
            and not self._answered
            and now < LATE_AMD_S
        )

    def _late_machine_words(self, turn: HeardTurn) -> bool:
        """After the greeting, a turn that is a recording's words (after the tone, 您拨打的), or
        a greeting's words spoken over the bot's first line (a person waits for it to end);
        never with words to the caller ("who's calling?")."""
        if not self._machine_may_be_greeted(self.clock.now()):
            return False
        first = self.playout.lines[0] if self.playout.lines else None
        over_greeting = first is not None and (
            first.ended_at is None or turn.speech_start < first.ended_at
        )
        text = turn.transcript.text
        words = " ".join([*self.amd.heard, text])
        if judge(words, self.amd.spoke_s + turn.speech_s, False) is not Verdict.MACHINE:
            return False
        return over_greeting or is_recording(text)

    def _greeting_words(self, turn: HeardTurn) -> bool:
        """A first answer that sounds like a voicemail greeting ("I can't take your call",
        不方便接听) but is no proof of one: a person may say it too."""
        if not self._machine_may_be_greeted(self.clock.now()):
            return False
        words = " ".join([*self.amd.heard, turn.transcript.text])
        return judge(words, self.amd.spoke_s + turn.speech_s, False) is Verdict.MACHINE

    async def _beep_follows(self) -> bool:
        """After words like a greeting's: a beep within the next moments makes it a machine
        (a person's line does not beep); a quiet moment without one, and the words are the
        person's answer. The reply waits at most that moment."""
        deadline = self.clock.now() + BEEP_AFTER_WORDS_S
        while self.clock.now() < deadline and not self.control.ended.is_set():
            heard = self._heard_to
            if self.amd.beep_at is not None:
                return True
            if (
                not self.listener.in_speech
                and not self.amd.beeps.sounding
                and heard - self._last_activity >= BEEP_QUIET_S
            ):
                return False
            await self.clock.sleep(FRAME_S)
        return False

    async def _late_machine(self, why: str) -> None:
        """A machine was greeted: the greeting is cut and the script's voicemail handling
        follows (the message after the beep, or a hang-up)."""
        now = self.clock.now()
        self.playout.stop(now)
        self._event(now, "answering_machine", f"late: {why}")
        self._answering = True
        self._last_activity = now
        await self._voicemail()

    async def _answer(self) -> bool:
        """Greet once the callee said hello and paused, or stayed silent a moment. A machine
        (its phrases, a long greeting, a beep) gets the script's voicemail handling instead."""
        while True:
            self._take_answer_turns()
            now = self.clock.now()
            talking = now - self._speech_started_at if self.listener.in_speech else 0.0
            if self.options.amd and self.amd.screening():
                await self._screened(now)
                continue
            if self.options.amd and self.amd.machine(talking):
                self._event(now, "answering_machine", self.amd.reason(talking))
                await self._voicemail()
                return False
            # a tone sounding is no quiet line: it may be the beep (VAD need not call it speech)
            quiet = (
                not self.listener.in_speech
                and self._pending_turns == 0
                and not self.amd.beeps.sounding
            )
            pause = self._answer_pause()
            if self._screening_said and not self.amd.spoke_s:
                pause = SCREENED_WAIT_S  # screened: the person picks up, or the line is quiet
            heard = self._heard_to
            if (
                quiet
                and heard >= self.options.answer_wait_s
                and heard - self._quiet_since() >= pause
            ):
                if self.amd.spoke_s:
                    self._event(now, "answered_by_voice", f"{self.amd.spoke_s:.1f}s")
                    self.report.hello_end_at = self._hello_end
                self._answering = False
                self.listener.quick_end = True
                return True
            await self.clock.sleep(FRAME_S)

    def _quiet_since(self) -> float:
        """When the line went quiet: the true end of the callee's last speech when that was the
        last thing that happened (its end-of-turn hangover is part of the quiet), else the last
        activity (a line the bot played, a key)."""
        confirmed_at, end = self._speech_ended
        return end if self._last_activity == confirmed_at else self._last_activity

    def _answer_pause(self) -> float:
        """No pause at a silent answer; the least after words addressed to the caller ("who's
        calling?", 哪位: a person, whatever follows); a short one after one short hello whose
        words end cleanly or were lost ("Hello?": a machine's first sentence is longer; not in
        Mandarin, where a machine's 您好， is as short);
        the full pause after anything longer or unfinished."""
        if not self.amd.spoke_s:
            return 0.0
        o = self.options
        heard = self.amd.heard
        if heard and addressed_to_caller(" ".join(heard)):
            return o.person_pause_s
        clean = len(heard) <= 1 and all(
            completion(words, self.setup.language) is Completion.COMPLETE for words in heard
        )
        short = self.amd.spoke_s <= o.short_hello_s
        language = self.setup.language.split("-")[0]
        quick = clean and short and language in o.short_hello_languages
        return o.short_hello_pause_s if quick else o.answer_pause_s

    def _take_answer_turns(self) -> None:
        while not self.events.empty():
            turn = self.events.get_nowait()
            if isinstance(turn, HeardTurn):
                self._pending_turns -= 1
                self.amd.turn(turn.transcript.text, turn.speech_end - turn.speech_start)
                self._hello_end = turn.speech_end

    async def _screened(self, now: float) -> None:
        """A call-screening assistant asked who is calling: the script's screening line (once),
        then the person is waited for; the screener's hold messages are heard out the same way."""
        self._event(now, "call_screening")
        if not self._screening_said:
            self._screening_said = True
            await self._carry_out(self.dialogue.screening(), None)
            await self._idle()
        self.amd = AnsweringMachineDetector(self.rate)
        self._last_activity = self.clock.now()

    async def _voicemail(self) -> None:
        """Leave the script's message once the greeting is over (the beep, or a quiet moment)
        and the message is rendered in full (rendered while the number rang, or now: a late
        render leaves a moment more of quiet before the message, never a gap inside it), or
        just hang up."""
        actions = self.dialogue.voicemail()
        if any(isinstance(a, Say) for a in actions):
            texts = [a.text for a in actions if isinstance(a, Say) and not a.audio]
            tts = self.stages.tts
            rendering = asyncio.ensure_future(self.clock.run_blocking(tts.prerender, texts, True))
            try:
                await self._after_greeting(self.setup.script.voicemail.wait_beep_s)
                await rendering
            finally:
                rendering.cancel()
            self._event(self.clock.now(), "voicemail_message")
        await self._carry_out(actions, None)

    async def _after_greeting(self, wait_s: float, quiet_s: float = 2.0) -> None:
        deadline = self.clock.now() + wait_s
        while self.clock.now() < deadline and not self.control.ended.is_set():
            self._take_answer_turns()
            heard = self._heard_to  # the quiet and the beep as heard, however late the clock
            if not self.listener.in_speech and (
                (self.amd.beep_at is not None and heard - self.amd.beep_at >= 0.3)
                or heard - self._last_activity >= quiet_s
            ):
                return
            await self.clock.sleep(FRAME_S)

    async def _on_turn(self, turn: HeardTurn) -> None:
        turn = await self.listener.expecting(turn, self.dialogue.expected())
        text = turn.transcript.text
        if not text and not self.dialogue.ended and (turn.words_lost or line_trouble(turn)):
            self._event(self.clock.now(), "not_understood", turn.transcript.dropped)
            actions = self.dialogue.unheard(turn.speech_s, turn.audibility, turn.line_loss)
            await self._carry_out(actions, None)
            return
        if not text or self.dialogue.ended:
            self._event(self.clock.now(), "noise" if not text else "late_turn")
            return
        node = self.dialogue.state.node if self.dialogue.state else ""
        bot_speaking = self.playout.busy
        result = await self.clock.run_blocking(self.stages.classifier.classify, text)
        intent_at = self.clock.now()
        actions = self.dialogue.heard(
            text, result, self._wall_now(), turn.transcript, turn.audibility, turn.line_loss
        )
        state = self.dialogue.state
        if state is None or state.ended or state.node != node:
            self._answered = True  # not a clarify or a reprompt: the words were an answer
        latency = TurnLatency(
            speech_start=turn.speech_start,
            speech_end=turn.speech_end,
            endpoint_at=turn.endpoint_at,
            asr_final_at=turn.asr_final_at,
            intent_at=intent_at,
            policy_at=self.clock.now(),
            speculative=turn.speculative,
            bot_was_speaking=bot_speaking,
        )
        record = Turn(
            text=text,
            asr_confidence=turn.transcript.confidence,
            intent=result.intent,
            confidence=result.confidence,
            runners_up=list(result.runners_up),
            node=node,
            latency=latency,
            speech_dbfs=round(turn.level.speech_dbfs, 1) if turn.level else None,
            snr_db=round(turn.level.snr_db, 1) if turn.level else None,
            line_loss=round(turn.line_loss, 3),
        )
        self.report.turns.append(record)
        await self._carry_out(actions, record)

    async def _carry_out(self, actions: list[Action], turn: Turn | None) -> None:
        outer, self._replying = self._replying, turn  # a hand-off's own actions nest inside
        try:
            await carry_out(actions, self)
        finally:
            self._replying = outer

    # --- the ActionSink (answers, grade, callback and do-not-call: ReportActions) --------------
    async def say(self, action: Say) -> None:
        line = self._play(action)
        turn = self._replying
        if turn is not None and not any(t is turn for t, _ in self._reply_lines):
            self._reply_lines.append((turn, line))

    async def hang_up(self, action: HangUp) -> None:
        await self._idle()
        self._end(action.outcome, "bot", self.clock.now())
        self.control.hang_up("bot")

    def _play(self, action: Say) -> PlayedLine:
        now = self.clock.now()
        line = self.playout.add(action.node, action.text, action.protected, now)
        if action.audio:
            pcm, _ = read_wav(self.setup.script_path.parent / action.audio, rate=self.rate)
            line.audio.append(trim_leading(pcm, self.rate))
            line.synthesised = True
        else:
            line.bridge = self._bridge(action.text)
            self._lines.put_nowait(line)
        self.listener.recognizer.context = action.text
        state = self.dialogue.state
        ask = self.setup.script.nodes[state.node].ask if state and not state.ended else None
        self.port.caption(Caption(now, action.node, action.text, ask.slot if ask else None))
        return line

    def _bridge(self, text: str) -> np.ndarray | None:
        """The bridge phrase's audio for a line not yet rendered in full (played only if its
        first audio is late), when bridges are on and the phrase is rendered."""
        bridge = self.stages.bridge
        if bridge is None or self.options.bridge_after_s is None or self._tts.ready(text):
            return None
        return self._tts.cached(bridge)

    async def slow_down(self, action: SlowDown) -> None:
        await super().slow_down(action)
        if self.stages.slower_tts is not None:
            self._tts = await self.clock.run_blocking(self.stages.slower_tts, action.factor)

    async def transfer(self, action: Transfer) -> None:
        self._handoff = True
        await self._idle()
        self._event(self.clock.now(), "transfer", action.reason)
        connected = await self.agents.transfer(action.reason, action.summary)
        self.report.transfer = {
            "reason": action.reason,
            "summary": action.summary,
            "connected": connected,
        }
        self._handoff = False
        await self._carry_out(self.dialogue.handoff(connected), None)

    async def _idle(self) -> None:
        """Wait until every queued line has been played (bounded by the call deadline). No
        turn is taken meanwhile, so a line paused for speech goes on once the speech ends."""
        self._draining = True
        try:
            while self.playout.busy and not self.control.ended.is_set():
                await self.clock.sleep(FRAME_S)
        finally:
            self._draining = False

    async def _speak(self) -> None:
        while True:
            line = await self._lines.get()
            try:
                if line.interrupted_at is None:
                    async for pcm in self._tts.stream(line.text, self.clock.run_blocking):
                        if line.interrupted_at is not None:
                            break
                        line.audio.append(pcm)
            finally:
                line.synthesised = True

    # --- bookkeeping -------------------------------------------------------------------------
    def _end(self, outcome: Outcome, by: str, now: float) -> None:
        if not self._finished:
            self._finished = True
            self.report.outcome, self.report.ended_by = outcome, by
            self._event(now, "end", outcome)
            log.debug("call %s ended: %s by %s at %.1f s", self.setup.call_id, outcome, by, now)

    def _event(self, t: float, kind: str, detail: str = "") -> None:
        self.report.timeline.append(TimelineEvent(t=round(t, 3), kind=kind, detail=detail))

    def _wall_now(self) -> datetime:
        return self.setup.started_wall + timedelta(seconds=self.clock.now())

    def _finish_report(self) -> None:
        report = self.report
        report.duration_s = round(self.clock.now(), 3)
        report.ear = self.ear.gaps()
        for turn, line in self._reply_lines:
            turn.latency.first_audio_at = line.first_audio_at
        report.bot_lines = [
            BotLine(
                node=line.node,
                text=line.text,
                queued_at=line.queued_at,
                first_audio_at=line.first_audio_at,
                ended_at=line.ended_at,
                interrupted=line.interrupted_at is not None,
                paused_at=list(line.paused_at),
            )
            for line in self.playout.lines
        ]
        state = self.dialogue.state
        report.path = list(state.path) if state else []
        if self.setup.record_to is not None and self._audio_in:
            stereo = np.stack([np.concatenate(self._audio_out), np.concatenate(self._audio_in)], 1)
            self.setup.record_to.mkdir(parents=True, exist_ok=True)
            write_wav(self.setup.record_to / f"{self.setup.call_id}.wav", stereo, self.rate)
