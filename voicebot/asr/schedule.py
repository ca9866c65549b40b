"""ASR decodes of all calls in a process, in order of need.

Calls share one recogniser per language, and its decodes share the CPU: with more decodes in
flight than the recogniser has workers, each one waits for all the others. The queue runs at most
`slots` decodes at once and lets the shortest waiting turn go first, so one caller's long
monologue does not hold up everyone's "yes". A decode cancelled while it waits (a speculative one
whose caller resumed speaking) never runs; one that has started runs to its end in its thread.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")
RunBlocking = Callable[..., Awaitable[Any]]


class DecodeQueue:
    """At most `slots` decodes at once; the waiting one with the least audio goes next."""

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError(f"a decode queue needs at least one slot, got {slots}")
        self.slots = slots
        self.running = 0
        self._waiting: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    @property
    def waiting(self) -> int:
        return sum(not f.done() for _, _, f in self._waiting)

    async def run(
        self, run_blocking: RunBlocking, cost: float, fn: Callable[..., T], *args: Any
    ) -> T:
        """`run_blocking(fn, *args)` once a slot is free; `cost` orders the waiting (audio
        seconds: the shortest turn first, ties in arrival order)."""
        await self._acquire(cost)
        try:
            result: T = await run_blocking(fn, *args)
            return result
        finally:
            self._release()

    async def _acquire(self, cost: float) -> None:
        if self.running < self.slots and not self.waiting:
            self.running += 1
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (cost, next(self._seq), turn))
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._release()  # handed a slot just as it was cancelled: pass it on
            raise

    def _release(self) -> None:
        while self._waiting:
            _, _, turn = heapq.heappop(self._waiting)
            if not turn.done():
                turn.set_result(None)  # the slot passes straight to the next decode
                return
        self.running -= 1
