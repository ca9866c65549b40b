"""Barge-in decisions: held speech cuts, a short backchannel does not, other short words do."""

import pytest

from voicebot.session.bargein import BargeIn

pytestmark = pytest.mark.unit


def test_speech_held_over_the_bot_cuts_but_a_pause_does_not_count_as_speaking() -> None:
    barge = BargeIn(hold_s=0.5, language="en")
    assert not barge.speech_started(2.0)
    assert not barge.due(2.4, speaking=True)
    assert not barge.due(2.6, speaking=False)  # paused: waits for the words instead
    assert barge.due(2.62, speaking=True)
    assert barge.onset is None


def test_a_short_turn_is_judged_by_its_words() -> None:
    barge = BargeIn(hold_s=0.5, language="zh")
    barge.speech_started(3.0)
    assert barge.heard("嗯。", 3.0) is False  # listening, not taking the turn
    barge.speech_started(5.0)
    assert barge.heard("等一下。", 5.0) is True
    assert barge.heard("等一下。", 5.0) is None  # nothing waiting any more


def test_unsure_stray_words_let_the_line_go_on_but_a_stop_word_cuts_however_unsure() -> None:
    barge = BargeIn(hold_s=1.0, language="zh")
    barge.speech_started(1.0)
    assert barge.heard("推了", 1.0, confidence=0.2) is False  # a misheard 对
    barge.speech_started(2.0)
    assert barge.heard("你是谁", 2.0, confidence=0.2) is True
    barge.speech_started(3.0)
    assert barge.heard("我要投诉", 3.0, confidence=0.6) is True  # sure words take the turn
    en = BargeIn(hold_s=1.0, language="en")
    en.speech_started(1.0)
    assert en.heard("Uh-", 1.0, confidence=0.9) is False  # a filler: nobody took the turn
    en.speech_started(2.0)
    assert en.heard("Wait.", 2.0, confidence=0.1) is True
    en.speech_started(3.0)
    assert en.heard("Matlet.", 3.0, confidence=0.15) is False
    en.speech_started(4.0)
    assert en.heard("I want to complain.", 4.0, confidence=0.7) is True


def test_no_hold_cuts_at_once() -> None:
    assert BargeIn(hold_s=0.0, language="en").speech_started(1.0)


def test_speech_without_words_does_not_cut() -> None:
    barge = BargeIn(hold_s=0.5, language="en")
    barge.speech_started(4.0)
    assert barge.heard("", 4.0) is False and barge.onset is None


def test_a_paused_line_goes_on_from_where_it_paused_and_a_cut_drops_it() -> None:
    import numpy as np

    from voicebot.session.playout import Playout

    playout = Playout(8000)
    line = playout.add("q1", "On a scale of one to five", protected=False, t=0.0)
    line.audio.extend(np.full(160, i, np.int16) for i in range(1, 6))
    line.synthesised = True
    assert playout.next_frame(0.02)[0] == 1
    assert playout.pause(0.04) and line.paused_at == [0.04]
    assert playout.next_frame(0.04) is None and playout.busy  # quiet, still its turn
    playout.resume()
    assert [playout.next_frame(0.1)[0] for _ in range(2)] == [2, 3]  # nothing skipped
    assert playout.pause(0.2) and playout.interrupt(0.22)
    assert not playout.busy and not playout.paused and line.interrupted_at == 0.22


def test_a_protected_line_does_not_pause() -> None:
    import numpy as np

    from voicebot.session.playout import Playout

    playout = Playout(8000)
    line = playout.add("greet", "Hello, this call is recorded", protected=True, t=0.0)
    line.audio.append(np.ones(320, np.int16))
    assert playout.next_frame(0.02) is not None
    assert not playout.pause(0.03) and playout.next_frame(0.04) is not None
