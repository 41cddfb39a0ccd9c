"""Bad audio files reach WaveNet's data path as clear errors (via the spoken-digit loader)."""
import wave

import numpy as np
import pytest

from jax_ar import audio_clips, errors
from jax_ar.data import spoken_digit


def _write(path, samples_NxC, rate=8000, width=2):
    a = np.asarray(samples_NxC)
    if a.ndim == 1:
        a = a[:, None]
    with wave.open(str(path), "wb") as w:
        w.setnchannels(a.shape[1])
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes((a * 30000).astype("<i2").tobytes())
    return path


@pytest.fixture
def recordings(tmp_path):
    d = tmp_path / "spoken_digit" / "recordings"
    d.mkdir(parents=True)
    return d


def test_good_files_load_and_encode(recordings, tmp_path):
    t = np.arange(800) / 8000.0
    _write(recordings / "3_theo_0.wav", 0.5 * np.sin(2 * np.pi * 440 * t))
    _write(recordings / "3_theo_7.wav", 0.1 * np.sin(2 * np.pi * 220 * t))
    test = spoken_digit.load("test", tmp_path)
    assert [(d, s) for _, d, s in test] == [(3, spoken_digit.SPEAKERS.index("theo"))]
    codes = audio_clips.encode_clips([c for c, _, _ in test])
    assert codes[0].shape == (800,) and 0 <= codes[0].min() and codes[0].max() <= 255


def test_unexpected_sample_rate(recordings, tmp_path):
    _write(recordings / "1_george_0.wav", np.zeros(100), rate=16000)
    with pytest.raises(errors.DataFileError, match="sample rate 16000"):
        spoken_digit.load("test", tmp_path)


def test_stereo_file(recordings, tmp_path):
    _write(recordings / "1_george_1.wav", np.zeros((100, 2)))
    with pytest.raises(errors.DataFileError, match="2 channels"):
        spoken_digit.load("test", tmp_path)


def test_empty_clip(recordings, tmp_path):
    _write(recordings / "1_george_2.wav", np.zeros(0))
    with pytest.raises(errors.DataFileError, match="empty"):
        spoken_digit.load("test", tmp_path)


def test_not_a_wav(recordings, tmp_path):
    (recordings / "1_george_3.wav").write_bytes(b"RIFF....garbage")
    with pytest.raises(errors.DataFileError, match="corrupt"):
        spoken_digit.load("test", tmp_path)


def test_truncated_wav_and_unknown_speaker(recordings, tmp_path):
    good = _write(recordings / "1_george_3.wav", np.zeros(100))
    good.write_bytes(good.read_bytes()[:30])                  # cut inside the header
    with pytest.raises(errors.DataFileError, match=r"corrupt or non-WAV audio file .*: \S"):
        spoken_digit.load("test", tmp_path)
    good.unlink()
    _write(recordings / "3_bob_2.wav", np.zeros(100))
    with pytest.raises(errors.DataFileError, match=r"3_bob_2.wav': unknown speaker 'bob'; the Free Spoken"):
        spoken_digit.load("test", tmp_path)
