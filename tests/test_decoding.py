"""Decoding strategies and beam search: limits, exactness, sampled frequencies, bad settings."""
import functools
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jax_ar import beam_search, decoding, errors, generation, sampling
from jax_ar.models import registry, transformer

LOGITS = jax.random.normal(jax.random.PRNGKey(0), (64, 9)) * 2.0
KEYS = jax.random.split(jax.random.PRNGKey(1), 20)


def _many(pick, logits=LOGITS):
    return jnp.stack([pick(k, logits) for k in KEYS])


def test_top_k_1_is_greedy():
    np.testing.assert_array_equal(_many(decoding.TopK(1)), _many(decoding.Greedy()))


def test_top_p_1_is_pure_sampling():
    np.testing.assert_array_equal(_many(decoding.TopP(1.0)), _many(decoding.Sample(1.0)))


def test_temperature_near_zero_is_greedy():
    np.testing.assert_array_equal(_many(decoding.Sample(1e-4)), _many(decoding.Greedy()))


@pytest.mark.parametrize("strategy", [decoding.TopK(3), decoding.TopP(0.6), decoding.Sample(0.5),
                                      decoding.TopK(4, temperature=2.0)])
def test_sampled_frequencies_match_truncated_distribution(strategy):
    logits = jnp.array([2.0, 1.5, 1.0, 0.2, -0.5, -1.0, 0.7])
    n = 40000
    draws = jax.jit(jax.vmap(lambda k: strategy(k, logits[None])[0]))(jax.random.split(jax.random.PRNGKey(3), n))
    emp = np.bincount(np.asarray(draws), minlength=7) / n
    want = np.asarray(decoding.truncated_probs(strategy, logits))
    assert np.all(emp[want == 0] == 0), f"{strategy} sampled a truncated token"
    np.testing.assert_allclose(emp, want, atol=0.01)
    assert abs(want.sum() - 1) < 1e-6


def test_top_p_keeps_smallest_set_reaching_p():
    logits = jnp.log(jnp.array([0.5, 0.3, 0.15, 0.05]))
    keep = np.isfinite(np.asarray(decoding.TopP(0.8).filter(logits)))
    assert keep.tolist() == [True, True, False, False]
    keep = np.isfinite(np.asarray(decoding.TopP(0.81).filter(logits)))
    assert keep.tolist() == [True, True, True, False]
    keep = np.isfinite(np.asarray(decoding.TopP(0.01).filter(logits)))
    assert keep.tolist() == [True, False, False, False]


@pytest.mark.parametrize("bad", [0, 0.0, -1.0, float("nan"), float("inf")])
def test_bad_temperature(bad):
    with pytest.raises(errors.ConfigError, match="temperature"):
        decoding.Sample(bad)
    with pytest.raises(errors.ConfigError, match="temperature"):
        decoding.TopK(2, temperature=bad)


def test_bad_top_k_and_top_p():
    with pytest.raises(errors.ConfigError, match="k >= 1"):
        decoding.TopK(0)
    with pytest.raises(errors.ConfigError, match="exceeds the vocabulary size 9"):
        decoding.TopK(10)(KEYS[0], LOGITS)
    for p in (0.0, -0.1, 1.01, float("nan")):
        with pytest.raises(errors.ConfigError, match=r"p in \(0, 1\]"):
            decoding.TopP(p)


@functools.lru_cache(maxsize=None)
def _tiny():
    model = registry.build_tiny("transformer_prenorm")
    params = model.init(jax.random.PRNGKey(0))
    leaves, tree = jax.tree_util.tree_flatten(params)
    ks = jax.random.split(jax.random.PRNGKey(4), len(leaves))
    params = jax.tree_util.tree_unflatten(tree, [a + 1.0 * jax.random.normal(k, a.shape) for a, k in zip(leaves, ks)])
    return model, params


def test_beam_width_1_is_greedy():
    model, params = _tiny()
    toks, score, lp, length = beam_search.beam_search(model, params, 1)
    greedy, lp_g = sampling.sample(model, params, jax.random.PRNGKey(0), 1, pick=decoding.Greedy())
    np.testing.assert_array_equal(np.asarray(toks[0, 0]), np.asarray(greedy[0]))
    np.testing.assert_allclose(float(lp[0, 0]), float(lp_g[0]), atol=1e-5)


def test_wide_beam_finds_exact_most_likely_sequence():
    model, params = _tiny()
    V, D = model.dist.vocab_size, model.seq_len
    xs = jnp.asarray(list(itertools.product(range(V), repeat=D)), jnp.int32)
    lp_all = np.asarray(model.log_prob(params, xs))
    toks, score, lp, _ = beam_search.beam_search(model, params, V ** (D - 1))
    best = int(np.argmax(lp_all))
    np.testing.assert_array_equal(np.asarray(toks[0, 0]), np.asarray(xs[best]))
    np.testing.assert_allclose(float(lp[0, 0]), lp_all[best], atol=1e-5)
    # the returned beams are the top sequences, in order
    top = np.sort(lp_all)[::-1][:V ** (D - 1)]
    np.testing.assert_allclose(np.asarray(lp[0]), top, atol=1e-5)


def test_beam_search_with_prompt_and_eos():
    model = transformer.build(vocab_size=5, seq_len=8, num_layers=1, num_heads=2, width=8)
    params = model.init(jax.random.PRNGKey(2))
    prompt = np.array([[1, 2], [3, 4]], np.int32)
    toks, score, lp, length = beam_search.beam_search(model, params, 3, prompt=prompt, eos_token=0,
                                                      length_penalty=1.0)
    assert toks.shape == (2, 3, 6)
    toks, length = np.asarray(toks), np.asarray(length)
    for b, w in itertools.product(range(2), range(3)):
        row = list(toks[b, w])
        if 0 in row:
            first = row.index(0)
            assert length[b, w] == first + 1 and all(t == 0 for t in row[first:])
    assert np.all(np.diff(np.asarray(score), axis=1) <= 1e-6)     # sorted best first


def test_bad_beam_width():
    model, params = _tiny()
    for w in (0, -2, 1.5):
        with pytest.raises(errors.ConfigError, match="beam width"):
            beam_search.beam_search(model, params, w)


def test_batched_sampling_many_sequences_at_once():
    model, params = _tiny()
    prompt = np.zeros((16, 1), np.int32)
    toks, lp, n = generation.generate(model, params, jax.random.PRNGKey(0), prompt, 3, pick=decoding.TopK(3, temperature=20.0))
    assert toks.shape == (16, 3) and lp.shape == (16,)
    assert len({tuple(r) for r in np.asarray(toks)}) > 1
