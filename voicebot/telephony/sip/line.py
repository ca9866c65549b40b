"""One SIP call leg as the call session sees it: a media port (20 ms frames in and out), call
control (dial, answer, hang-up, DTMF, transfer) and the signalling record for the report."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections import deque
from typing import Literal

import numpy as np
import pjsua2 as pj

from voicebot.audio.frames import AudioFrame
from voicebot.core.clock import Clock, RealClock
from voicebot.core.outcomes import Outcome
from voicebot.telephony.control import CallControl, SignallingState
from voicebot.telephony.loopback import Caption
from voicebot.telephony.sip.media import RATE, FramePort
from voicebot.telephony.sip.stack import SipError, SipStack, _pj_text

log = logging.getLogger(__name__)
DtmfMethod = Literal["rfc4733", "info"]
_DTMF_METHODS = {"rfc4733": pj.PJSUA_DTMF_METHOD_RFC2833, "info": pj.PJSUA_DTMF_METHOD_SIP_INFO}


class _Call(pj.Call):
    """PJSIP's call object. Lives on the stack thread; reports facts to its SipLine."""

    def __init__(self, stack: SipStack, line: SipLine) -> None:
        assert stack.account is not None
        super().__init__(stack.account)
        self.stack = stack
        self._line = weakref.ref(line)  # no cycle: the call object must not wait for the GC
        self.port: FramePort = stack.acquire_port()
        self.bridged = False
        self.released = False
        self.media: pj.AudioMedia | None = None
        stack.calls.add(self)
        stack.made.add(self)

    def _tell(self, handler: str, *args: object) -> None:
        line = self._line()
        if line is not None:
            self.stack.emit(getattr(line, handler), *args)

    def detach(self) -> None:
        """Stack thread: forget this call so it is deleted now, on this thread."""
        self.stack.calls.discard(self)
        line = self._line()
        if line is not None and line._call is self:
            line._call = None
        if self.media is not None:
            with contextlib.suppress(pj.Error):
                self.port.stopTransmit(self.media)
            with contextlib.suppress(pj.Error):
                self.media.stopTransmit(self.port)
        self.media = None
        if not self.released:
            self.released = True
            self.stack.release_port(self.port)

    def onCallState(self, prm: pj.OnCallStateParam) -> None:
        info = self.getInfo()
        self._tell("_on_state", info.state, info.lastStatusCode, info.lastReason)

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:
        info = self.getInfo()  # keep it alive: `media` points into it
        for i, media in enumerate(info.media):
            if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                self.media = self.getAudioMedia(i)
                if not self.bridged:
                    self.media.startTransmit(self.port)
                    self.port.startTransmit(self.media)

    def onDtmfDigit(self, prm: pj.OnDtmfDigitParam) -> None:
        self._tell("_on_dtmf", prm.digit)

    def onCallTransferStatus(self, prm: pj.OnCallTransferStatusParam) -> None:
        self._tell("_on_transfer", prm.statusCode, prm.reason, prm.finalNotify)

    def rx_packets(self) -> int:
        try:
            return int(self.getStreamStat(0).rtcp.rxStat.pkt)
        except pj.Error:
            return -1


