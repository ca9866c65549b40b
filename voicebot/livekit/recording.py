"""Stereo recordings of LiveKit calls, as the SIP path writes them: `<folder>/<call_id>.wav`,
left the bot, right the caller, at the phone line's rate, owner-only.

livekit-agents' own `RecorderIO` does the hard part: it taps the session's audio input where
frames arrive and its audio output where the sink reports them played (so an interrupted line
is cut where the caller stopped hearing it), on one timeline, into an Ogg/Opus file. Here it is
started without a job context, and its file becomes the project's WAV when the call ends."""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from voicebot.livekit import require

require("livekit.agents")

import av  # noqa: E402  (a livekit-agents dependency)
from livekit.agents.voice.recorder_io import RecorderIO  # noqa: E402

from voicebot.audio.resample import resample  # noqa: E402
from voicebot.audio.wav import write_wav  # noqa: E402
from voicebot.livekit.audio import LINE_RATE  # noqa: E402

log = logging.getLogger(__name__)
CAPTURE_RATE = 16000  # the recorder's own rate; the WAV is written at the line rate


class CallRecorder:
    """`await start(session)` once the session has its audio input and output (after
    `session.start`); `await finish()` when the call ends: the WAV's path, or None."""

    def __init__(self, folder: Path, call_id: str) -> None:
        self.folder, self.call_id = folder, call_id
        self._io: RecorderIO | None = None
        self._ogg = folder / f".{call_id}.ogg"

    @property
    def path(self) -> Path:
        return self.folder / f"{self.call_id}.wav"

    async def start(self, session: Any) -> None:
        if session.input.audio is None or session.output.audio is None:
            raise RuntimeError("the session has no audio input and output to record")
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        recorder = RecorderIO(agent_session=session, sample_rate=CAPTURE_RATE)
        session.input.audio = recorder.record_input(session.input.audio)
        session.output.audio = recorder.record_output(session.output.audio)
        await recorder.start(output_path=self._ogg)
        self._io = recorder

    async def finish(self) -> Path | None:
        recorder, self._io = self._io, None
        if recorder is None:
            return None
        await recorder.aclose()
        try:
            caller, bot = _decode(self._ogg)
        except (OSError, av.error.FFmpegError, ValueError) as e:
            log.error("call recording could not be read back: %s", type(e).__name__)
            return None
        finally:
            with contextlib.suppress(FileNotFoundError):
                self._ogg.unlink()
        n = max(len(caller), len(bot))
        stereo = np.zeros((n, 2), np.int16)
        stereo[: len(bot), 0], stereo[: len(caller), 1] = bot, caller
        write_wav(self.path, stereo, LINE_RATE)
        os.chmod(self.path, 0o600)
        return self.path


def _decode(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The recorder's two channels (caller, bot) as int16 at the line rate."""
    channels: list[list[np.ndarray]] = [[], []]
    rate = CAPTURE_RATE
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="s16p", layout="stereo", rate=rate)
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                planes = out.to_ndarray()
                channels[0].append(planes[0])
                channels[1].append(planes[1])
        for out in resampler.resample(None):
            planes = out.to_ndarray()
            channels[0].append(planes[0])
            channels[1].append(planes[1])
    caller, bot = (
        np.concatenate(c).astype(np.int16) if c else np.zeros(0, np.int16) for c in channels
    )
    return resample(caller, rate, LINE_RATE), resample(bot, rate, LINE_RATE)
