"""The shared ASR decode queue: bounded, shortest turn first, cancelled waiters never run."""

import asyncio
from typing import Any

import pytest

from voicebot.asr.schedule import DecodeQueue

pytestmark = pytest.mark.unit


class Worker:
    """Stands in for the recogniser's thread: each job runs until the test releases it."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.release: dict[str, asyncio.Event] = {}

    async def run_blocking(self, fn: Any, name: str) -> str:
        self.started.append(name)
        self.release[name] = asyncio.Event()
        await self.release[name].wait()
        return str(fn(name))

    async def finish(self, name: str) -> None:
        while name not in self.release:
            await asyncio.sleep(0)
        self.release[name].set()
        for _ in range(5):
            await asyncio.sleep(0)


def submit(queue: DecodeQueue, worker: Worker, name: str, cost: float) -> asyncio.Task[str]:
    return asyncio.ensure_future(queue.run(worker.run_blocking, cost, str.upper, name))


def test_the_shortest_waiting_turn_goes_first_and_slots_bound_the_work() -> None:
    async def main() -> tuple[list[str], list[str]]:
        queue, worker = DecodeQueue(slots=1), Worker()
        jobs = [submit(queue, worker, "monologue", 20.0)]
        await asyncio.sleep(0)
        jobs += [submit(queue, worker, n, c) for n, c in [("long", 8.0), ("yes", 0.6), ("no", 0.6)]]
        await asyncio.sleep(0)
        assert worker.started == ["monologue"] and queue.waiting == 3
        for name in ["monologue", "yes", "no", "long"]:
            await worker.finish(name)
        return worker.started, [await j for j in jobs]

    started, results = asyncio.run(main())
    assert started == ["monologue", "yes", "no", "long"]  # by length, ties in arrival order
    assert results == ["MONOLOGUE", "LONG", "YES", "NO"]


def test_a_decode_cancelled_while_waiting_never_runs_and_frees_nothing_twice() -> None:
    async def main() -> tuple[list[str], int]:
        queue, worker = DecodeQueue(slots=2), Worker()
        a, b = submit(queue, worker, "a", 1.0), submit(queue, worker, "b", 1.0)
        await asyncio.sleep(0)
        spec, final = submit(queue, worker, "speculative", 0.5), submit(queue, worker, "c", 2.0)
        await asyncio.sleep(0)
        spec.cancel()
        await worker.finish("a")
        await worker.finish("c")
        await worker.finish("b")
        await asyncio.gather(a, b, final)
        return worker.started, queue.running

    started, running = asyncio.run(main())
    assert "speculative" not in started
    assert started == ["a", "b", "c"] and running == 0
