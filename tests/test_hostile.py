"""Property-based hostile input for the data readers and tokenisers.

On arbitrary bytes (and on damaged versions of valid files) every reader either
parses into the documented shape and value range or raises its documented
error (:class:`jax_ar.errors.DataFileError`); never another exception, never a
hang (each call runs under a 10 s alarm), never a silently wrong shape.
"""
import atexit
import io
import json
import os
import shutil
import signal
import tempfile
import wave
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from jax_ar import tokenizers
from jax_ar.data import binarized_mnist, spoken_digit
from jax_ar.errors import DataFileError

SETTINGS = settings(max_examples=int(os.environ.get("JAX_AR_HOSTILE_EXAMPLES", "40")), deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
_DIR = tempfile.mkdtemp(prefix="jax_ar_hostile_")
atexit.register(shutil.rmtree, _DIR, ignore_errors=True)


@contextmanager
def no_hang(seconds: int = 10):
    def boom(*_):
        raise TimeoutError(f"reader did not return within {seconds} s")
    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def write(raw: bytes, name: str) -> str:
    p = os.path.join(_DIR, name)
    with open(p, "wb") as f:
        f.write(raw)
    return p


def mutate(raw: bytes, data) -> bytes:
    """Truncate, overwrite a byte, insert bytes, or leave as is."""
    if not raw:
        return raw
    op = data.draw(st.sampled_from(["keep", "truncate", "overwrite", "insert"]))
    i = data.draw(st.integers(0, len(raw) - 1))
    if op == "truncate":
        return raw[:i]
    if op == "overwrite":
        return raw[:i] + bytes([data.draw(st.integers(0, 255))]) + raw[i + 1:]
    if op == "insert":
        return raw[:i] + data.draw(st.binary(min_size=1, max_size=8)) + raw[i:]
    return raw


# ------------------------------------------------------------- .amat reader
def check_amat(raw: bytes):
    with no_hang():
        try:
            x = binarized_mnist.parse_amat(raw, where="hostile.amat")
        except DataFileError as e:
            assert "corrupt data file" in str(e)
            return None
    assert isinstance(x, np.ndarray) and x.dtype == np.uint8
    assert x.ndim == 2 and x.shape[1] == 784
    assert set(np.unique(x)) <= {0, 1}
    return x


@SETTINGS
@given(st.binary(max_size=4000))
def test_amat_arbitrary_bytes(raw):
    check_amat(raw)


@SETTINGS
@given(st.integers(0, 3), st.booleans(), st.data())
def test_amat_damaged_valid_file(n, crlf, data):
    imgs = np.random.default_rng(n).integers(0, 2, (n, 784)).astype(np.uint8)
    eol = b"\r\n" if crlf else b"\n"
    raw = b"".join(b" ".join(b"%d" % v for v in row) + eol for row in imgs)
    got_raw = mutate(raw, data)
    x = check_amat(got_raw)
    if got_raw == raw:
        np.testing.assert_array_equal(x, imgs.reshape(-1, 784))
    elif x is not None:
        assert x.shape[0] <= n + 1


# ---------------------------------------------------------------- WAV reader
def check_wav(raw: bytes, name="hostile.wav"):
    p = write(raw, name)
    with no_hang():
        try:
            a = spoken_digit.read_wav(p)
        except DataFileError as e:
            assert p in str(e)
            return None
    assert isinstance(a, np.ndarray) and a.dtype == np.float32 and a.ndim == 1 and a.size > 0
    assert np.all(np.abs(a) <= 1.0)
    return a


def wav_bytes(channels, width, rate, frames) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(bytes(np.random.default_rng(frames).integers(0, 256, frames * channels * width,
                                                                   dtype=np.uint8)))
    return buf.getvalue()


@SETTINGS
@given(st.binary(max_size=2000))
def test_wav_arbitrary_bytes(raw):
    check_wav(raw)


@SETTINGS
@given(st.binary(max_size=200))
def test_wav_riff_header_then_garbage(tail):
    check_wav(b"RIFF" + len(tail).to_bytes(4, "little") + b"WAVEfmt " + tail)


# A WAV whose fmt-chunk size byte is damaged makes the stdlib ``wave`` module raise RuntimeError;
# read_wav turns it into a DataFileError.
@SETTINGS
@given(st.sampled_from([1, 2]), st.sampled_from([1, 2, 3]), st.sampled_from([8000, 16000]),
       st.integers(0, 50), st.data())
def test_wav_damaged_valid_file(channels, width, rate, frames, data):
    raw = wav_bytes(channels, width, rate, frames)
    got = mutate(raw, data)
    a = check_wav(got)
    if got == raw:
        ok = channels == 1 and width == 2 and rate == 8000 and frames > 0
        assert (a is not None) == ok
        if ok:
            assert a.shape == (frames,)


# ---------------------------------------------------------------- tokenisers
def check_tokenizer(raw: bytes):
    p = write(raw, "hostile_tokenizer.json")
    with no_hang():
        try:
            tok = tokenizers.load(p)
        except DataFileError as e:
            assert p in str(e)
            return None
    assert tok.vocab_size >= 1
    return tok


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-300, 300) | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12)
FIELDS = ["type", "chars", "unk_token", "words", "pattern", "mode", "special_tokens", "merges",
          "merge_strings", "alphabet", "version", "format"]
