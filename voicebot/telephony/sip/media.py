"""The custom PJSIP media port that hands 20 ms frames between PJSIP's clock thread and asyncio.

PJSIP's conference clock calls `onFrameRequested` / `onFrameReceived` on its own thread. They
only move bytes through two deques (atomic under the GIL); everything else happens elsewhere.

Ports are pooled by the stack and never destroyed while the clock runs: PJSIP 2.14+ removes a
port from the conference bridge asynchronously, at the next clock tick, but pjsua2's
AudioMediaPort destructor frees the port at once, so the clock thread could call into a
deleted object (a "pure virtual method called" abort)."""

from __future__ import annotations

from collections import deque

import pjsua2 as pj

RATE = 8000
FRAME_BYTES = RATE // 50 * 2  # 20 ms of int16
MAX_BACKLOG = 4  # frames; beyond this the oldest are dropped so delay stays bounded
_SILENCE = bytes(FRAME_BYTES)


class FramePort(pj.AudioMediaPort):
    """rx: what the far end said (bytes per frame); tx: what the bot says next."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.rx: deque[bytes] = deque()
        self.tx: deque[bytes] = deque()
        self.rx_frames = 0
        fmt = pj.MediaFormatAudio()
        fmt.init(pj.PJMEDIA_FORMAT_PCM, RATE, 1, 20000, 16)
        self.createPort(name, fmt)

    def onFrameRequested(self, frame: pj.MediaFrame) -> None:
        data = self.tx.popleft() if self.tx else _SILENCE
        frame.type = pj.PJMEDIA_FRAME_TYPE_AUDIO
        frame.buf = pj.ByteVector(data)
        frame.size = len(data)

    def onFrameReceived(self, frame: pj.MediaFrame) -> None:
        if frame.type != pj.PJMEDIA_FRAME_TYPE_AUDIO or frame.size != FRAME_BYTES:
            return
        self.rx_frames += 1
        self.rx.append(bytes(frame.buf))
        while len(self.rx) > MAX_BACKLOG:
            self.rx.popleft()

    def reset(self) -> None:
        """Empty, for the next call that takes this port from the stack's pool."""
        self.rx.clear()
        self.tx.clear()
        self.rx_frames = 0

    def queue(self, data: bytes) -> None:
        self.tx.append(data)
        while len(self.tx) > MAX_BACKLOG:
            self.tx.popleft()
