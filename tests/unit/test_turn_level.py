"""The level meter of a caller turn: active speech level, noise floor from the frames around the
turn, frame loss; and what it says (quiet, noisy, ok) at the thresholds of vad/level.py."""

import numpy as np
import pytest

from voicebot.audio.frames import AudioFrame
from voicebot.vad.level import (
    NOISY_SNR_DB,
    QUIET_DBFS,
    Audibility,
    LevelMeter,
    TurnLevel,
    power_mean_db,
)
from voicebot.vad.webrtc import frame_dbfs

pytestmark = pytest.mark.unit
RATE = 8000


def tone_frame(dbfs: float, t: float, rng: np.random.Generator) -> AudioFrame:
    """A 20 ms frame of noise-like 'speech' at `dbfs` RMS."""
    x = rng.normal(0, 32768 * 10 ** (dbfs / 20), RATE // 50)
    return AudioFrame(np.clip(x, -32768, 32767).astype(np.int16), RATE, t)


def meter_of(speech_db: float, noise_db: float | None, lost_every: int = 0) -> LevelMeter:
    """1 s of line (noise or silence), 1 s of speech, 0.3 s of hangover."""
    rng = np.random.default_rng(1)
    meter = LevelMeter()
    for i in range(115):
        t = i * 0.02
        speaking = 50 <= i < 100
        lost = bool(lost_every) and speaking and i % lost_every == 0
        if lost:  # the tick gets nothing; the next frame shows the gap
            meter.push(t, -120.0, False, received=False)
            continue
        missing = int(bool(lost_every) and speaking and (i - 1) % lost_every == 0)
        db = speech_db if speaking else noise_db
        if db is None:
            meter.push(t, -120.0, False)
            continue
        level = frame_dbfs(tone_frame(db, t, rng))
        meter.push(t, level, speaking, missing=missing)
    return meter


def test_clean_speech_is_measured_at_its_level_over_digital_silence() -> None:
    level = meter_of(-26.0, None).turn(1.0, 2.0)
    assert level.speech_dbfs == pytest.approx(-26.0, abs=0.5)
    assert level.noise_dbfs == -120.0
    assert level.audibility() is Audibility.OK


def test_noise_floor_comes_from_the_frames_around_the_turn() -> None:
    level = meter_of(-24.0, -30.0).turn(1.0, 2.0)
    assert level.noise_dbfs == pytest.approx(-30.0, abs=0.5)
    assert level.snr_db == pytest.approx(6.0, abs=1.0)
    assert level.audibility() is Audibility.NOISY


def test_quiet_speech_is_quiet_and_normal_speech_on_a_fair_line_is_ok() -> None:
    assert meter_of(-50.0, -90.0).turn(1.0, 2.0).audibility() is Audibility.QUIET
    assert meter_of(-30.0, -55.0).turn(1.0, 2.0).audibility() is Audibility.OK


def test_a_gap_in_the_frames_is_loss_however_late_the_frames_come() -> None:
    meter = LevelMeter()
    for i in range(40):  # a backlog: one frame in three lost, yet one arrives at every tick
        meter.push(i * 0.02, -26.0, True, missing=i % 2)
    assert meter.turn(0.0, 0.8).loss == pytest.approx(1 / 3, abs=0.01)


def test_lost_frames_count_as_loss_not_as_silence() -> None:
    level = meter_of(-26.0, -60.0, lost_every=4).turn(1.0, 2.0)
    assert level.loss == pytest.approx(0.26, abs=0.03)
    assert level.noise_dbfs == pytest.approx(-60.0, abs=0.5)
    assert level.speech_dbfs == pytest.approx(-26.0, abs=0.5)


def test_a_turn_without_pauses_takes_its_quietest_frames_as_the_floor() -> None:
    meter = LevelMeter()
    for i in range(50):
        meter.push(i * 0.02, -20.0 if i % 10 else -28.0, True)
    level = meter.turn(0.0, 1.0)
    assert level.noise_dbfs == -28.0


def test_thresholds_sit_between_normal_and_failing_lines() -> None:
    assert -36.0 > QUIET_DBFS > -56.0  # the quietest normal caller is still ok
    assert TurnLevel(-24.0, -24.0 - NOISY_SNR_DB - 0.1).audibility() is Audibility.OK
    assert TurnLevel(-24.0, -24.0 - NOISY_SNR_DB + 0.1).audibility() is Audibility.NOISY
    assert power_mean_db([-20.0, -120.0]) == pytest.approx(-23.0, abs=0.1)


def test_a_turn_without_words_is_judged_by_its_line_not_by_its_snr() -> None:
    burst_on_a_fair_line = TurnLevel(-48.0, -50.0)  # the VAD fired on the line's own hiss
    assert burst_on_a_fair_line.audibility() is Audibility.NOISY
    assert burst_on_a_fair_line.without_words() is Audibility.OK  # ignored, as before
    assert TurnLevel(-50.0, -120.0).without_words() is Audibility.QUIET  # a faint voice
    assert TurnLevel(-30.0, -50.0).without_words() is Audibility.OK  # a cough
    assert TurnLevel(-28.0, -31.0).without_words() is Audibility.NOISY  # a roaring line