field_values = (json_values | st.lists(st.text(max_size=2), max_size=5)
                | st.lists(st.lists(st.integers(-2, 300), min_size=2, max_size=2), max_size=4)
                | st.sampled_from(["char", "word", "bpe", "byte", r"\w+", "(", "[", "*", "", "<unk>"]))


@SETTINGS
@given(st.binary(max_size=300))
def test_tokenizer_file_arbitrary_bytes(raw):
    check_tokenizer(raw)


@SETTINGS
@given(json_values)
def test_tokenizer_file_arbitrary_json(obj):
    check_tokenizer(json.dumps(obj).encode())


# A non-string "type" such as [] is a DataFileError, not a TypeError (unhashable).
@SETTINGS
@given(st.sampled_from(["char", "word", "bpe"]), st.dictionaries(st.sampled_from(FIELDS), field_values, max_size=7))
def test_tokenizer_file_right_header_wrong_fields(kind, fields):
    obj = {"format": "jax_ar.tokenizer", "version": 1, "type": kind, **fields}
    tok = check_tokenizer(json.dumps(obj).encode())
    if tok is not None:            # whatever loaded must work on text or fail with a library error
        from jax_ar.errors import JaxArError
        with no_hang():
            try:
                ids = tok.encode("ab a")
                assert isinstance(tok.decode(ids), str)
            except JaxArError:
                pass


@SETTINGS
@given(st.data())
def test_tokenizer_file_damaged_valid_file(data):
    tok = tokenizers.CharTokenizer.fit("hello world") if data.draw(st.booleans()) else \
        tokenizers.BPETokenizer.train("hello hello world", 260)
    p = os.path.join(_DIR, "valid_tok.json")
    tok.save(p)
    with open(p, "rb") as f:
        raw = f.read()
    got = mutate(raw, data)
    t2 = check_tokenizer(got)
    if got == raw:
        assert t2.encode("hello") == tok.encode("hello")


# ------------------------------------------------- writes stay inside --workdir
# A run directory handed over by someone else may hold symlinks: jax_ar.rundir.guard refuses
# (CheckpointError) any symlink among the run directory's fixed names before anything is written.
def test_config_symlink_cannot_redirect_writes(tmp_path):
    import dataclasses
    from jax_ar import experiment
    from jax_ar.errors import JaxArError

    @dataclasses.dataclass(frozen=True)
    class Cfg:
        width: int = 1

    run, victim = tmp_path / "run", tmp_path / "victim.txt"
    run.mkdir()
    victim.write_text("keep")
    (run / "config.json").symlink_to(victim)
    try:
        experiment.start("t", Cfg, {"smoke": Cfg()}, ["--budget=smoke", f"--workdir={run}"])
    except JaxArError:
        pass
    assert victim.read_text() == "keep"


def test_checkpoint_symlink_cannot_redirect_writes(tmp_path):
    from jax_ar.checkpoint import Checkpointer
    from jax_ar.errors import JaxArError
    run, outside = tmp_path / "run", tmp_path / "outside"
    run.mkdir()
    outside.mkdir()
    (run / "ckpt").symlink_to(outside)
    try:
        ck = Checkpointer(run)
        try:
            ck.save(1, {"a": np.zeros(2)})
        finally:
            ck.close()
    except JaxArError:
        pass
    assert list(outside.iterdir()) == []


def test_output_names_cannot_escape_the_run_directory(tmp_path):
    import dataclasses
    from jax_ar import experiment
    from jax_ar.errors import ConfigError

    @dataclasses.dataclass(frozen=True)
    class Cfg:
        width: int = 1

    run = experiment.start("t", Cfg, {"smoke": Cfg()}, ["--budget=smoke", f"--workdir={tmp_path / 'run'}"])
    (run.dir / "up").symlink_to(tmp_path)
    for name in ("../x", "/tmp/x", "a/../../x", "up/x", "", "."):
        with pytest.raises(ConfigError, match="would escape the run directory"):
            run.path(name)
    assert run.path("sub/ok.png") == (run.dir / "sub" / "ok.png").resolve()
