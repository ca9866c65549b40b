"""The decode scheduler shared by all calls: bounded slots, finals first, shorter first, given-up
speculation never runs; the backlog gauge and the dialer's admission rule on it."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from voicebot.asr.schedule import DecodeScheduler
from voicebot.campaign.config import DAYS, CallingWindow, CampaignConfig
from voicebot.campaign.contacts import import_contacts
from voicebot.campaign.dialer import CallResult, Dial, Dialer, WallClock
from voicebot.campaign.store import Store
from voicebot.core.backlog import Backlog, admit
from voicebot.core.clock import VirtualClock
from voicebot.core.outcomes import Outcome

pytestmark = pytest.mark.unit


class Work:
    """Blocking work that ends when the test says so; records what ran, in order."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.gates: dict[str, asyncio.Event] = {}

    async def run_blocking(self, fn: object, name: str) -> str:
        self.started.append(name)
        self.gates[name] = asyncio.Event()
        await self.gates[name].wait()
        return name

    async def finish(self, name: str) -> None:
        self.gates[name].set()
        for _ in range(5):
            await asyncio.sleep(0)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def submit(
    s: DecodeScheduler, work: Work, name: str, final: bool, audio_s: float
) -> asyncio.Task[str]:
    return asyncio.ensure_future(s.run(s.ticket(final, audio_s), work.run_blocking, str, name))


def test_finals_go_first_then_shorter_audio_and_slots_hold() -> None:
    async def main() -> list[str]:
        s, work = DecodeScheduler(slots=1, backlog=Backlog(), now=lambda: 0.0), Work()
        first = submit(s, work, "running", True, 5.0)
        await settle()
        submit(s, work, "spec", False, 1.0)
        submit(s, work, "long final", True, 9.0)
        submit(s, work, "short final", True, 2.0)
        await settle()
        assert work.started == ["running"] and s.queued == 3
        for name in ["running", "short final", "long final", "spec"]:
            await work.finish(name)
        assert await first == "running"
        return work.started

    assert asyncio.run(main()) == ["running", "short final", "long final", "spec"]


def test_a_long_turn_that_has_waited_is_not_overtaken_by_later_short_ones() -> None:
    t = [0.0]

    async def main() -> list[str]:
        s, work = DecodeScheduler(slots=1, backlog=Backlog(), now=lambda: t[0]), Work()
        submit(s, work, "running", True, 1.0)
        await settle()
        submit(s, work, "long, early", True, 9.0)  # due 0.9
        t[0] = 2.0
        submit(s, work, "short, late", True, 1.0)  # due 2.1
        await settle()
        for name in ["running", "long, early", "short, late"]:
            await work.finish(name)
        return work.started

    assert asyncio.run(main()) == ["running", "long, early", "short, late"]


def test_speculation_given_up_while_waiting_never_runs_and_a_promoted_one_goes_ahead() -> None:
    async def main() -> list[str]:
        s, work = DecodeScheduler(slots=1, backlog=Backlog(), now=lambda: 0.0), Work()
        submit(s, work, "running", True, 1.0)
        await settle()
        dropped = submit(s, work, "dropped spec", False, 1.0)
        final = submit(s, work, "final", True, 1.0)
        kept = s.ticket(False, 3.0)
        promoted = asyncio.ensure_future(s.run(kept, work.run_blocking, str, "promoted spec"))
        await settle()
        dropped.cancel()
        s.promote(kept)  # a final now, but longer than the waiting final: after it
        for name in ["running", "final", "promoted spec"]:
            await work.finish(name)
        await asyncio.gather(final, promoted)
        assert dropped.cancelled()
        return work.started

    assert asyncio.run(main()) == ["running", "final", "promoted spec"]


def test_promotion_puts_a_speculation_ahead_of_waiting_speculations() -> None:
    async def main() -> list[str]:
        s, work = DecodeScheduler(slots=1, backlog=Backlog(), now=lambda: 0.0), Work()
        submit(s, work, "running", True, 1.0)
        await settle()
        submit(s, work, "other spec", False, 1.0)
        kept = s.ticket(False, 8.0)
        turn_end = asyncio.ensure_future(s.run(kept, work.run_blocking, str, "turn end"))
        await settle()
        s.promote(kept)
        for name in ["running", "turn end", "other spec"]:
            await work.finish(name)
        assert await turn_end == "turn end"
        return work.started

    assert asyncio.run(main()) == ["running", "turn end", "other spec"]


def test_a_decode_given_up_while_running_keeps_its_slot_until_its_work_ends() -> None:
    async def main() -> None:
        s, work = DecodeScheduler(slots=1, backlog=Backlog(), now=lambda: 0.0), Work()
        running = submit(s, work, "obsolete spec", False, 1.0)
        await settle()
        running.cancel()
        nxt = submit(s, work, "final", True, 1.0)
        await settle()
        assert work.started == ["obsolete spec"] and s.busy  # the thread still computes
        await work.finish("obsolete spec")
        assert work.started == ["obsolete spec", "final"]
        await work.finish("final")
        assert await nxt == "final" and not s.busy

    asyncio.run(main())


