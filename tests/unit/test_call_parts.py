"""The pieces of a call that need no models: the virtual clock, the loopback line, the playout."""

import asyncio
import time

import numpy as np
import pytest

from voicebot.audio.frames import AudioFrame
from voicebot.core.clock import VirtualClock
from voicebot.core.outcomes import Outcome
from voicebot.metrics.report import BotLine, CallReport, abandonment_rate
from voicebot.session.amd import is_machine
from voicebot.session.playout import Playout
from voicebot.telephony.loopback import Impairment, LoopbackLine

pytestmark = pytest.mark.unit


def test_virtual_clock_jumps_over_sleeps_and_charges_blocking_work() -> None:
    clock = VirtualClock()
    marks: list[tuple[str, float]] = []

    async def sleeper() -> None:
        await clock.sleep(30.0)
        marks.append(("slept", clock.now()))

    async def worker() -> None:
        await clock.run_blocking(time.sleep, 0.2)
        marks.append(("worked", clock.now()))

    async def main() -> None:
        await asyncio.gather(sleeper(), worker())

    started = time.perf_counter()
    asyncio.run(clock.run(main()))
    assert time.perf_counter() - started < 2.0  # 30 virtual seconds, not 30 real ones
    assert marks[0][0] == "worked" and 0.2 <= marks[0][1] < 0.5
    assert marks[1] == ("slept", 30.0)


def test_timers_keep_running_while_blocking_work_is_in_flight() -> None:
    clock = VirtualClock()
    ticks: list[float] = []

    async def ticker() -> None:
        for _ in range(10):
            await clock.sleep(0.02)
            ticks.append(clock.now())

    async def main() -> None:
        await asyncio.gather(ticker(), clock.run_blocking(time.sleep, 0.3))

    asyncio.run(clock.run(main()))
    assert len(ticks) == 10 and ticks[-1] < 0.3  # ticked during the 0.3 s of work


def frame(value: int, t: float = 0.0) -> AudioFrame:
    return AudioFrame(np.full(160, value, np.int16), 8000, t)


def test_loopback_delivers_in_order_loses_and_adds_noise_as_configured() -> None:
    async def main() -> None:
        clock = VirtualClock()
        clean = LoopbackLine(clock)
        for i in range(5):
            clean.callee.send(frame(i))
        got = [clean.bot.receive() for _ in range(6)]
        assert [int(f.pcm[0]) for f in got[:5] if f] == [0, 1, 2, 3, 4] and got[5] is None
        clean.bot.send(frame(9))
        assert int(clean.callee.receive().pcm[0]) == 9  # type: ignore[union-attr]

        lossy = LoopbackLine(clock, impairment=Impairment(loss=0.5, noise_snr_db=10, seed=1))
        for _ in range(400):
            lossy.callee.send(frame(0))
        received = []
        while (f := lossy.bot.receive()) is not None:
            received.append(f)
        assert 150 < len(received) < 250
        assert np.std(np.concatenate([f.pcm for f in received])) > 500  # noise on silence

    asyncio.run(main())


def test_loopback_jitter_delays_frames_until_they_arrive() -> None:
    async def main() -> None:
        clock = VirtualClock()
        line = LoopbackLine(clock, impairment=Impairment(jitter_ms=40, seed=3))
        for i in range(20):
            line.callee.send(frame(i))
        early = []
        while (f := line.bot.receive()) is not None:
            early.append(f)
        clock.advance(0.05)
        late = []
        while (f := line.bot.receive()) is not None:
            late.append(f)
        assert len(early) < 20 and len(early) + len(late) == 20

    asyncio.run(main())


def test_hang_up_is_idempotent_and_remembers_who() -> None:
    async def main() -> None:
        line = LoopbackLine(VirtualClock())
        line.hang_up("callee")
        line.hang_up("bot")
        assert line.ended.is_set() and line.ended_by == "callee"

    asyncio.run(main())


