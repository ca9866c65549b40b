"""The wallboard tells ringing calls from answered ones: the transport reports the pick-up
through the dial, and the console's live bus counts each call in exactly one of the two."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from voicebot.app.trunks import SimulatedTrunk
from voicebot.campaign.dialer import CallResult, Dial, WallClock
from voicebot.campaign.store import Store
from voicebot.core.clock import VirtualClock
from voicebot.core.outcomes import Outcome
from voicebot.web.metrics import ConsoleMetrics
from voicebot.web.runner import LiveBus, _LivePlacer

pytestmark = pytest.mark.unit


def _dial(attempt: int, on_answer=None) -> Dial:  # type: ignore[no-untyped-def]
    return Dial(attempt, attempt, f"+1415555{attempt:04d}", "", {}, 1, on_answer=on_answer)


def test_the_simulated_trunk_reports_a_pick_up_only_for_answered_calls() -> None:
    clock = VirtualClock()
    wall = WallClock(clock)

    async def place(outcome: Outcome) -> tuple[list[float], float]:
        picked: list[float] = []
        trunk = SimulatedTrunk(wall, outcomes={outcome: 1.0})
        await trunk.place(_dial(1, on_answer=lambda: picked.append(clock.now())))
        return picked, clock.now()

    async def main() -> None:
        start = clock.now()
        picked, ended = await place(Outcome.COMPLETED)
        assert len(picked) == 1 and start + 3 <= picked[0] < ended  # after a ring, before the end
        picked, _ = await place(Outcome.NO_ANSWER)
        assert picked == []

    asyncio.run(clock.run(main()))


class _Scripted:
    """A transport that picks up when told to and ends when told to."""

    def __init__(self) -> None:
        self.pick_up: dict[int, asyncio.Event] = {}
        self.hang_up: dict[int, asyncio.Event] = {}

    async def place(self, dial: Dial) -> CallResult:
        pick_up = self.pick_up.setdefault(dial.attempt_id, asyncio.Event())
        hang_up = self.hang_up.setdefault(dial.attempt_id, asyncio.Event())
        await pick_up.wait()
        if dial.attempt_id != 3:  # call 3 is never answered
            dial.answered()
            dial.answered()  # a transport saying it twice still counts once
        await hang_up.wait()
        return CallResult(outcome=Outcome.COMPLETED if dial.attempt_id != 3 else Outcome.NO_ANSWER)


def test_the_live_bus_counts_each_call_as_ringing_then_answered_then_gone(tmp_path: Path) -> None:
    bus, inner = LiveBus(), _Scripted()
    metrics = ConsoleMetrics(Store(f"sqlite:///{tmp_path / 'c.db'}"))
    placer = _LivePlacer(inner, "spring", bus, metrics, None)
    seen: list[int] = []

    async def main() -> None:
        assert bus.calls("spring") is None  # placed nothing: unknown, not zero
        calls = [
            asyncio.ensure_future(placer.place(_dial(i, lambda: seen.append(1)))) for i in (1, 2, 3)
        ]
        await asyncio.sleep(0.01)
        assert bus.calls("spring") == (3, 0)
        inner.pick_up[1].set()
        await asyncio.sleep(0.01)
        assert bus.calls("spring") == (2, 1)
        inner.pick_up[3].set()  # rings out
        inner.hang_up[3].set()
        await asyncio.sleep(0.01)
        assert bus.calls("spring") == (1, 1)
        inner.pick_up[2].set()
        inner.hang_up[1].set()
        await asyncio.sleep(0.01)
        assert bus.calls("spring") == (0, 1)
        inner.hang_up[2].set()
        await asyncio.gather(*calls)
        assert bus.calls("spring") == (0, 0)
        assert len(seen) == 2  # the dialler's own hook still hears each pick-up (once per call)

    asyncio.run(main())