def test_backlog_reports_the_oldest_waiting_final_then_a_smoothed_recent_wait() -> None:
    t = [0.0]
    gauge = Backlog(smoothing=0.5, now=lambda: t[0])
    assert gauge.lag_s() == 0.0
    gauge.waiting(1)
    gauge.waiting(2)
    t[0] = 3.0
    assert gauge.lag_s() == 3.0  # both still wait: the oldest counts
    gauge.started(1)
    gauge.forget(2)  # given up: it no longer waits
    assert gauge.lag_s() == 1.5  # half of the 3 s it waited
    gauge.no_wait()  # a final that found a free slot at once
    assert gauge.lag_s() == 0.75


def test_admission_holds_new_calls_while_the_recogniser_lags() -> None:
    assert admit(free_lines=4, in_progress=8, lag_s=0.1, max_lag_s=1.0) == 4
    assert admit(free_lines=4, in_progress=8, lag_s=0.6, max_lag_s=1.0) == 1
    assert admit(free_lines=4, in_progress=8, lag_s=1.0, max_lag_s=1.0) == 0
    assert admit(free_lines=4, in_progress=0, lag_s=5.0, max_lag_s=1.0) == 1  # stale: probe
    assert admit(free_lines=4, in_progress=8, lag_s=5.0, max_lag_s=None) == 4  # no bound
    assert admit(free_lines=0, in_progress=8, lag_s=0.0, max_lag_s=1.0) == 0


class CountingPlacer:
    """Calls that last 10 s on the campaign clock; records the most at once."""

    def __init__(self, clock: WallClock) -> None:
        self.clock, self.live, self.peak = clock, 0, 0

    async def place(self, dial: Dial) -> CallResult:
        self.live += 1
        self.peak = max(self.peak, self.live)
        await self.clock.sleep(10)
        self.live -= 1
        return CallResult(Outcome.COMPLETED, duration_s=10)


def peak_calls(tmp_path: Path, lag_s: float) -> int:
    store = Store(f"sqlite:///{tmp_path / f'lag{lag_s}.db'}")
    window = CallingWindow(start="00:00", end="23:59:59", days=list(DAYS))
    store.create("c", "prompts/survey_en.yaml", CampaignConfig(window=window, concurrency=2))
    rows = "phone\n" + "".join(f"+1 212 555 {1000 + i}\n" for i in range(4))
    (tmp_path / "c.csv").write_text(rows, encoding="utf-8")
    import_contacts(store, "c", tmp_path / "c.csv")
    vc = VirtualClock()
    clock = WallClock(vc, datetime(2026, 11, 23, 10, 0))
    placer = CountingPlacer(clock)
    dialer = Dialer(store, "c", placer, clock, poll_s=None, asr_lag=lambda: lag_s)
    assert asyncio.run(vc.run(dialer.run())) == "done"
    return placer.peak


def test_the_dialer_places_calls_one_at_a_time_while_the_recogniser_lags(tmp_path: Path) -> None:
    assert peak_calls(tmp_path, lag_s=0.0) == 2  # keeping up: every line
    assert peak_calls(tmp_path, lag_s=5.0) == 1  # far behind: only a probe when idle


class Beams:
    """A recogniser that notes the beam each decode asked for (the model is not under test)."""

    def __init__(self) -> None:
        self.asked: list[int | None] = []

    def transcribe(self, pcm: object, context: str = "", beam: int | None = None) -> str:
        self.asked.append(beam)
        return "words"


def test_a_decode_that_starts_while_others_wait_decodes_greedily() -> None:
    """With CPU to spare a decode uses the configured beam; one that takes its slot while other
    decodes still wait for one asks for beam 1, so the queue drains."""
    from voicebot.asr.turn import TurnRecognizer
    from voicebot.audio.frames import AudioFrame
    from voicebot.vad.endpoint import SpeechEnded, SpeechStarted

    async def main() -> list[int | None]:
        s = DecodeScheduler(slots=1, backlog=Backlog(), now=lambda: 0.0)
        recogniser, gates = Beams(), [asyncio.Event() for _ in range(3)]

        async def run_blocking(fn, pcm, context):  # type: ignore[no-untyped-def]
            result = fn(pcm, context)
            await gates[len(recogniser.asked) - 1].wait()
            return result

        turns = []
        for _ in range(3):
            turn = TurnRecognizer(
                recogniser,  # type: ignore[arg-type]
                speculate=False,
                run_blocking=run_blocking,
                scheduler=s,
            )
            turn.on_vad(SpeechStarted(0.0))
            for i in range(50):
                turn.push(AudioFrame(np.zeros(160, np.int16), 8000, i * 0.02))
            turns.append(turn)
        finals = [asyncio.ensure_future(turns[0].final(SpeechEnded(0.0, 0.9, 1.2)))]
        await settle()
        assert recogniser.asked == [None]  # alone: the configured beam
        finals += [asyncio.ensure_future(t.final(SpeechEnded(0.0, 0.9, 1.2))) for t in turns[1:]]
        await settle()
        assert s.queued == 2
        gates[0].set()
        await settle()
        assert recogniser.asked == [None, 1]  # the third still waits: greedy
        gates[1].set()
        await settle()
        gates[2].set()
        await asyncio.gather(*finals)
        return recogniser.asked

    assert asyncio.run(main()) == [None, 1, None]
