"""Char RNN/LSTM/GRU language models, truncated BPTT and their bad-input errors.

(Causality, normalisation, cache == parallel and sampling are covered for
char_rnn / char_lstm / char_gru by test_universal.py.)
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jax_ar import errors, sampling
from jax_ar.contract import param_count
from jax_ar.models import rnn as rnn_models
from jax_ar.rnn import char_lm, tbptt

CELLS = ["rnn", "lstm", "gru"]


def _small(cell, V=5, layers=1):
    m = rnn_models.BUILDERS[cell](vocab_size=V, seq_len=6, hidden=7, embed=4, layers=layers)
    return m, m.init(jax.random.PRNGKey(0))


@pytest.mark.parametrize("cell", CELLS)
def test_param_count_formula(cell):
    m, p = _small(cell, layers=2)
    assert param_count(p) == rnn_models.char_lm_param_count(cell, 5, 7, 2, 4)


def test_hidden_for_params_matches_sizes():
    for cell in CELLS:
        h = rnn_models.hidden_for_params(cell, 50_000, vocab_size=65, layers=1, embed=16)
        n = rnn_models.char_lm_param_count(cell, 65, h, 1, 16)
        assert n <= 50_000 < rnn_models.char_lm_param_count(cell, 65, h + 1, 1, 16)


@pytest.mark.parametrize("cell", CELLS)
def test_carried_state_equals_one_long_window(cell):
    """Two windows with the state carried == one window over both (what TBPTT relies on)."""
    m, p = _small(cell, layers=2)
    x = jax.random.randint(jax.random.PRNGKey(1), (3, 10), 0, 6)  # 5 = BOS allowed as input
    s0 = m.initial_state(p, 3)
    full, s_full = m.forward(p, x, s0)
    a, s_a = m.forward(p, x[:, :4], s0)
    b, s_b = m.forward(p, x[:, 4:], s_a)
    np.testing.assert_allclose(np.concatenate([a, b], 1), full, atol=1e-5)
    for u, v in zip(jax.tree_util.tree_leaves(s_b), jax.tree_util.tree_leaves(s_full)):
        np.testing.assert_allclose(u, v, atol=1e-5)


def test_forward_from_bos_equals_contract_outputs():
    m, p = _small("lstm")
    x = jax.random.randint(jax.random.PRNGKey(2), (2, 6), 0, 5)
    inputs = jnp.concatenate([jnp.full((2, 1), 5), x[:, :-1]], 1)
    logits, _ = m.forward(p, inputs, m.initial_state(p, 2))
    np.testing.assert_allclose(logits, m.outputs(p, x), atol=1e-6)


def test_stream_rows_shift():
    s = np.arange(10, dtype=np.int32)
    inp, tgt = tbptt.stream_rows(s, 2, bos=99)
    np.testing.assert_array_equal(tgt, [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]])
    np.testing.assert_array_equal(inp, [[99, 0, 1, 2, 3], [99, 5, 6, 7, 8]])


def test_stream_nll_equals_log_prob_of_rows():
    """With one window per row, the stream NLL is the contract's log_prob of the rows."""
    m, p = _small("gru")
    s = np.asarray(jax.random.randint(jax.random.PRNGKey(3), (12,), 0, 5), np.int32)
    r = tbptt.stream_nll(m, p, s, batch_size=2, window=6)
    lp = m.log_prob(p, s.reshape(2, 6))
    assert r["tokens"] == 12
    np.testing.assert_allclose(r["nats_per_token"], -float(lp.sum()) / 12, rtol=1e-5)
    r2 = tbptt.stream_nll(m, p, s, batch_size=2, window=4)   # windows split rows; state carried
    np.testing.assert_allclose(r2["nats_per_token"], r["nats_per_token"], rtol=1e-5)


def test_tbptt_learns_a_periodic_stream(tmp_path):
    m = rnn_models.build_char_lstm(vocab_size=4, seq_len=8, hidden=16, embed=4)
    stream = np.tile(np.array([0, 1, 2, 3, 2, 1], np.int32), 200)
    cfg = tbptt.TBPTTConfig(steps=60, batch_size=4, window=12, lr=2e-2, warmup_steps=0, schedule="constant",
                            eval_every=30)
    params, hist = tbptt.train(m, cfg, stream, stream[:240], workdir=tmp_path, log=None)
    assert not hist["diverged"]
    assert hist["valid"][-1]["bits_per_token"] < 0.5 < 2.0  # uniform = 2 bits
    restored = tbptt.load_params(m, tmp_path)
    assert tbptt.stream_nll(m, restored, stream[:240])["bits_per_token"] < 0.5
    assert (tmp_path / "metrics.jsonl").read_text().count("\n") >= 2


