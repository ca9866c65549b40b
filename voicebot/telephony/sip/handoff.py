"""Hand-off to human agents over SIP: blind (REFER) or warm (call the agent, brief them with the
summary, then connect the caller and leave). Implements the session's AgentPool."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import numpy as np
import pjsua2 as pj

from voicebot.core.webhook import signature
from voicebot.telephony.sip.config import HandoffConfig, TrunkConfig
from voicebot.telephony.sip.line import SipLine
from voicebot.telephony.sip.media import FRAME_BYTES
from voicebot.telephony.sip.stack import SipStack

log = logging.getLogger(__name__)
Brief = Callable[[str], np.ndarray]  # summary text -> 8 kHz int16 speech


class SipAgents:
    """Tries the configured agents in order within `answer_within_s`. `record` says what happened
    (for the call report); `bridged` holds the agent leg of a warm transfer."""

    def __init__(
        self,
        stack: SipStack,
        line: SipLine,
        trunk: TrunkConfig,
        config: HandoffConfig,
        brief: Brief,
        call_id: str = "",
    ) -> None:
        self.stack, self.line, self.trunk, self.config = stack, line, trunk, config
        self.brief, self.call_id = brief, call_id
        self.record: dict[str, Any] = {}
        self.bridged: SipLine | None = None

    async def transfer(self, reason: str, summary: str) -> bool:
        started = time.monotonic()
        attempts: list[dict[str, Any]] = []
        connected = False
        for index, agent in enumerate(self.config.agents):
            left = self.config.answer_within_s - (time.monotonic() - started)
            if left <= 0 or self.line.ended.is_set():
                break
            ring = min(self.config.ring_s, left)
            if self.config.mode == "blind":
                code = await self._blind(agent, ring)
            else:
                code = await self._warm(agent, ring, summary)
            attempts.append({"agent": index, "code": code})
            if connected := code // 100 == 2:
                break
        self.record = {
            "mode": self.config.mode,
            "reason": reason,
            "summary": summary,
            "connected": connected,
            "attempts": attempts,
        }
        if self.config.webhook:
            await asyncio.to_thread(self._post, {"call_id": self.call_id, **self.record})
        return connected

    async def _blind(self, agent: str, ring_s: float) -> int:
        """REFER the caller to the agent; the NOTIFYs say how the new call went."""
        await self.line.refer(agent)
        deadline = time.monotonic() + ring_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                code, _, final = await asyncio.wait_for(self.line.transfers.get(), left)
            except TimeoutError:
                break
            if final or code >= 200:
                return code
        return 408

    async def _warm(self, agent: str, ring_s: float, summary: str) -> int:
        leg = SipLine(self.stack)
        await leg.dial(agent)
        if not await leg.wait_answer(ring_s, self.trunk.trunk_timeout_s):
            await leg.close()
            return leg.control.final_code or 408
        speech = await asyncio.to_thread(self.brief, summary)
        await play(leg, speech)
        if self.line.ended.is_set():  # the caller left while the agent was briefed
            await leg.close()
            return 487
        await bridge(self.stack, self.line, leg)
        self.bridged = leg
        return 200

    def _post(self, payload: dict[str, Any]) -> None:
        assert self.config.webhook is not None
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            **signature(self.config.webhook_key() or "", body, time.time()),
        }
        request = urllib.request.Request(self.config.webhook, body, headers)
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                response.read()
        except OSError as e:
            log.warning("hand-off webhook failed: %s", e)  # the URL may hold tokens: not logged


async def play(leg: SipLine, pcm: np.ndarray) -> None:
    """Speak `pcm` (8 kHz) into one leg at the line's pace, then return."""
    data = pcm.astype(np.int16).tobytes()
    start = time.monotonic()
    for i, offset in enumerate(range(0, len(data), FRAME_BYTES)):
        if leg.ended.is_set():
            return
        chunk = data[offset : offset + FRAME_BYTES].ljust(FRAME_BYTES, b"\0")
        await asyncio.sleep(max(0.0, start + i * 0.02 - 0.04 - time.monotonic()))
        leg.send_bytes(chunk)
    await asyncio.sleep(0.1)


async def bridge(stack: SipStack, caller: SipLine, agent: SipLine) -> None:
    """Connect the two legs' audio to each other and take the bot's ports out; the legs stay up
    until either side hangs up, which hangs up the other."""
    a, b = caller.call, agent.call
    if a is None or b is None:
        return

    def connect() -> None:  # media objects are touched on the stack thread only
        if a.media is None or b.media is None:
            return
        for call in (a, b):
            call.bridged = True
            _stop(call.media, call.port)
            _stop(call.port, call.media)
        a.media.startTransmit(b.media)
        b.media.startTransmit(a.media)

    await stack.run(connect)
    caller.partner, agent.partner = agent, caller
    caller.handed_over = agent.handed_over = True


def _stop(source: pj.AudioMedia, sink: pj.AudioMedia) -> None:
    with contextlib.suppress(pj.Error):
        source.stopTransmit(sink)