def test_playout_plays_lines_in_order_and_barge_in_cuts_unprotected_lines() -> None:
    playout = Playout(8000)
    first = playout.add("greet", "hello", protected=True, t=0.0)
    first.audio.append(np.ones(400, np.int16))
    first.synthesised = True
    second = playout.add("q1", "question", protected=False, t=0.0)
    second.audio.append(np.full(800, 2, np.int16))
    second.synthesised = True
    out = [playout.next_frame(i * 0.02) for i in range(3)]
    assert [int(o[0]) for o in out if o is not None] == [1, 1, 1]  # 400 samples = 2.5 frames
    assert not playout.interrupt(0.06)  # protected: not cut
    assert int(playout.next_frame(0.08)[0]) == 2  # type: ignore[index]
    assert playout.interrupt(0.1) and not playout.busy
    assert second.interrupted_at == 0.1 and first.interrupted_at is None
    assert first.first_audio_at == 0.0 and second.first_audio_at == 0.08
    assert playout.next_frame(0.12) is None


def test_playout_waits_for_synthesis_without_ending_the_line() -> None:
    playout = Playout(8000)
    line = playout.add("q1", "question", protected=False, t=0.0)
    assert playout.next_frame(0.0) is None and playout.busy  # a gap, not the end
    line.audio.append(np.ones(160, np.int16))
    line.synthesised = True
    assert playout.next_frame(0.02) is not None
    assert playout.next_frame(0.04) is None and not playout.busy and line.ended_at == 0.04


@pytest.mark.parametrize(
    ("words", "seconds", "machine"),
    [
        ("Hello?", 0.6, False),
        ("Hi, you've reached Ann, leave a message after the tone", 3.0, True),
        ("喂，你好", 0.8, False),
        ("您拨打的用户暂时无法接听", 2.5, True),
        ("hello hello", 5.0, False),  # a long hello is a person (issue 15)
    ],
)
def test_answering_machine_from_first_words(words: str, seconds: float, machine: bool) -> None:
    assert is_machine(words, seconds) is machine


def _greeted(
    first_audio_at: float | None, hello_end_at: float | None, outcome: Outcome
) -> CallReport:
    report = CallReport(
        call_id="x",
        script="s",
        script_path="",
        language="en",
        transport="t",
        outcome=outcome,
        hello_end_at=hello_end_at,
    )
    report.bot_lines = [
        BotLine(
            node="greet",
            text="Hi",
            queued_at=0.0,
            first_audio_at=first_audio_at,
            ended_at=None,
            interrupted=False,
        )
    ]
    return report


def test_abandoned_is_first_bot_audio_over_2_s_after_the_hello_or_none() -> None:
    assert _greeted(2.5, 0.8, Outcome.COMPLETED).abandoned() is False  # 1.7 s after the hello
    assert _greeted(3.0, 0.8, Outcome.COMPLETED).abandoned() is True  # 2.2 s
    assert _greeted(2.5, None, Outcome.COMPLETED).abandoned() is True  # silent callee: from answer
    assert _greeted(None, 0.8, Outcome.HUNG_UP).abandoned() is True  # never heard the bot
    assert _greeted(None, None, Outcome.VOICEMAIL).abandoned() is None  # no person answered
    flags = [_greeted(3.0, 0.8, Outcome.COMPLETED).abandoned(), False, False, None]
    assert abandonment_rate(flags) == (0.3333, 3)


def test_a_late_line_opens_with_its_bridge_and_a_ready_one_does_not() -> None:
    playout = Playout(8000, bridge_after_s=0.1)
    late = playout.add("purpose", "a line still rendering", protected=False, t=0.0)
    late.bridge = np.full(160, 7, np.int16)  # one frame of "okay"
    out = [playout.next_frame(i * 0.02) for i in range(6)]
    assert out[:5] == [None] * 5  # a short wait first: a quick render needs no bridge
    assert out[5] is not None and int(out[5][0]) == 7 and late.bridged_at == 0.1
    late.audio.append(np.full(160, 3, np.int16))
    late.synthesised = True
    assert int(playout.next_frame(0.12)[0]) == 3  # type: ignore[index]  # then the line itself
    ready = playout.add("q1", "a rendered line", protected=False, t=0.14)
    ready.bridge = np.full(160, 7, np.int16)
    ready.audio.append(np.full(160, 5, np.int16))
    ready.synthesised = True
    frames = [playout.next_frame(0.14 + i * 0.02) for i in range(10)]
    assert [int(f[0]) for f in frames if f is not None] == [5] and ready.bridged_at is None
