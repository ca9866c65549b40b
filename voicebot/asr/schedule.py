"""Decodes of all the calls in one process, given a bounded number of slots.

Without it every call's decode goes straight to a worker thread: at 16 calls on 2 cores a dozen
decodes share the CPU (each slower than alone), hold the thread pool that intent and TTS need,
and a speculative decode the caller made obsolete by speaking on still runs to its end.

Here a decode waits (on the event loop, holding no thread) for one of `slots`; when a slot frees,
the finals (a caller waits on them) go before speculative decodes; within each, the earliest
"due" first, due = arrival + 0.1 s per second of audio: a short turn overtakes a long one that
arrived at most a few tenths of a second before it, and no long turn waits for ever. A
speculative decode given up while it waits never runs (one given up while it runs keeps its
slot until its thread is done), and a speculative decode that turns out to
be the final one is promoted. The queue wait of finals feeds `core.backlog.ASR_BACKLOG`.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from voicebot.core.backlog import ASR_BACKLOG, Backlog

T = TypeVar("T")
FINAL, SPECULATIVE = 0, 1
WAIT_PER_AUDIO_S = 0.1  # a turn this much longer is served this much later


class Ticket:
    """One decode's place: `final` may be raised while it waits."""

    def __init__(self, seq: int, final: bool, due: float) -> None:
        self.seq, self.final, self.due = seq, final, due
        self.started = False


class DecodeScheduler:
    """At most `slots` decodes run at once; the others wait in priority order."""

    def __init__(
        self,
        slots: int = 2,
        backlog: Backlog | None = None,
        now: Callable[[], float] = time.perf_counter,
    ) -> None:
        """`now`: real seconds (the compute being queued runs in real time, on any clock)."""
        self.slots, self._now = slots, now
        self.backlog = backlog if backlog is not None else ASR_BACKLOG
        self.running = 0
        self._queue: list[tuple[int, float, int, Ticket, asyncio.Future[None]]] = []
        self._waiting: dict[int, asyncio.Future[None]] = {}
        self._seq = itertools.count()

    @property
    def queued(self) -> int:
        """Decodes waiting for a slot."""
        return len(self._waiting)

    @property
    def busy(self) -> bool:
        """Every slot is taken: a new decode would wait."""
        return self.running >= self.slots

    def ticket(self, final: bool, audio_s: float) -> Ticket:
        """A place for a decode of `audio_s` seconds of audio, arriving now."""
        return Ticket(next(self._seq), final, self._now() + WAIT_PER_AUDIO_S * audio_s)

    def promote(self, ticket: Ticket) -> None:
        """A waiting speculative decode became the turn's final: it now goes ahead as one."""
        if ticket.final or ticket.started:
            return
        ticket.final = True
        fut = self._waiting.get(ticket.seq)
        if fut is not None:
            self.backlog.waiting(ticket.seq)
            heapq.heappush(self._queue, (FINAL, ticket.due, ticket.seq, ticket, fut))

    async def run(
        self,
        ticket: Ticket,
        run_blocking: Callable[..., Awaitable[T]],
        fn: Callable[..., object],
        *args: object,
    ) -> T:
        """Wait for a slot, then run `fn(*args)` through `run_blocking` (a clock's, so the
        compute counts on that clock). Cancelled while waiting: it never runs."""
        await self._acquire(ticket)
        job = asyncio.ensure_future(run_blocking(fn, *args))
        job.add_done_callback(self._release)  # a thread cannot be stopped: the slot is held
        return await asyncio.shield(job)  # until the work is really over, even if given up

    def _release(self, job: asyncio.Future[Any]) -> None:
        if not job.cancelled():
            job.exception()  # retrieved: a decode given up that failed is not an error
        self.running -= 1
        self._wake()

    async def _acquire(self, ticket: Ticket) -> None:
        if self.running < self.slots and not self._waiting:
            self.running += 1
            ticket.started = True
            if ticket.final:
                self.backlog.no_wait()
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting[ticket.seq] = fut
        if ticket.final:
            self.backlog.waiting(ticket.seq)
        heapq.heappush(
            self._queue,
            (FINAL if ticket.final else SPECULATIVE, ticket.due, ticket.seq, ticket, fut),
        )
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():  # the slot was handed over: pass it on
                self.running -= 1
                self._wake()
            raise
        finally:
            self._waiting.pop(ticket.seq, None)
            self.backlog.forget(ticket.seq)

    def _wake(self) -> None:
        while self._queue and self.running < self.slots:
            _, _, seq, ticket, fut = heapq.heappop(self._queue)
            if fut.done() or self._waiting.get(seq) is not fut or ticket.started:
                continue  # given up, or an entry left behind by a promotion
            self.running += 1
            ticket.started = True
            if ticket.final:
                self.backlog.started(seq)
            fut.set_result(None)


_SCHEDULERS: dict[asyncio.AbstractEventLoop, DecodeScheduler] = {}


def shared(slots: int = 2) -> DecodeScheduler:
    """The scheduler of the running event loop (all its calls share it)."""
    loop = asyncio.get_running_loop()
    for other in [lp for lp in _SCHEDULERS if lp.is_closed()]:
        del _SCHEDULERS[other]
    if loop not in _SCHEDULERS:
        _SCHEDULERS[loop] = DecodeScheduler(slots)
    return _SCHEDULERS[loop]
