"""One injectable clock per call: real time for live calls, virtual time for tests and replays."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Clock(Protocol):
    """Monotonic seconds, a sleep on the same time base, and blocking work (model inference)
    run off the event loop so that its duration counts on this clock."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...

    async def sleep_until(self, t: float) -> None: ...

    async def run_blocking(self, fn: Callable[..., T], *args: object) -> T: ...


class RealClock:
    """Wall-clock monotonic time, counted from `origin` (e.g. the start of a call)."""

    def __init__(self, origin: float | None = None) -> None:
        self.origin = time.monotonic() if origin is None else origin

    def now(self) -> float:
        return time.monotonic() - self.origin

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    async def sleep_until(self, t: float) -> None:
        await self.sleep(t - self.now())

    async def run_blocking(self, fn: Callable[..., T], *args: object) -> T:
        return await asyncio.to_thread(fn, *args)


class VirtualClock:
    """Time that jumps over idle stretches: calls run faster than real time with the same code.

    Drive it with `await clock.run(coro)`. When every task waits on the clock, time jumps to the
    next wake-up. While blocking work given to `run_blocking` (model inference in a thread) is
    in flight, time flows at the real rate, so compute costs what it really costs and the rest
    of the call (media ticks, timers) keeps moving meanwhile, as it would live.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._jobs: set[asyncio.Future[Any]] = set()

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += max(0.0, seconds)

    async def sleep(self, seconds: float) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + max(0.0, seconds), next(self._seq), fut))
        await fut

    async def sleep_until(self, t: float) -> None:
        await self.sleep(t - self._now)

    async def run_blocking(self, fn: Callable[..., T], *args: object) -> T:
        started_v, started = self._now, time.perf_counter()
        job = asyncio.ensure_future(asyncio.to_thread(fn, *args))
        self._jobs.add(job)
        try:
            return await job
        finally:
            self._jobs.discard(job)  # the caller resumes no earlier than the work took
            self._now = max(self._now, started_v + time.perf_counter() - started)

    def _next_due(self) -> float | None:
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)
        return self._sleepers[0][0] if self._sleepers else None

    def _wake_due(self) -> None:
        while self._sleepers and self._sleepers[0][0] <= self._now + 1e-9:
            _, _, fut = heapq.heappop(self._sleepers)
            if not fut.done():
                fut.set_result(None)

    def wake_next(self) -> bool:
        """Jump to the earliest sleeper's time and wake all sleepers due then."""
        due = self._next_due()
        if due is None:
            return False
        self._now = max(self._now, due)
        self._wake_due()
        return True

    async def run(self, main: Awaitable[T]) -> T:
        """Run `main` to completion, advancing time only when nothing else can run."""
        task = asyncio.ensure_future(main)
        loop = asyncio.get_running_loop()
        while not task.done():
            await asyncio.sleep(0)
            if loop._ready:  # type: ignore[attr-defined]  # other callbacks still runnable
                continue
            if self._jobs:  # compute in flight: real time flows until it ends or a timer is due
                due = self._next_due()
                wait = None if due is None else max(0.0, due - self._now)
                started, started_v = time.perf_counter(), self._now
                await asyncio.wait(
                    list(self._jobs), timeout=wait, return_when=asyncio.FIRST_COMPLETED
                )
                self._now = max(self._now, started_v + time.perf_counter() - started)
                self._wake_due()
            elif not self.wake_next():
                await asyncio.sleep(0.001)  # waiting on something outside the clock
        return task.result()


class OffsetClock:
    """A call's clock on a shared base clock: 0 is the moment the call was answered."""

    def __init__(self, base: Clock) -> None:
        self.base, self.origin = base, base.now()

    def now(self) -> float:
        return self.base.now() - self.origin

    async def sleep(self, seconds: float) -> None:
        await self.base.sleep(seconds)

    async def sleep_until(self, t: float) -> None:
        await self.base.sleep_until(t + self.origin)

    async def run_blocking(self, fn: Callable[..., T], *args: object) -> T:
        return await self.base.run_blocking(fn, *args)
