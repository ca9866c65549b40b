import wave

import numpy as np
import pytest

from voicebot.audio.frames import split_frames
from voicebot.audio.wav import read_wav, write_wav
from voicebot.core.errors import AudioFormatError

pytestmark = pytest.mark.unit


def _tone(rate: int, seconds: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)


def test_round_trip_and_resample(tmp_path) -> None:
    write_wav(tmp_path / "a.wav", _tone(44100), 44100)
    pcm, rate = read_wav(tmp_path / "a.wav", rate=16000)
    assert rate == 16000 and abs(len(pcm) - 8000) <= 2 and pcm.dtype == np.int16


def test_8_bit_and_32_bit_are_converted(tmp_path) -> None:
    for width, data in [(1, (np.arange(800) % 256).astype(np.uint8)), (4, np.zeros(800, "<i4"))]:
        path = tmp_path / f"w{width}.wav"
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(width)
            w.setframerate(8000)
            w.writeframes(data.tobytes())
        pcm, rate = read_wav(path)
        assert pcm.dtype == np.int16 and len(pcm) == 800 and rate == 8000


def test_stereo_channel_selection(tmp_path) -> None:
    left, right = _tone(8000), np.zeros(4000, np.int16)
    write_wav(tmp_path / "s.wav", np.stack([left, right], axis=1), 8000)
    assert np.array_equal(read_wav(tmp_path / "s.wav", channel=0)[0], left)
    assert not read_wav(tmp_path / "s.wav", channel=1)[0].any()
    with pytest.raises(AudioFormatError, match="channel 2"):
        read_wav(tmp_path / "s.wav", channel=2)


def test_bad_files_are_rejected_with_the_path(tmp_path) -> None:
    (tmp_path / "junk.wav").write_bytes(b"RIFF....not a wave at all")
    with pytest.raises(AudioFormatError, match=r"junk.wav: not a PCM WAV"):
        read_wav(tmp_path / "junk.wav")
    write_wav(tmp_path / "empty.wav", np.zeros(0, np.int16), 8000)
    with pytest.raises(AudioFormatError, match=r"empty.wav: contains no audio"):
        read_wav(tmp_path / "empty.wav")
    with pytest.raises(AudioFormatError, match=r"missing.wav: file not found"):
        read_wav(tmp_path / "missing.wav")


def test_framing_pads_the_last_frame_and_stamps_times() -> None:
    frames = list(split_frames(np.ones(330, np.int16), 8000, t0=1.0))
    assert [len(f.pcm) for f in frames] == [160, 160, 160]
    assert [round(f.t, 3) for f in frames] == [1.0, 1.02, 1.04]
    assert frames[-1].pcm[10:].sum() == 0