class SipLine:
    """Created by `SipLine.dial`; ends with `close()`, which always releases the PJSIP call."""

    def __init__(self, stack: SipStack, clock: Clock | None = None) -> None:
        self.stack = stack
        self.clock = clock or RealClock()
        self.rate = RATE
        self.control = CallControl()
        self.ended = asyncio.Event()
        self.ended_by: str | None = None
        self.handed_over = False  # bridged to an agent: the bot has left, the leg stays up
        self.partner: SipLine | None = None  # the other leg of a bridge
        self.transfers: asyncio.Queue[tuple[int, str, bool]] = asyncio.Queue()
        self._digits: deque[str] = deque()
        self._changed = asyncio.Event()
        self._call: _Call | None = None

    # --- dialling ----------------------------------------------------------------------------
    async def dial(self, uri: str) -> None:
        await self.stack.pace()
        self.control.dial(self.clock.now())

        def make() -> None:
            call = _Call(self.stack, self)
            self._call = call
            call.makeCall(uri, pj.CallOpParam(True))

        try:
            await self.stack.run(make)
        except SipError as e:
            self._finish(0, f"could not place the call: {e}", "bot", Outcome.FAILED)

    async def wait_answer(self, ring_timeout_s: float, trunk_timeout_s: float) -> bool:
        """True once answered; False when the call ended first or a timer gave up on it."""
        while True:
            state = self.control.state
            if state is SignallingState.ANSWERED:
                return True
            if state is SignallingState.ENDED:
                return False
            t = self.clock.now()
            if state is SignallingState.DIALING and t >= trunk_timeout_s:
                self._finish(
                    0, f"no response from the trunk in {trunk_timeout_s:g} s", "bot", Outcome.FAILED
                )
                return False
            if t >= ring_timeout_s:
                self._finish(0, f"not answered in {ring_timeout_s:g} s", "bot", Outcome.NO_ANSWER)
                return False
            self._changed.clear()
            limit = trunk_timeout_s if state is SignallingState.DIALING else ring_timeout_s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), max(0.01, limit - t))

    def _on_state(self, state: int, code: int, reason: str) -> None:
        t = self.clock.now()
        if state == pj.PJSIP_INV_STATE_EARLY:
            self.control.provisional(t, code, reason)
        elif state == pj.PJSIP_INV_STATE_CONFIRMED:
            self.control.answer(t)
        elif state == pj.PJSIP_INV_STATE_DISCONNECTED:
            by = self.ended_by or ("callee" if self.control.answered else "network")
            self.control.end(t, code, reason, by)
            self.ended_by = by
            self.ended.set()
            self._release()
            if self.partner is not None:
                self.partner.end_bridge()
        self._changed.set()

    def _finish(self, code: int, reason: str, by: str, outcome: Outcome) -> None:
        """Our side gives up on the call: record why, then hang up."""
        self.control.expire(self.clock.now(), outcome, reason)
        self.hang_up(by)

    # --- the media port the call session uses -------------------------------------------------
    @property
    def call(self) -> _Call | None:
        return self._call

    def send(self, frame: AudioFrame) -> None:
        if not self.handed_over:
            self.send_bytes(frame.pcm.astype(np.int16).tobytes())

    def send_bytes(self, data: bytes) -> None:
        call = self._call
        if call is not None:
            call.port.queue(data)

    def receive(self) -> AudioFrame | None:
        call = self._call
        if call is None or not call.port.rx:
            return None
        pcm = np.frombuffer(call.port.rx.popleft(), np.int16)
        return AudioFrame(pcm, RATE, self.clock.now())

    def caption(self, caption: Caption) -> None:
        """Real lines carry no captions."""

    def dtmf(self) -> list[str]:
        """Digits the far end pressed since the last look."""
        out = list(self._digits)
        self._digits.clear()
        return out

    def _on_dtmf(self, digit: str) -> None:
        self._digits.append(digit)

    # --- call control ------------------------------------------------------------------------
    def hang_up(self, by: str) -> None:
        """End the call; after a warm transfer the bot only leaves (the legs stay bridged)."""
        if self.ended.is_set() or self.handed_over:
            return
        self._hang_up(by)

    def end_bridge(self) -> None:
        """A bridged leg ended: end this one too."""
        if not self.ended.is_set():
            self._hang_up("callee")

    def _hang_up(self, by: str) -> None:
        self.ended_by = self.ended_by or by
        call = self._call
        if call is None:
            self.control.end(self.clock.now(), 0, "never placed", by)
            self.ended.set()
            return
        self.stack.post(lambda: _hangup(call))

    async def send_dtmf(self, digits: str, method: DtmfMethod = "rfc4733") -> None:
        call = self._call
        if call is None:
            raise SipError("send_dtmf: the call is not up")
        prm = pj.CallSendDtmfParam()
        prm.digits, prm.method, prm.duration = digits, _DTMF_METHODS[method], 160
        await self.stack.run(lambda: call.sendDtmf(prm))

    async def refer(self, target: str) -> None:
        """Blind transfer: ask the far end to call `target` (REFER)."""
        call = self._call
        if call is None:
            raise SipError("refer: the call is not up")
        await self.stack.run(lambda: call.xfer(target, pj.CallOpParam(True)))

    def _on_transfer(self, code: int, reason: str, final: bool) -> None:
        self.transfers.put_nowait((code, reason, final))

    async def rx_packets(self) -> int:
        call = self._call
        return -1 if call is None else await self.stack.run(call.rx_packets)

    async def watch_rtp(self, timeout_s: float, every_s: float = 0.5) -> None:
        """End the call when no RTP arrived for `timeout_s` (a peer that vanished)."""
        last, since = -1, self.clock.now()
        while not self.ended.is_set() and not self.handed_over:
            await asyncio.sleep(every_s)
            count = await self.rx_packets()
            now = self.clock.now()
            if count != last:
                last, since = count, now
            elif now - since >= timeout_s:
                self.control.expire(now, Outcome.RTP_TIMEOUT, f"no RTP for {timeout_s:g} s")
                self.hang_up("network")
                return

    async def close(self, within_s: float = 5.0) -> None:
        """Hang up if needed (a bridged leg too) and wait, bounded, until PJSIP let go of it."""
        if not self.ended.is_set():
            self._hang_up("bot")
        try:
            await asyncio.wait_for(self.ended.wait(), within_s)
        except TimeoutError:
            log.warning("call did not end within %.0f s; releasing it", within_s)
            self.control.end(self.clock.now(), 0, "release timeout", "bot")
            self.ended.set()
            self._release()

    def _release(self) -> None:
        call, self._call = self._call, None
        if call is not None:
            self.stack.post(lambda: _drop(call))


def _hangup(call: _Call) -> None:
    try:
        if call.isActive():
            call.hangup(pj.CallOpParam(True))
    except pj.Error as e:
        log.debug("hangup: %s", _pj_text(e))


def _drop(call: _Call) -> None:
    """Delete the PJSIP call and its media port on the stack thread."""
    call.detach()
