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


def test_no_hold_cuts_at_once() -> None:
    assert BargeIn(hold_s=0.0, language="en").speech_started(1.0)
