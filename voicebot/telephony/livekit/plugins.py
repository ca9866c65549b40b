"""The voicebot stages as livekit-agents plugins, so an `AgentSession` runs the same engine:

- `WebRtcVAD` (vad.VAD): webrtcvad frames into voicebot's end-of-turn state machine;
- `WhisperSTT` (stt.STT): streaming input, one final transcript per caller turn (faster-whisper
  with the hallucination filter, the bot's question as decoder context);
- `PiperTTS` (tts.TTS): streaming, sentence by sentence, through the pre-rendered line cache;
- `ScriptLLM` (llm.LLM): the script policy. It says only the script's lines; a hand-off and the
  end of the call come out as tool calls (`transfer_to_agent`, `end_call`) that `ScriptAgent`
  carries out.

Options that lean on LiveKit Cloud are pinned off by `session_options()`: VAD turn detection and
VAD interruptions, no cloud turn detector, no cloud AMD, no preemptive generation."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from voicebot.telephony.livekit import require

require("livekit.agents")

from livekit import rtc  # noqa: E402
from livekit.agents import (  # noqa: E402
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    Agent,
    AgentSession,
    APIConnectOptions,
    NotGivenOr,
    RunContext,
    function_tool,
    llm,
    stt,
    tts,
    vad,
)

from voicebot.audio.frames import AudioFrame as PcmFrame  # noqa: E402
from voicebot.audio.frames import samples_per_frame  # noqa: E402
from voicebot.audio.resample import resample  # noqa: E402
from voicebot.policy.actions import (  # noqa: E402
    Action,
    HangUp,
    MarkDnc,
    Say,
    ScheduleCallback,
    SetGrade,
    Transfer,
)
from voicebot.policy.schema import Script  # noqa: E402
from voicebot.session.dialogue import Dialogue  # noqa: E402
from voicebot.tts.stage import LineCache, TextToSpeech  # noqa: E402
from voicebot.tts.voices import split_sentences  # noqa: E402
from voicebot.vad.endpoint import EndpointConfig, NoiseIgnored, SpeechEnded, SpeechStarted  # noqa: E402
from voicebot.vad.webrtc import VoiceActivity  # noqa: E402

VAD_RATE = 16000
WEBRTC_RATES = (8000, 16000, 32000, 48000)


def session_options() -> dict[str, Any]:
    """AgentSession keyword arguments that keep everything local (no LiveKit Cloud models)."""
    return {
        "turn_handling": {
            "turn_detection": "vad",
            "interruption": {"mode": "vad", "min_duration": 0.3},
            "preemptive_generation": {"enabled": False},
            "endpointing": {"min_delay": 0.1, "max_delay": 1.0},
        },
        "user_away_timeout": None,
    }


def script_session(trial: Any, script_llm: ScriptLLM) -> AgentSession[Any]:
    """An AgentSession on a loaded script's stages (`trial`: a voicebot Trial), local only."""
    stt_ = WhisperSTT(trial.stages.listener_asr, trial.language, lambda: script_llm.last_line)
    return AgentSession(vad=WebRtcVAD(), stt=stt_, tts=PiperTTS(trial.tts), **session_options())


def mono16(frame: rtc.AudioFrame) -> np.ndarray:
    pcm = np.frombuffer(frame.data, np.int16)
    if frame.num_channels > 1:
        pcm = pcm.reshape(-1, frame.num_channels)[:, 0]
    return pcm.copy()


def to_frame(pcm: np.ndarray, rate: int) -> rtc.AudioFrame:
    return rtc.AudioFrame(pcm.astype(np.int16).tobytes(), rate, 1, len(pcm))


# --- VAD ----------------------------------------------------------------------------------------
class WebRtcVAD(vad.VAD):
    def __init__(self, aggressiveness: int = 2, endpoint: EndpointConfig | None = None) -> None:
        super().__init__(capabilities=vad.VADCapabilities(update_interval=0.02))
        self.aggressiveness, self.endpoint = aggressiveness, endpoint or EndpointConfig()

    @property
    def model(self) -> str:
        return "webrtcvad"

    @property
    def provider(self) -> str:
        return "voicebot"

    def stream(self) -> _VADStream:
        return _VADStream(self)


