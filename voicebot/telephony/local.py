"""The local line: this computer's microphone and speaker as the caller's phone (sounddevice on
PortAudio), or WAV files in their place for headless runs (tests, scripted demos).

The line carries 20 ms frames at the line rate (8 kHz, like a phone call); the sound card runs
at its own rate in its own thread, and only the two frame deques cross between them."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from voicebot.audio.frames import FRAME_MS, AudioFrame, samples_per_frame, split_frames
from voicebot.audio.wav import read_wav, write_wav
from voicebot.core.clock import Clock
from voicebot.telephony.loopback import Caption

log = logging.getLogger(__name__)
FRAME_S = FRAME_MS / 1000


class AudioDevice(Protocol):
    """A microphone and a speaker at the line rate, 20 ms at a time."""

    def capture(self) -> np.ndarray | None:
        """The next 20 ms from the microphone, or None when nothing new has arrived."""
        ...

    def play(self, pcm: np.ndarray) -> None: ...

    def close(self) -> None: ...


class LocalLine:
    """A call whose far end is this computer: `LinePort` and `LineControl` for `CallSession`.
    Keys typed by the person arrive with `press`; `hang_up` ends the call from either side."""

    def __init__(self, device: AudioDevice, rate: int = 8000) -> None:
        self.device, self.rate = device, rate
        self.ended = asyncio.Event()
        self.ended_by: str | None = None
        self.captions: list[Caption] = []
        self._keys: list[str] = []

    def send(self, frame: AudioFrame) -> None:
        self.device.play(frame.pcm)

    def receive(self) -> AudioFrame | None:
        pcm = self.device.capture()
        return None if pcm is None else AudioFrame(pcm, self.rate)

    def caption(self, caption: Caption) -> None:
        self.captions.append(caption)

    def press(self, digits: str) -> None:
        self._keys.extend(digits)

    def dtmf(self) -> list[str]:
        keys, self._keys = self._keys, []
        return keys

    def hang_up(self, by: str) -> None:
        if not self.ended.is_set():
            self.ended_by = by
            self.ended.set()


class WavDevice:
    """Headless: the microphone plays a WAV file in clock time (from the moment the call is
    answered, like a recorded caller), and what the speaker gets is written to a WAV file."""

    def __init__(
        self, clock: Clock, mic: Path | None, speaker: Path | None, rate: int = 8000
    ) -> None:
        self.clock, self.speaker, self.rate = clock, speaker, rate
        self._frames: list[np.ndarray] = []
        if mic is not None:
            pcm, _ = read_wav(mic, rate=rate)
            self._frames = [f.pcm for f in split_frames(pcm, rate)]
        self._next = 0
        self._heard: list[np.ndarray] = []

    @property
    def mic_done(self) -> bool:
        return self._next >= len(self._frames)

    def capture(self) -> np.ndarray | None:
        # a frame is ready once its 20 ms have passed on the clock
        if self._next < len(self._frames) and self.clock.now() >= (self._next + 1) * FRAME_S:
            self._next += 1
            return self._frames[self._next - 1]
        return None

    def play(self, pcm: np.ndarray) -> None:
        self._heard.append(pcm)

    def close(self) -> None:
        if self.speaker is not None:
            empty = np.zeros(0, np.int16)
            write_wav(
                self.speaker, np.concatenate(self._heard) if self._heard else empty, self.rate
            )


class SoundDevice:
    """Microphone and speaker through sounddevice (PortAudio). The card runs at `device_rate`;
    audio is resampled to and from the line rate with streaming soxr resamplers."""

    def __init__(
        self,
        rate: int = 8000,
        device: int | str | None = None,
        device_rate: int = 16000,
        backlog_frames: int = 10,
    ) -> None:
        import soxr

        sd = _sounddevice()
        self.rate, self.device_rate = rate, device_rate
        self._block = samples_per_frame(device_rate)
        self._mic: deque[np.ndarray] = deque(maxlen=backlog_frames)  # late frames are dropped
        self._speaker: deque[np.ndarray] = deque()
        self._down = soxr.ResampleStream(device_rate, rate, 1, dtype="int16")
        self._up = soxr.ResampleStream(rate, device_rate, 1, dtype="int16")
        self._mic_chunks = _Rechunker(samples_per_frame(rate))
        self._speaker_chunks = _Rechunker(self._block)
        self.overflows = 0
        try:
            self._stream = sd.RawStream(
                samplerate=device_rate,
                blocksize=self._block,
                channels=1,
                dtype="int16",
                device=device,
                callback=self._callback,
            )
            self._stream.start()
        except sd.PortAudioError as e:
            raise RuntimeError(
                f"cannot open the sound device {device if device is not None else '(default)'}: "
                f"{e}; list devices with `voicebot console --list-devices`"
            ) from None

    def _callback(self, indata: Any, outdata: Any, frames: int, _time: Any, status: Any) -> None:
        # PortAudio's thread: hand frames over, nothing else
        if status:
            self.overflows += 1
        self._mic.append(np.frombuffer(bytes(indata), np.int16).copy())
        out = self._speaker.popleft() if self._speaker else None
        if out is None or len(out) != frames:
            out = np.zeros(frames, np.int16)
        outdata[:] = out.tobytes()

    @property
    def queued(self) -> int:
        """Blocks waiting for the speaker."""
        return len(self._speaker)

    def capture(self) -> np.ndarray | None:
        # the blocks there now, not "until none are left": a device that runs faster than real
        # time (ALSA's null device) refills the queue as fast as it is drained
        for _ in range(len(self._mic)):
            self._mic_chunks.add(self._down.resample_chunk(self._mic.popleft()))
        return self._mic_chunks.take()

    def play(self, pcm: np.ndarray) -> None:
        self._speaker_chunks.add(self._up.resample_chunk(pcm))
        while (block := self._speaker_chunks.take()) is not None:
            self._speaker.append(block)

    def close(self) -> None:
        self._stream.stop()
        self._stream.close()


class _Rechunker:
    """Collects samples of any block size and gives them back `size` at a time."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._buffer = np.zeros(0, np.int16)

    def add(self, pcm: np.ndarray) -> None:
        self._buffer = np.concatenate([self._buffer, pcm.astype(np.int16, copy=False)])

    def take(self) -> np.ndarray | None:
        if len(self._buffer) < self.size:
            return None
        out, self._buffer = self._buffer[: self.size], self._buffer[self.size :]
        return out


def _sounddevice() -> Any:
    try:
        import sounddevice
    except OSError as e:  # the Python package is there, PortAudio is not
        raise RuntimeError(
            f"PortAudio is missing ({e}): install it with `apt install libportaudio2`"
        ) from None
    return sounddevice


def list_devices() -> str:
    return str(_sounddevice().query_devices())
