import wave

import numpy as np
import pytest

from jax_ar.data import binarized_mnist, files, shakespeare, spoken_digit, synthetic
from jax_ar.errors import ConfigError, DataFileError


def _fake_mnist_dir(tmp_path, n=3, corrupt=False):
    d = tmp_path / "binarized_mnist"
    d.mkdir()
    rng = np.random.default_rng(0)
    for split in ("train", "valid", "test"):
        x = rng.integers(0, 2, (n, 784))
        text = "\n".join(" ".join(map(str, r)) for r in x) + "\n"
        if corrupt:
            text = text.replace("1", "7", 1)
        (d / f"binarized_mnist_{split}.amat").write_text(text)
    return x


def test_amat_parser_reads_exact_pixels(tmp_path):
    x = _fake_mnist_dir(tmp_path)
    raw = (tmp_path / "binarized_mnist" / "binarized_mnist_test.amat").read_bytes()
    np.testing.assert_array_equal(binarized_mnist.parse_amat(raw), x)


def test_missing_file_names_file_place_and_sha(tmp_path):
    with pytest.raises(DataFileError, match=r"missing data file 'binarized_mnist/binarized_mnist_test.amat'"
                       r".*looked for .*expected sha256 e6687bfe"):
        binarized_mnist.load("test", tmp_path)


def test_corrupt_file_is_a_clear_error(tmp_path):
    _fake_mnist_dir(tmp_path, corrupt=True)
    with pytest.raises(DataFileError, match="corrupt data file .*pixel values other than 0 and 1"):
        binarized_mnist.load("test", tmp_path)
    (tmp_path / "binarized_mnist" / "binarized_mnist_test.amat").write_bytes(b"0 1 0\n")
    with pytest.raises(DataFileError, match="corrupt data file"):
        binarized_mnist.load("test", tmp_path)


def test_data_dir_resolution(tmp_path, monkeypatch):
    with pytest.raises(DataFileError, match="from --data_dir"):
        files.resolve_data_dir(tmp_path / "nope")
    monkeypatch.setenv(files.ENV_VAR, str(tmp_path))
    assert files.resolve_data_dir(None) == tmp_path.resolve()
    monkeypatch.setenv(files.ENV_VAR, str(tmp_path / "nope"))
    with pytest.raises(DataFileError, match="JAX_AR_DATA_DIR"):
        files.resolve_data_dir(None)


def test_shakespeare_splits():
    text = "abcdefghij" * 10
    s = shakespeare.split(text, "tfds")
    assert [len(s[k]) for k in ("train", "validation", "test")] == [90, 5, 5]
    s = shakespeare.split(text, "nanogpt")
    assert len(s["train"]) == 90 and len(s["validation"]) == 10
    with pytest.raises(ConfigError, match="unknown split scheme"):
        shakespeare.split(text, "80/20")


def _wav(path, data, rate=8000, channels=1):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.asarray(data, "<i2").tobytes())


def test_wav_reader_and_bad_audio(tmp_path):
    _wav(tmp_path / "ok.wav", [0, 16384, -32768])
    np.testing.assert_allclose(spoken_digit.read_wav(tmp_path / "ok.wav"), [0, 0.5, -1.0])
    _wav(tmp_path / "fast.wav", [0, 1], rate=16000)
    with pytest.raises(DataFileError, match="sample rate 16000 Hz; expected 8000"):
        spoken_digit.read_wav(tmp_path / "fast.wav")
    _wav(tmp_path / "stereo.wav", [0, 1, 2, 3], channels=2)
    with pytest.raises(DataFileError, match="2 channels"):
        spoken_digit.read_wav(tmp_path / "stereo.wav")
    _wav(tmp_path / "empty.wav", [])
    with pytest.raises(DataFileError, match="empty"):
        spoken_digit.read_wav(tmp_path / "empty.wav")
    (tmp_path / "junk.wav").write_bytes(b"not a wav")
    with pytest.raises(DataFileError, match="corrupt or non-WAV"):
        spoken_digit.read_wav(tmp_path / "junk.wav")


