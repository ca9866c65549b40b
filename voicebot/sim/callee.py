"""A simulated callee on the far end of a loopback line: answers, listens for the bot to finish
(captions tell it what was asked), thinks, then speaks a persona reply as real synthesised
speech through an 8 kHz mu-law phone channel."""

from __future__ import annotations

from collections import deque

import numpy as np

from voicebot.audio.frames import AudioFrame, samples_per_frame, split_frames
from voicebot.audio.g711 import ulaw_decode, ulaw_encode
from voicebot.audio.resample import resample
from voicebot.core.clock import Clock
from voicebot.sim.persona import Persona
from voicebot.telephony.loopback import Caption, LoopbackLine
from voicebot.tts.voices import Voice

FRAME_S = 0.02
_BOT_SPEECH_RMS = 200.0


class CalleeVoice:
    """A persona's voice at the line rate, through mu-law, with rendered replies cached."""

    def __init__(self, voice: Voice, rate: int = 8000) -> None:
        self.voice, self.rate = voice, rate
        self._cache: dict[str, np.ndarray] = {}

    def render(self, text: str) -> np.ndarray:
        if text not in self._cache:
            pcm = resample(self.voice.synthesize(text), self.voice.sample_rate, self.rate)
            self._cache[text] = ulaw_decode(ulaw_encode(pcm))
        return self._cache[text]


class SimulatedCallee:
    def __init__(
        self, persona: Persona, language: str, line: LoopbackLine, voice: CalleeVoice, clock: Clock
    ) -> None:
        self.persona, self.language, self.line = persona, language, line
        self.voice, self.clock = voice, clock
        self.port = line.callee
        self.said: list[tuple[float, str]] = []
        self._out: deque[np.ndarray] = deque()
        self._caption: Caption | None = None
        self._answered_caption: Caption | None = None
        self._bot_audio_at = -1.0
        self._bot_started_at: float | None = None
        self._replies: dict[str, int] = {}
        self._quiet = persona.quiet_dbfs  # until the bot asks to speak up

    async def run(self) -> None:
        silence = np.zeros(samples_per_frame(self.line.rate), np.int16)
        tick = 0
        screener = self.persona.screener.get(self.language)
        if hello := screener or self.persona.hello.get(self.language):
            await self._speak(hello, delay_s=0.3)
            if (more := self.persona.hello_then.get(self.language)) and not screener:
                await self._speak(more, delay_s=self.persona.hello_gap_s)  # no wait for the bot
            if self.persona.greeting_beep:
                self._out.extend(f.pcm for f in split_frames(_beep(self.line.rate), self.line.rate))
        while not self.line.ended.is_set():
            now = tick * FRAME_S
            await self.clock.sleep_until(now)
            tick += 1
            self._listen(now)
            if not self._out and self._should_answer(now):
                await self._answer()
            pcm = self._out.popleft() if self._out else silence
            self.port.send(AudioFrame(pcm, self.line.rate, now))

    def _listen(self, now: float) -> None:
        while not self.port.captions.empty():
            self._caption = self.port.captions.get_nowait()
            self._bot_started_at = None
            if self._caption.node == "speak_up":
                self._quiet = None
        frame = self.port.receive()
        if (
            frame is not None
            and np.sqrt(np.mean(frame.pcm.astype(np.float32) ** 2)) > _BOT_SPEECH_RMS
        ):
            self._bot_audio_at = now
            if self._bot_started_at is None:
                self._bot_started_at = now

    def _should_answer(self, now: float) -> bool:
        caption = self._caption
        if caption is None or caption is self._answered_caption:
            return False
        barge, started = self.persona.barge_in_after_s, self._bot_started_at
        if barge is not None and started is not None and now - started >= barge:
            return True
        bot_done = (
            self._bot_audio_at >= caption.t and now - self._bot_audio_at >= self.persona.think_s
        )
        return bot_done

    async def _answer(self) -> None:
        caption = self._caption
        assert caption is not None
        self._answered_caption = caption
        if caption.node == "screening":  # the bot answered the screener: the person picks up
            if hello := self.persona.hello.get(self.language):
                await self._speak(hello, delay_s=0.8)
            return
        cue = "identity" if not self._replies else (caption.expects or "default")
        reply = self.persona.reply(self.language, cue, self._replies.get(cue, 0))
        self._replies[cue] = self._replies.get(cue, 0) + 1
        if reply:
            await self._speak(reply, quiet_dbfs=self._quiet)

    async def _speak(
        self, text: str, delay_s: float = 0.0, quiet_dbfs: float | None = None
    ) -> None:
        pcm = await self.clock.run_blocking(self.voice.render, text)
        if quiet_dbfs is not None:
            pcm = at_level(pcm, quiet_dbfs)
        self.said.append((self.clock.now(), text))
        lead = np.zeros(int(delay_s * self.line.rate), np.int16)
        self._out.extend(f.pcm for f in split_frames(np.concatenate([lead, pcm]), self.line.rate))


def at_level(pcm: np.ndarray, dbfs: float) -> np.ndarray:
    """The speech at this RMS level (dBFS), through mu-law again."""
    x = pcm.astype(np.float64)
    rms = float(np.sqrt(np.mean(x * x))) or 1.0
    scaled = np.clip(x * 32768 * 10 ** (dbfs / 20) / rms, -32768, 32767).astype(np.int16)
    return ulaw_decode(ulaw_encode(scaled))


def _beep(rate: int) -> np.ndarray:
    t = np.arange(int(0.5 * rate)) / rate
    return (8000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)