def test_tbptt_resume_reproduces_an_uninterrupted_run(tmp_path):
    m = rnn_models.build_char_gru(vocab_size=4, seq_len=8, hidden=8, embed=4)
    stream = np.random.default_rng(0).integers(0, 4, 700).astype(np.int32)
    # rows of 175 tokens, windows of 20: epochs end mid-run, so offsets and the carried state matter
    cfg = tbptt.TBPTTConfig(steps=24, batch_size=4, window=20, lr=1e-2, warmup_steps=0, eval_every=6,
                            ckpt_every=5)
    full, hist_full = tbptt.train(m, cfg, stream, stream[:200], workdir=tmp_path / "a", log=None)

    def crash(msg):                                  # dies after the step-15 checkpoint, mid-epoch
        if msg.startswith("step 18"):
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        tbptt.train(m, cfg, stream, stream[:200], workdir=tmp_path / "b", log=crash)
    with pytest.raises(errors.CheckpointError, match="resume"):
        tbptt.train(m, cfg, stream, stream[:200], workdir=tmp_path / "b", log=None)
    resumed, hist = tbptt.train(m, cfg, stream, stream[:200], workdir=tmp_path / "b", resume=True, log=None)
    for a, b in zip(jax.tree_util.tree_leaves(full), jax.tree_util.tree_leaves(resumed)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert [r["step"] for r in hist["valid"]] == [r["step"] for r in hist_full["valid"]]
    again, hist2 = tbptt.train(m, cfg, stream, stream[:200], workdir=tmp_path / "b", resume=True, log=None)
    assert hist2["train"] and hist2["valid"][-1]["step"] == 24     # finished run: nothing redone
    for a, b in zip(jax.tree_util.tree_leaves(full), jax.tree_util.tree_leaves(again)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_sample_text_starts_with_prompt():
    m, p = _small("rnn", V=3)
    vocab = ["a", "b", "c"]
    out = char_lm.sample_text(m, p, vocab, jax.random.PRNGKey(0), num_chars=5, prompt="ab", num_samples=2)
    assert len(out) == 2 and all(t.startswith("ab") and len(t) == 7 for t in out)
    out_t = char_lm.sample_text(m, p, vocab, jax.random.PRNGKey(0), num_chars=5, temperature=0.5)
    assert len(out_t[0]) == 5 and set(out_t[0]) <= set(vocab)


# ------------------------------------------------------------------ bad input
def test_token_ids_outside_vocab_are_rejected_everywhere():
    m, p = _small("lstm")
    bad = np.array([[0, 1, 2, 3, 4, 5]])
    with pytest.raises(errors.ValueRangeError, match="outside the vocabulary"):
        m.log_prob(p, bad)
    with pytest.raises(errors.ValueRangeError, match="outside the vocabulary"):
        m.outputs(p, bad)
    with pytest.raises(errors.ValueRangeError, match="outside the vocabulary"):
        m.outputs(p, np.array([[0, -1, 0, 0, 0, 0]]))
    cache = m.init_cache(p, 1)
    with pytest.raises(errors.ValueRangeError, match="x_prev"):
        m.step(p, cache, np.array([7]))
    with pytest.raises(errors.ValueRangeError, match="stream"):
        tbptt.stream_nll(m, p, np.array([0, 1, 9, 2]))
    with pytest.raises(errors.ValueRangeError, match="prompt"):
        sampling.sample(m, p, jax.random.PRNGKey(0), 1, prompt=np.array([[0, 5]]))
    with pytest.raises(errors.ValueRangeError, match="outside the vocabulary"):
        char_lm.sample_text(m, p, list("abcde"), jax.random.PRNGKey(0), prompt="az")


def test_nan_inputs_are_rejected():
    m, p = _small("gru")
    x = np.zeros((1, 6), np.float32)
    x[0, 2] = np.nan
    with pytest.raises(errors.ValueRangeError, match="NaN"):
        m.log_prob(p, x)
    with pytest.raises(errors.ValueRangeError, match="NaN"):
        m.outputs(p, x)
    with pytest.raises(errors.ValueRangeError, match="NaN"):
        tbptt.stream_nll(m, p, np.array([0.0, 1.0, np.nan, 2.0]))
    with pytest.raises(errors.ValueRangeError, match="non-integer"):
        m.log_prob(p, np.full((1, 6), 0.5))


def test_bad_stream_shapes_and_configs():
    m, p = _small("rnn")
    with pytest.raises(errors.ShapeError, match="1-D"):
        tbptt.stream_nll(m, p, np.zeros((2, 3), np.int32))
    with pytest.raises(errors.ShapeError, match="at least 2"):
        tbptt.stream_nll(m, p, np.zeros((1,), np.int32))
    with pytest.raises(errors.ConfigError, match="window"):
        tbptt.train(m, tbptt.TBPTTConfig(steps=1, batch_size=2, window=50), np.zeros(40, np.int32), log=None)
    with pytest.raises(errors.ConfigError, match="unknown recurrent cell"):
        rnn_models.CharRNN(5, "transformer").init(jax.random.PRNGKey(0), jnp.zeros((1, 3), jnp.int32))
    with pytest.raises(errors.ConfigError, match="hidden"):
        rnn_models.build_char_gru(hidden=0)
    with pytest.raises(errors.ConfigError, match="recurrent_scale"):
        rnn_models.build_char_rnn(recurrent_scale=-1.0)
    with pytest.raises(errors.CheckpointError):
        tbptt.load_params(m, "/nonexistent/rnn_run")