def test_spoken_digit_official_split(tmp_path):
    rec = tmp_path / "spoken_digit" / "recordings"
    rec.mkdir(parents=True)
    for name in ("3_theo_0.wav", "3_theo_4.wav", "3_theo_5.wav", "7_lucas_49.wav"):
        _wav(rec / name, [1, 2, 3])
    assert [(d, s) for _, d, s in spoken_digit.load("test", tmp_path)] == [(3, 4), (3, 4)]
    assert len(spoken_digit.load("train", tmp_path)) == 2


def test_synthetic_sources_report_true_entropy():
    chain = synthetic.markov_chain(4, seed=1)
    np.testing.assert_allclose(chain.transition_VxV.sum(1), 1.0)
    np.testing.assert_allclose(chain.stationary_V @ chain.transition_VxV, chain.stationary_V, atol=1e-10)
    s = chain.sample(200000, seed=0)
    emp = -np.mean(np.log(chain.transition_VxV[s[:-1], s[1:]]))
    assert emp == pytest.approx(chain.entropy_rate(), rel=0.02)
    bas = synthetic.bars_and_stripes(3)
    assert bas.shape == (14, 9) and len({r.tobytes() for r in bas}) == 14
    ar = synthetic.GaussianAR((0.5,), sigma=2.0)
    assert ar.entropy_rate() == pytest.approx(0.5 * np.log(2 * np.pi * np.e * 4))
    x = ar.sample(1, 50000)[0]
    resid = x[1:] - 0.5 * x[:-1]
    assert resid.std() == pytest.approx(2.0, rel=0.03)
    with pytest.raises(ConfigError, match="not stationary"):
        synthetic.GaussianAR((1.5,)).sample(1, 10)


@pytest.mark.skipif(not files.data_available(), reason="../shared/data not present")
def test_real_data_files_match_published_sha256():
    for rel, sha in files.SHA256.items():
        p = files.require_file(None, rel)
        assert files.sha256_of(p) == sha, rel
    x = binarized_mnist.load("valid")
    assert x.shape == (10000, 784) and set(np.unique(x)) <= {0, 1}


def test_tfds_route_errors(tmp_path):
    from jax_ar.data import tfds_route
    with pytest.raises(ConfigError, match="unknown TFDS data set 'imagenet'"):
        tfds_route.load("imagenet", "test", tmp_path)
    with pytest.raises(DataFileError, match="no prepared TFDS data set 'binarized_mnist'"):
        tfds_route.load("binarized_mnist", "test", tmp_path)
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match="needs TensorFlow"):
            tfds_route.prepare("binarized_mnist", tmp_path, tmp_path)


@pytest.mark.skipif(not __import__("os").environ.get("JAX_AR_TFDS_DIR"),
                    reason="set JAX_AR_TFDS_DIR to a directory prepared by jax_ar.data.tfds_route")
def test_tfds_prepared_data_matches_direct_reader():
    import os
    from jax_ar.data import tfds_route
    a = tfds_route.load("binarized_mnist", "test", os.environ["JAX_AR_TFDS_DIR"])
    b = binarized_mnist.load("test")
    assert sorted(map(bytes, a)) == sorted(map(bytes, b))  # same images; TFDS stores them shuffled


def test_markov_text_is_embedded_with_its_entropy_rate():
    from jax_ar.data import texts
    text = texts.load("markov_text")                      # no data directory needed
    assert len(text) == texts.MARKOV_CHARS and set(text) == set(texts.MARKOV_ALPHABET)
    assert texts.load("markov_text") == text              # the same text every time
    # the empirical conditional entropy of the stream matches the chain's entropy rate
    ids = np.array([texts.MARKOV_ALPHABET.index(c) for c in text])
    V = len(texts.MARKOV_ALPHABET)
    n = np.zeros((V, V))
    np.add.at(n, (ids[:-1], ids[1:]), 1)
    p = n / n.sum(1, keepdims=True)
    h = -np.sum(n * np.log(np.where(p > 0, p, 1.0))) / n.sum()
    assert abs(h - texts.entropy_rate("markov_text")) < 0.01
    assert texts.entropy_rate("tiny_shakespeare") is None
    with pytest.raises(ConfigError, match="text must be one of tiny_shakespeare, markov_text"):
        texts.load("shakespeare")
