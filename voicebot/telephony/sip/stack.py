"""PJSIP (pjsua2) on one thread of its own, bridged to asyncio.

Every pjsua2 API call runs on the stack thread: asyncio code hands it a function (`run`, or
`post` without waiting) and gets the result back through a future. With `threadCnt = 0` PJSIP's
signalling callbacks fire on that same thread, where they only record facts and pass them to the
event loop. The media clock thread touches nothing but the frame deques of `FramePort`."""

from __future__ import annotations

import asyncio
import gc
import logging
import queue
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

import pjsua2 as pj

from voicebot.core.errors import VoicebotError
from voicebot.telephony.sip.config import CODECS, TrunkConfig
from voicebot.telephony.sip.media import FramePort

log = logging.getLogger(__name__)
T = TypeVar("T")
_TRANSPORTS = {
    "udp": pj.PJSIP_TRANSPORT_UDP,
    "tcp": pj.PJSIP_TRANSPORT_TCP,
    "tls": pj.PJSIP_TRANSPORT_TLS,
}


class SipError(VoicebotError):
    """The SIP stack could not start, register or place a call; says where and why."""


class _Account(pj.Account):
    def __init__(self, on_reg: Callable[[int, str], None]) -> None:
        super().__init__()
        self.on_reg = on_reg

    def onRegState(self, prm: pj.OnRegStateParam) -> None:
        self.on_reg(prm.code, prm.reason)


