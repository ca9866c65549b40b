import pytest

from voicebot.vad.endpoint import (
    EndOfTurn,
    EndpointConfig,
    NoiseIgnored,
    SpeechEnded,
    SpeechPaused,
    SpeechResumed,
    SpeechStarted,
)

pytestmark = pytest.mark.unit
CFG = EndpointConfig(frame_ms=20, start_ms=60, hangover_ms=300, min_speech_ms=150)


def run(pattern: str, config: EndpointConfig = CFG) -> list:
    """One char per 20 ms frame: 'S' speech, '.' silence."""
    eot = EndOfTurn(config)
    events = []
    for i, c in enumerate(pattern):
        events += eot.step(c == "S", round(i * 0.02, 3))
    return events


def test_turn_ends_after_hangover_and_reports_true_end() -> None:
    events = run("." * 5 + "S" * 25 + "." * 20)
    assert events[0] == SpeechStarted(0.1)
    assert events[1] == SpeechPaused(0.6)
    ended = events[-1]
    assert isinstance(ended, SpeechEnded)
    assert ended.start == 0.1 and ended.end == 0.6  # true end, not end of hangover
    assert ended.confirmed_at == pytest.approx(0.9)


def test_no_end_before_hangover_expires() -> None:
    events = run("S" * 20 + "." * 14)  # 280 ms of silence < 300 ms hangover
    assert not any(isinstance(e, SpeechEnded) for e in events)


def test_short_noise_burst_never_starts_speech() -> None:
    assert run("." * 3 + "SS" + "." * 30) == []  # 40 ms < start_ms


def test_burst_longer_than_onset_but_shorter_than_min_speech_is_noise() -> None:
    events = run("SSSSS" + "." * 20)  # 100 ms confirmed onset, < 150 ms minimum
    assert isinstance(events[-1], NoiseIgnored)
    assert not any(isinstance(e, SpeechEnded) for e in events)


def test_speech_resuming_inside_hangover_continues_the_turn() -> None:
    events = run("S" * 20 + "." * 10 + "S" * 10 + "." * 20)
    kinds = [type(e) for e in events]
    assert kinds == [SpeechStarted, SpeechPaused, SpeechResumed, SpeechPaused, SpeechEnded]
    assert events[-1].start == 0.0 and events[-1].end == pytest.approx(0.8)


def test_turn_is_cut_at_max_length() -> None:
    config = CFG.model_copy(update={"max_turn_ms": 1000})
    events = run("S" * 80, config)
    ended = [e for e in events if isinstance(e, SpeechEnded)]
    assert len(ended) == 1 and ended[0].end == pytest.approx(1.0)


def test_the_words_so_far_set_the_hangover_of_the_pause_under_way() -> None:
    eot = EndOfTurn(CFG)
    for i in range(10):
        eot.step(True, round(i * 0.02, 3))
    eot.step(False, 0.2)
    assert eot.pause_at == 0.2
    eot.set_hangover(100)  # the words end a turn: 100 ms of silence is enough
    events = [e for t in (0.22, 0.24, 0.26, 0.28) for e in eot.step(False, t)]
    ended = [e for e in events if isinstance(e, SpeechEnded)]
    assert ended and ended[0].end == 0.2 and ended[0].confirmed_at == pytest.approx(0.3)


def test_a_resumed_turn_goes_back_to_the_configured_hangover() -> None:
    eot = EndOfTurn(CFG)
    pattern = "S" * 10 + "." * 3 + "S" * 10 + "." * 12
    events = []
    for i, c in enumerate(pattern):
        events += eot.step(c == "S", round(i * 0.02, 3))
        if i == 11:
            eot.set_hangover(2000)  # "and ...": wait longer, but only for this pause
    assert any(isinstance(e, SpeechResumed) for e in events)
    assert not any(isinstance(e, SpeechEnded) for e in events)  # 240 ms < 300 ms
    more = [e for i in range(35, 40) for e in eot.step(False, round(i * 0.02, 3))]
    assert any(isinstance(e, SpeechEnded) for e in more)