class _Segmenter:
    """webrtcvad + end-of-turn over any input rate: 20 ms frames, speech runs with their audio."""

    def __init__(self, aggressiveness: int, endpoint: EndpointConfig) -> None:
        self.activity = VoiceActivity(endpoint, aggressiveness)
        self.preroll: deque[np.ndarray] = deque(maxlen=max(1, endpoint.start_ms // 20 + 5))
        self.speech: list[np.ndarray] = []
        self.rate = 0
        self.t = 0.0
        self.samples = 0
        self.speaking = False
        self.speech_since = self.silence_since = 0.0
        self._buffer = np.zeros(0, np.int16)

    def push(self, pcm: np.ndarray, rate: int) -> list[tuple[Any, np.ndarray]]:
        """(event or None, the 20 ms frame) for every whole frame in `pcm`."""
        if rate not in WEBRTC_RATES:
            pcm, rate = resample(pcm, rate, VAD_RATE), VAD_RATE
        if rate != self.rate:
            self.rate, self._buffer = rate, np.zeros(0, np.int16)
        self._buffer = np.concatenate([self._buffer, pcm])
        n = samples_per_frame(rate)
        out: list[tuple[Any, np.ndarray]] = []
        while len(self._buffer) >= n:
            chunk, self._buffer = self._buffer[:n], self._buffer[n:]
            events = self.activity.push(PcmFrame(chunk, rate, self.t))
            self.t += 0.02
            self.samples += n
            self.preroll.append(chunk)
            if self.speaking:
                self.speech.append(chunk)
            for event in events:
                if isinstance(event, SpeechStarted):
                    self.speaking, self.speech_since = True, event.t
                    self.speech = list(self.preroll)
                elif isinstance(event, SpeechEnded | NoiseIgnored):
                    self.speaking, self.silence_since = False, event.end
                out.append((event, chunk))
            if not events:
                out.append((None, chunk))
        return out


class _VADStream(vad.VADStream):
    async def _main_task(self) -> None:
        owner: WebRtcVAD = self._vad  # type: ignore[assignment]
        seg = _Segmenter(owner.aggressiveness, owner.endpoint)
        async for item in self._input_ch:
            if isinstance(item, self._FlushSentinel):
                seg = _Segmenter(owner.aggressiveness, owner.endpoint)
                continue
            for event, chunk in seg.push(mono16(item), item.sample_rate):
                self._emit(seg, event, chunk)

    def _emit(self, seg: _Segmenter, event: Any, chunk: np.ndarray) -> None:
        speaking = seg.speaking or isinstance(event, SpeechEnded | NoiseIgnored)
        speech_s = seg.t - seg.speech_since if seg.speaking else 0.0
        silence_s = 0.0 if seg.activity.in_speech else seg.t - seg.silence_since
        index, now = seg.samples, time.time()
        if isinstance(event, SpeechStarted):
            frames = [to_frame(c, seg.rate) for c in seg.speech]
            self._event_ch.send_nowait(vad.VADEvent(
                type=vad.VADEventType.START_OF_SPEECH, speech_duration=speech_s, frames=frames,
                speaking=True, samples_index=index, timestamp=now,
                silence_duration=silence_s))  # fmt: skip
        elif isinstance(event, SpeechEnded | NoiseIgnored) and speaking:
            frames = [to_frame(c, seg.rate) for c in seg.speech]
            self._event_ch.send_nowait(vad.VADEvent(
                type=vad.VADEventType.END_OF_SPEECH, speech_duration=event.end - event.start,
                frames=frames, speaking=False, samples_index=index, timestamp=now,
                silence_duration=silence_s))  # fmt: skip
        self._event_ch.send_nowait(vad.VADEvent(
            type=vad.VADEventType.INFERENCE_DONE, speech_duration=speech_s,
            frames=[to_frame(chunk, seg.rate)], probability=1.0 if seg.speaking else 0.0,
            speaking=seg.speaking, raw_accumulated_speech=speech_s,
            raw_accumulated_silence=silence_s, samples_index=index, timestamp=now,
            silence_duration=silence_s))  # fmt: skip


# --- STT ----------------------------------------------------------------------------------------
class WhisperSTT(stt.STT):
    """`recognizer`: a voicebot WhisperRecognizer; `context`: what the caller is answering."""

    def __init__(self, recognizer: Any, language: str = "en",
                 context: Callable[[], str] | None = None, aggressiveness: int = 2,
                 endpoint: EndpointConfig | None = None) -> None:  # fmt: skip
        super().__init__(capabilities=stt.STTCapabilities(streaming=True, interim_results=False))
        self.recognizer, self.language = recognizer, language
        self.context = context or (lambda: "")
        self.aggressiveness, self.endpoint = aggressiveness, endpoint or EndpointConfig()

    @property
    def model(self) -> str:
        return "faster-whisper"

    @property
    def provider(self) -> str:
        return "voicebot"

    def transcribe(self, pcm: np.ndarray, rate: int) -> stt.SpeechEvent:
        result = self.recognizer.transcribe(resample(pcm, rate, 16000), self.context())
        data = stt.SpeechData(language=self.language, text=result.text,  # type: ignore[arg-type]
                              confidence=result.confidence)  # fmt: skip
        return stt.SpeechEvent(type=stt.SpeechEventType.FINAL_TRANSCRIPT, alternatives=[data])

    async def _recognize_impl(self, buffer: Any, *, language: NotGivenOr[str] = NOT_GIVEN,
                              conn_options: APIConnectOptions) -> stt.SpeechEvent:  # fmt: skip
        frames = buffer if isinstance(buffer, list) else [buffer]
        rate = frames[0].sample_rate if frames else 16000
        pcm = np.concatenate([mono16(f) for f in frames]) if frames else np.zeros(0, np.int16)
        return await asyncio.to_thread(self.transcribe, pcm, rate)

    def stream(
        self, *, language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    ) -> _STTStream:  # fmt: skip
        return _STTStream(stt=self, conn_options=conn_options)


class _STTStream(stt.RecognizeStream):
    """Audio in as it comes; at each end of turn, one decode and a final transcript."""

    async def _run(self) -> None:
        owner: WhisperSTT = self._stt  # type: ignore[assignment]
        seg = _Segmenter(owner.aggressiveness, owner.endpoint)
        pending: set[asyncio.Task[None]] = set()
        async for item in self._input_ch:
            if isinstance(item, self._FlushSentinel):
                continue
            for event, _chunk in seg.push(mono16(item), item.sample_rate):
                if isinstance(event, SpeechStarted):
                    self._event_ch.send_nowait(
                        stt.SpeechEvent(type=stt.SpeechEventType.START_OF_SPEECH)
                    )
                elif isinstance(event, SpeechEnded):
                    audio = np.concatenate(seg.speech)
                    pending.add(asyncio.ensure_future(self._final(owner, audio, seg.rate)))
                elif isinstance(event, NoiseIgnored):
                    self._event_ch.send_nowait(
                        stt.SpeechEvent(type=stt.SpeechEventType.END_OF_SPEECH)
                    )
        await asyncio.gather(*pending)

    async def _final(self, owner: WhisperSTT, audio: np.ndarray, rate: int) -> None:
        event = await asyncio.to_thread(owner.transcribe, audio, rate)
        if event.alternatives and event.alternatives[0].text:
            self._event_ch.send_nowait(event)
        self._event_ch.send_nowait(stt.SpeechEvent(type=stt.SpeechEventType.END_OF_SPEECH))


# --- TTS ----------------------------------------------------------------------------------------
class PiperTTS(tts.TTS):
    """`speech`: a voicebot TextToSpeech (piper, with the pre-rendered line cache)."""

    def __init__(self, speech: TextToSpeech) -> None:
        super().__init__(capabilities=tts.TTSCapabilities(streaming=True),
                         sample_rate=speech.rate, num_channels=1)  # fmt: skip
        self.speech = speech

    @property
    def model(self) -> str:
        return "piper"

    @property
    def provider(self) -> str:
        return "voicebot"

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> _Chunked:
        return _Chunked(tts=self, input_text=text, conn_options=conn_options)

    def stream(
        self, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> _TTSStream:
        return _TTSStream(tts=self, conn_options=conn_options)

    async def render(self, sentence: str) -> bytes:
        """One sentence: from the pre-rendered line cache, or synthesised off the loop."""
        key = LineCache.key(self.speech.voice.name, self.speech.rate, sentence)
        pcm = self.speech.cache.get(key)
        if pcm is None:
            pcm = await asyncio.to_thread(self.speech.render, sentence)
        return np.asarray(pcm, np.int16).tobytes()


class _Chunked(tts.ChunkedStream):
    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        owner: PiperTTS = self._tts  # type: ignore[assignment]
        output_emitter.initialize(request_id=uuid.uuid4().hex, sample_rate=owner.sample_rate,
                                  num_channels=1, mime_type="audio/pcm")  # fmt: skip
        for sentence in split_sentences(self._input_text):
            output_emitter.push(await owner.render(sentence))
        output_emitter.flush()


class _TTSStream(tts.SynthesizeStream):
    """Text arrives in pieces; each sentence is synthesised as soon as it is complete."""

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        owner: PiperTTS = self._tts  # type: ignore[assignment]
        output_emitter.initialize(request_id=uuid.uuid4().hex, sample_rate=owner.sample_rate,
                                  num_channels=1, mime_type="audio/pcm", stream=True)  # fmt: skip
        output_emitter.start_segment(segment_id=uuid.uuid4().hex)
        text = ""
        async for piece in self._input_ch:
            if isinstance(piece, self._FlushSentinel):
                for sentence in split_sentences(text):
                    output_emitter.push(await owner.render(sentence))
                text = ""
                output_emitter.flush()
                continue
            text += piece
            sentences = split_sentences(text)
            for sentence in sentences[:-1]:  # the last one may still grow
                output_emitter.push(await owner.render(sentence))
            text = sentences[-1] if sentences else ""
        for sentence in split_sentences(text):
            output_emitter.push(await owner.render(sentence))
        output_emitter.end_segment()


# --- the script policy as an LLM ----------------------------------------------------------------
@dataclass
class ScriptState:
    """What the script did in this conversation (the engine's call report, in short)."""

    lines: list[tuple[str, str]] = field(default_factory=list)  # (node, text) said
    turns: list[tuple[str, str, float]] = field(default_factory=list)  # (text, intent, conf)
    transfer: dict[str, str] | None = None
    grade: str | None = None
    callback_at: datetime | None = None
    callback_requested: bool = False
    dnc: bool = False

    def note(self, actions: list[Action]) -> list[Action]:
        """Keep what the actions say about the call; returns them unchanged."""
        for action in actions:
            if isinstance(action, Say):
                self.lines.append((action.node, action.text))
            elif isinstance(action, SetGrade):
                self.grade = action.grade
            elif isinstance(action, ScheduleCallback):
                self.callback_requested, self.callback_at = True, action.when
            elif isinstance(action, MarkDnc):
                self.dnc = True
            elif isinstance(action, Transfer):
                self.transfer = {"reason": action.reason, "summary": action.summary}
        return actions


class ScriptLLM(llm.LLM):
    """The script policy behind the LLM interface: the reply to the caller's last message is
    the script's lines for it, and hand-off / hang-up are tool calls."""

    def __init__(
        self, script: Script, language: str, classifier: Any, contact: dict[str, Any],
        now: Callable[[], datetime] = datetime.now,
    ) -> None:  # fmt: skip
        super().__init__()
        self.script, self.now = script, now
        self.dialogue = Dialogue(script, language, classifier, contact)
        self.state = ScriptState()
        self._started = False
        self._answered: set[str] = set()  # ids of the user messages already replied to

    @property
    def model(self) -> str:
        return f"script:{self.script.name}"

    @property
    def provider(self) -> str:
        return "voicebot"

    @property
    def last_line(self) -> str:
        return self.state.lines[-1][1] if self.state.lines else ""

    def chat(self, *, chat_ctx: llm.ChatContext, tools: list[Any] | None = None,
             conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
             **_: Any) -> _ScriptStream:  # fmt: skip
        return _ScriptStream(self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options)

    def respond(self, chat_ctx: llm.ChatContext) -> list[Action]:
        if not self._started:
            self._started = True
            return self.dialogue.start()
        if self.dialogue.ended:
            return []
        user = next((item for item in reversed(chat_ctx.items)
                     if item.type == "message" and item.role == "user"), None)  # fmt: skip
        if user is None or user.id in self._answered:
            return []  # e.g. the framework asking again after a tool ran: nothing new to say
        self._answered.add(user.id)
        reply = self.dialogue.hear(user.text_content or "", self.now())
        if reply.understood is not None:
            result = reply.understood
            self.state.turns.append((reply.heard, result.intent, result.confidence))
        return reply.actions

    def handoff(self, connected: bool) -> list[Action]:
        return self.state.note(self.dialogue.handoff(connected))

    def keypress(self, digit: str) -> list[Action]:
        return self.state.note(self.dialogue.keypress(digit, self.now()))


class _ScriptStream(llm.LLMStream):
    async def _run(self) -> None:
        owner: ScriptLLM = self._llm  # type: ignore[assignment]
        actions = owner.state.note(owner.respond(self.chat_ctx))
        chunk_id = uuid.uuid4().hex
        text = [a for a in actions if isinstance(a, Say)]
        if text:
            content = " ".join(a.text for a in text)
            self._event_ch.send_nowait(llm.ChatChunk(
                id=chunk_id, delta=llm.ChoiceDelta(role="assistant", content=content)))  # fmt: skip
        calls = []
        for action in actions:
            if isinstance(action, Transfer):
                calls.append(("transfer_to_agent", {"reason": action.reason}))
            elif isinstance(action, HangUp):
                calls.append(("end_call", {"outcome": action.outcome}))
        if calls:
            self._event_ch.send_nowait(llm.ChatChunk(id=chunk_id, delta=llm.ChoiceDelta(
                role="assistant", tool_calls=[
                    llm.FunctionToolCall(name=name, arguments=json.dumps(args),
                                         call_id=f"call_{uuid.uuid4().hex[:8]}")
                    for name, args in calls]),
            ))  # fmt: skip


# --- the agent ----------------------------------------------------------------------------------
Transferrer = Callable[[str, str], Awaitable[bool]]  # (reason, summary) -> connected
Ender = Callable[[str], Awaitable[None]]  # outcome -> hang up


class ScriptAgent(Agent):
    """Greets with the script's opening and carries out its tool calls: `transfer` asks the
    transport to hand the caller to a human; `end` hangs up once the last line is heard."""

    def __init__(self, script_llm: ScriptLLM, transfer: Transferrer | None = None,
                 end: Ender | None = None) -> None:  # fmt: skip
        super().__init__(instructions=f"Follow the call script {script_llm.script.name}.",
                         llm=script_llm)  # fmt: skip
        self.script_llm = script_llm
        self._transfer, self._end = transfer, end
        self.outcome: str | None = None
        self._ending: asyncio.Future[None] | None = None

    async def on_enter(self) -> None:
        self.session.generate_reply()

    @function_tool
    async def transfer_to_agent(self, context: RunContext, reason: str) -> None:
        """Hand the caller to a human agent (the script decided it)."""
        await context.wait_for_playout()
        summary = (self.script_llm.state.transfer or {}).get("summary", "")
        connected = await self._transfer(reason, summary) if self._transfer else False
        handles = []
        for line in [a for a in self.script_llm.handoff(connected) if isinstance(a, Say)]:
            handles.append(self.session.say(line.text))
        if self.script_llm.dialogue.ended:  # e.g. "connecting you now": hang up once it is said
            outcome = str(self.script_llm.dialogue.ended)
            self._ending = asyncio.ensure_future(self._finish(outcome, handles))

    @function_tool
    async def end_call(self, context: RunContext, outcome: str) -> None:
        """End the call: the script reached its closing."""
        await context.wait_for_playout()
        await self._finish(outcome, [])

    async def _finish(self, outcome: str, handles: list[Any]) -> None:
        for handle in handles:  # not awaited inside the tool: speech waits for the tool
            await handle.wait_for_playout()
        self.outcome = outcome
        if self._end is not None:
            await self._end(outcome)