class SipStack:
    """One per process (PJSIP is a singleton). `async with SipStack(trunk) as stack:`."""

    def __init__(self, trunk: TrunkConfig, log_level: int = 0) -> None:
        self.trunk = trunk
        self.log_level = log_level
        self.local_port = 0
        self.account: _Account | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], asyncio.Future[Any] | None]] = (
            queue.SimpleQueue()
        )
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._registered: asyncio.Future[tuple[int, str]] | None = None
        self._ep: pj.Endpoint | None = None
        self.calls: set[Any] = set()  # live PJSIP call objects: they must die on this thread
        # every call object not yet deleted, live or not: one still referenced from Python when
        # the library goes must not run its C++ destructor afterwards (that aborts the process)
        self.made: weakref.WeakSet[Any] = weakref.WeakSet()
        self._ports: list[FramePort] = []  # every media port made; idle ones wait in _idle
        self._idle: list[FramePort] = []
        self._next_call_at = 0.0

    async def __aenter__(self) -> SipStack:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = self.loop.create_future()
        self._thread = threading.Thread(target=self._main, args=(ready,), name="pjsip", daemon=True)
        self._thread.start()
        await ready
        if self.trunk.registrar:
            try:
                await self._register()
            except BaseException:
                await self.stop()
                raise

    async def stop(self) -> None:
        if self._thread is None:
            return
        self._stopping.set()
        await asyncio.to_thread(self._thread.join, 10.0)
        self._thread = None

    def _main(self, ready: asyncio.Future[None]) -> None:
        try:
            self._create()
        except Exception as e:
            self._destroy()  # PJSIP objects must die on the thread that made them
            self._resolve(ready, exc=SipError(f"SIP stack did not start: {_pj_text(e)}"))
            return
        self._resolve(ready, None)
        ep = self._ep
        assert ep is not None
        try:
            while not self._stopping.is_set():
                self._drain()
                ep.libHandleEvents(5)
            self._drain()
        finally:
            self._destroy()

    def _create(self) -> None:
        ep = self._ep = pj.Endpoint()
        ep.libCreate()
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0  # callbacks run on this thread, from libHandleEvents
        cfg.uaConfig.userAgent = "voicebot"
        cfg.uaConfig.maxCalls = 64
        cfg.logConfig.level = cfg.logConfig.consoleLevel = self.log_level
        cfg.medConfig.clockRate = cfg.medConfig.sndClockRate = 8000
        cfg.medConfig.channelCount = 1
        cfg.medConfig.noVad = True
        cfg.medConfig.ecTailLen = 0
        low, high = self.trunk.jitter_ms
        cfg.medConfig.jbMinPre, cfg.medConfig.jbMaxPre = low, high
        cfg.medConfig.jbInit, cfg.medConfig.jbMax = low, 3 * high
        if self.trunk.outbound_proxy:
            cfg.uaConfig.outboundProxies.append(self.trunk.outbound_proxy)
        ep.libInit(cfg)
        tc = pj.TransportConfig()
        tc.boundAddress, tc.port = self.trunk.bind, self.trunk.port
        tid = ep.transportCreate(_TRANSPORTS[self.trunk.transport], tc)
        self.local_port = int(ep.transportGetInfo(tid).localName.rsplit(":", 1)[-1])
        ep.libStart()
        ep.audDevManager().setNullDev()
        self._set_codecs(ep)
        self.account = _Account(self._on_reg)
        self.account.create(self._account_config())

    def _set_codecs(self, ep: pj.Endpoint) -> None:
        wanted = [CODECS[c] for c in self.trunk.codecs]
        for codec in ep.codecEnum2():
            name = "/".join(codec.codecId.split("/")[:2])
            prio = 250 - wanted.index(name) if name in wanted else 0
            ep.codecSetPriority(codec.codecId, prio)

    def _account_config(self) -> pj.AccountConfig:
        trunk = self.trunk
        acfg = pj.AccountConfig()
        acfg.idUri = trunk.caller_id
        acfg.regConfig.registrarUri = trunk.registrar or ""
        acfg.regConfig.registerOnAdd = False
        password = trunk.secret()
        if trunk.username and password is not None:
            cred = pj.AuthCredInfo("digest", trunk.realm, trunk.username, 0, password)
            acfg.sipConfig.authCreds.append(cred)
        acfg.mediaConfig.transportConfig.boundAddress = trunk.bind
        acfg.mediaConfig.transportConfig.port = trunk.rtp_port
        acfg.mediaConfig.transportConfig.portRange = 2000
        acfg.mediaConfig.lockCodecEnabled = False
        acfg.callConfig.timerUse = pj.PJSUA_SIP_TIMER_INACTIVE
        return acfg

    def _destroy(self) -> None:
        ep, self._ep = self._ep, None
        if ep is None:
            return
        try:
            ep.hangupAllCalls()
            for _ in range(20):
                ep.libHandleEvents(10)
            while self.calls:  # delete every call object here, before the library goes
                self.calls.pop().detach()
            self.account = None
            for port in self._ports:  # see media.py: left to C++, never deleted while running
                port.__disown__()
            self._ports.clear()
            self._idle.clear()
            gc.collect()  # PJSIP wrappers caught in reference cycles die here, not elsewhere
            for call in list(self.made):  # still referenced somewhere: left to C++ (a leak)
                call.__disown__()
            ep.libDestroy()
        except Exception as e:
            log.warning("SIP stack shutdown: %s", _pj_text(e))

    # --- registration --------------------------------------------------------------------------
    async def _register(self) -> None:
        assert self.loop is not None
        self._registered = self.loop.create_future()
        account = self.account
        assert account is not None
        await self.run(lambda: account.setRegistration(True))
        try:
            code, reason = await asyncio.wait_for(self._registered, self.trunk.register_timeout_s)
        except TimeoutError:
            wait = self.trunk.register_timeout_s
            raise SipError(
                f"registration to {self.trunk.registrar}: no answer in {wait:.0f} s "
                "(is the registrar up?)"
            ) from None
        if code // 100 != 2:
            hint = " (check trunk.username and the password)" if code in (401, 403, 407) else ""
            raise SipError(f"registration to {self.trunk.registrar} failed: {code} {reason}{hint}")

    def _on_reg(self, code: int, reason: str) -> None:
        future = self._registered
        if future is not None and self.loop is not None:
            self.loop.call_soon_threadsafe(_settle, future, (code, reason))

    def acquire_port(self) -> FramePort:
        """Stack thread: a media port for a new call (from the pool, or a new one)."""
        port = self._idle.pop() if self._idle else None
        if port is None:
            port = FramePort(f"port-{len(self._ports)}")
            self._ports.append(port)
        port.reset()
        return port

    def release_port(self, port: FramePort) -> None:
        """Stack thread: the call is over; its port (disconnected) goes back to the pool."""
        port.reset()
        self._idle.append(port)

    async def active_ports(self) -> int:
        """Media ports in PJSIP's conference bridge (the sound port, pooled call ports and the
        calls' own): a leak check."""
        return await self.run(lambda: int(self._endpoint().mediaActivePorts()))

    async def transports(self) -> list[str]:
        """The SIP transports in use (UDP, TCP, TLS)."""
        return await self.run(
            lambda: [
                str(self._endpoint().transportGetInfo(t).typeName)
                for t in self._endpoint().transportEnum()
            ]
        )

    def _endpoint(self) -> pj.Endpoint:
        # PJSIP objects stay on the stack thread: a wrapper freed elsewhere aborts the process
        assert self._ep is not None
        return self._ep

    async def pace(self) -> None:
        """Wait for this call's slot under the trunk's calls-per-second limit."""
        assert self.loop is not None
        now = self.loop.time()
        start = max(now, self._next_call_at)
        self._next_call_at = start + 1.0 / self.trunk.max_cps
        await asyncio.sleep(start - now)

    # --- handing work to the stack thread ----------------------------------------------------
    async def run(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the stack thread and return its result (its exception is raised here)."""
        assert self.loop is not None
        future: asyncio.Future[T] = self.loop.create_future()
        self._jobs.put((fn, future))
        return await future

    def post(self, fn: Callable[[], Any]) -> None:
        """Run `fn` on the stack thread; nobody waits for it (errors are logged)."""
        self._jobs.put((fn, None))

    def emit(self, fn: Callable[..., Any], *args: Any) -> None:
        """From the stack thread: call `fn(*args)` on the event loop."""
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(fn, *args)

    def _drain(self) -> None:
        while True:
            try:
                fn, future = self._jobs.get_nowait()
            except queue.Empty:
                return
            try:
                result = fn()
            except Exception as e:
                if future is None:
                    log.warning("SIP job failed: %s", _pj_text(e))
                else:
                    self._resolve(future, exc=SipError(_pj_text(e)))
            else:
                if future is not None:
                    self._resolve(future, result)

    def _resolve(
        self, future: asyncio.Future[Any], value: Any = None, exc: BaseException | None = None
    ) -> None:
        if self.loop is None or self.loop.is_closed():
            return
        if exc is not None:
            self.loop.call_soon_threadsafe(_fail, future, exc)
        else:
            self.loop.call_soon_threadsafe(_settle, future, value)


def _settle(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)


def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


def _pj_text(e: BaseException) -> str:
    """pjsua2.Error carries its text in `info()`; other exceptions print as they are."""
    info = getattr(e, "info", None)
    return str(info()) if callable(info) else str(e)
