"""The TTS plugin: piper through voicebot's `TextToSpeech`, streaming sentence by sentence, with
the script's pre-rendered lines served from the line cache (no synthesis wait)."""

from __future__ import annotations

import asyncio
import uuid

import numpy as np

from voicebot.livekit import require

require("livekit.agents")

from livekit.agents import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions, tts  # noqa: E402

from voicebot.tts.stage import LineCache, TextToSpeech  # noqa: E402
from voicebot.tts.voices import split_sentences  # noqa: E402


class PiperTTS(tts.TTS):
    """`speech`: a voicebot TextToSpeech (piper, with the pre-rendered line cache)."""

    def __init__(self, speech: TextToSpeech) -> None:
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=True),
            sample_rate=speech.rate,
            num_channels=1,
        )
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
        output_emitter.initialize(
            request_id=uuid.uuid4().hex,
            sample_rate=owner.sample_rate,
            num_channels=1,
            mime_type="audio/pcm",
        )
        for sentence in split_sentences(self._input_text):
            output_emitter.push(await owner.render(sentence))
        output_emitter.flush()


class _TTSStream(tts.SynthesizeStream):
    """Text arrives in pieces; each sentence is synthesised as soon as it is complete."""

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        owner: PiperTTS = self._tts  # type: ignore[assignment]
        output_emitter.initialize(
            request_id=uuid.uuid4().hex,
            sample_rate=owner.sample_rate,
            num_channels=1,
            mime_type="audio/pcm",
            stream=True,
        )
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
