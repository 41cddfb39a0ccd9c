"""Transformer LM: KV cache == parallel pass, prefill at every prompt length, positions, bad input."""
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jax_ar import decoding, errors, generation, masks, sampling
from jax_ar.layers.positional import sinusoidal_encoding
from jax_ar.models import transformer

V, S = 7, 8


def _model(**kw):
    return _cached_model(tuple(sorted(kw.items())))


@functools.lru_cache(maxsize=None)   # one model object per config: its compiled functions are shared
def _cached_model(kw):
    cfg = dict(vocab_size=V, seq_len=S, num_layers=1, num_heads=2, width=16, mlp_ratio=2)
    cfg.update(dict(kw))
    model = transformer.build(**cfg)
    params = model.init(jax.random.PRNGKey(0))
    leaves, tree = jax.tree_util.tree_flatten(params)
    keys = jax.random.split(jax.random.PRNGKey(1), len(leaves))
    params = jax.tree_util.tree_unflatten(
        tree, [a + 0.3 * jax.random.normal(k, a.shape) for a, k in zip(leaves, keys)])
    return model, params


def _x(B=3, seed=2):
    return jax.random.randint(jax.random.PRNGKey(seed), (B, S), 0, V)


@pytest.mark.parametrize("kw", [dict(norm="pre", positions="learned", num_layers=2),
                                dict(norm="post", positions="sinusoidal", tie_weights=False, use_bias=True,
                                     num_layers=2),
                                dict(norm="pre", positions="sinusoidal_learned", num_layers=1)])
def test_cached_step_equals_parallel_at_every_position(kw):
    model, params = _model(**kw)
    x = _x()
    parallel = model.outputs(params, x)
    stepped = sampling.step_outputs(model, params, x)
    np.testing.assert_allclose(np.asarray(stepped), np.asarray(parallel), atol=1e-5, rtol=1e-5)


def test_batch1_cached_step_equals_parallel_over_a_long_cache():
    """Batch 1 over 128 slots (the folded [B * H, S, K] cache: no unit axis to squeeze)."""
    model = transformer.build(vocab_size=V, seq_len=128, num_layers=1, num_heads=2, width=16, mlp_ratio=2)
    params = model.init(jax.random.PRNGKey(0))
    params = jax.tree_util.tree_map(lambda a: a + 0.3 * jnp.sign(a), params)
    x = jax.random.randint(jax.random.PRNGKey(3), (1, 128), 0, V)
    stepped = sampling.step_outputs(model, params, x)
    np.testing.assert_allclose(np.asarray(stepped), np.asarray(model.outputs(params, x)), atol=1e-5, rtol=1e-5)


def test_prefill_any_prompt_length_matches_parallel():
    model, params = _model(num_layers=2)
    x = _x()
    parallel = np.asarray(model.outputs(params, x))
    # steps from the prefilled cache: feed x[P-1], x[P], ... and read outputs for positions P..S-1
    run = jax.jit(lambda c, xs: jax.lax.scan(lambda c, xp: model.step(params, c, xp)[::-1], c, xs.T)[1])
    for P in (1, 3, S - 1, S):
        cache = model.prefill(params, x[:, :P])
        assert int(cache["write_index"]) == P
        if P == S:
            continue
        outs = np.moveaxis(np.asarray(run(cache, x[:, P - 1:S - 1])), 0, 1)
        np.testing.assert_allclose(outs, parallel[:, P:], atol=1e-5, rtol=1e-5, err_msg=f"prompt length {P}")


def test_kv_cache_pytree_layout():
    model, params = _model()
    cache = model.init_cache(params, 5)
    assert set(cache) == {"write_index", "layers"} and len(cache["layers"]) == 1
    for layer in cache["layers"]:
        assert layer["k"].shape == layer["v"].shape == (5 * 2, S, 8)     # [B * H, S, K]


def test_step_past_cache_gives_nan_not_garbage():
    model, params = _model()
    cache = dict(model.init_cache(params, 1), write_index=jnp.asarray(S, jnp.int32))
    out, _ = model.step(params, cache, jnp.zeros((1,), jnp.int32))
    assert np.isnan(np.asarray(out)).all()


def test_generation_past_cache_length_is_an_error():
    model, params = _model()
    prompt = np.zeros((2, 3), np.int32)
    toks, lp, n = generation.generate(model, params, jax.random.PRNGKey(0), prompt, S - 3)
    assert toks.shape == (2, S - 3) and np.all(np.asarray(n) == S - 3)
    with pytest.raises(errors.ShapeError, match="KV cache holds 8"):
        generation.generate(model, params, jax.random.PRNGKey(0), prompt, S - 2)


def test_prompt_longer_than_context_is_an_error():
    model, params = _model()
    with pytest.raises(errors.ShapeError, match="longer than the model's context"):
        generation.generate(model, params, jax.random.PRNGKey(0), np.zeros((1, S + 1), np.int32), 1)


def test_token_ids_outside_vocab_are_errors():
    model, params = _model()
    bad = np.full((1, S), V, np.int32)
    with pytest.raises(errors.ValueRangeError, match="outside the vocabulary"):
        model.log_prob(params, bad)
    with pytest.raises(errors.ValueRangeError, match="outside the vocabulary"):
        generation.generate(model, params, jax.random.PRNGKey(0), np.array([[1, -1]]), 2)


def test_heads_must_divide_width():
    with pytest.raises(errors.ConfigError, match="does not divide width"):
        transformer.build(vocab_size=5, seq_len=4, num_heads=3, width=16)
    with pytest.raises(errors.ConfigError, match="norm"):
        transformer.build(vocab_size=5, seq_len=4, norm="sandwich")
    with pytest.raises(errors.ConfigError, match="activation"):
        transformer.build(vocab_size=5, seq_len=4, width=16, num_heads=2, activation="relu")


def test_exact_gelu_option_is_a_small_change():
    model, params = _model()
    exact, params_e = _model(activation="gelu")
    x = _x(2)
    a, b = np.asarray(model.log_prob(params, x)), np.asarray(exact.log_prob(params_e, x))
    assert np.all(np.isfinite(b)) and not np.allclose(a, b, rtol=0, atol=0)
    np.testing.assert_allclose(a, b, atol=1e-2)   # the two GELU forms differ by < 1e-3 per unit


def test_kv_generation_equals_recompute_generation():
    model, params = _model()
    prompt = _x(4)[:, :3]
    for pick in (decoding.Sample(1.0), decoding.TopK(2, temperature=2.0)):   # noise [B, V] and [B, k]
        a, lpa, _ = generation.generate(model, params, jax.random.PRNGKey(5), prompt, S - 3, pick=pick)
        b, lpb = generation.generate_recompute(model, params, jax.random.PRNGKey(5), prompt, S - 3, pick=pick)
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        np.testing.assert_allclose(np.asarray(lpa), np.asarray(lpb), atol=1e-4)
        full = jnp.concatenate([prompt, a], axis=1)   # the sampler's log-prob == teacher-forced log-prob
        per_pos = model.dist.log_prob(model.outputs(params, full), full)[:, 3:].sum(1)
        np.testing.assert_allclose(np.asarray(lpa), np.asarray(per_pos), atol=1e-4)


def test_noise_past_the_budget_is_drawn_per_step_with_the_same_samples(monkeypatch):
    model, params = _model()
    prompt = _x(2)[:, :3]
    pick = decoding.Sample(0.77)                    # a strategy no other test compiles generate with
    monkeypatch.setattr(generation, "NOISE_BUDGET", 0)
    a, _, _ = generation.generate(model, params, jax.random.PRNGKey(5), prompt, S - 3, pick=pick)
    b, _ = generation.generate_recompute(model, params, jax.random.PRNGKey(5), prompt, S - 3, pick=pick)
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_segmented_generation_is_the_same_generation():
    """Stretches over a cache grown as they go (any segment size, 0 = one loop) give the same tokens."""
    model, params = _model()
    prompt = _x(2)[:, :2]                           # stretches (2, 3) (3, 6) (6, 8) with segment 3
    ref = generation.generate(model, params, jax.random.PRNGKey(7), prompt, S - 2, segment=0)
    out = generation.generate(model, params, jax.random.PRNGKey(7), prompt, S - 2, segment=3)
    np.testing.assert_array_equal(np.asarray(out[0]), np.asarray(ref[0]))
    np.testing.assert_allclose(np.asarray(out[1]), np.asarray(ref[1]), atol=1e-5)


def test_negative_segment_is_an_error():
    model, params = _model()
    with pytest.raises(errors.ConfigError, match="segment must be >= 0"):
        generation.generate(model, params, jax.random.PRNGKey(0), _x(1)[:, :2], 3, segment=-1)


def test_segments_cover_the_steps_and_end_on_multiples():
    assert generation.segments(16, 216, 64) == [(16, 64), (64, 128), (128, 192), (192, 216)]
    assert generation.segments(3, 4, 64) == [(3, 4)]
    assert generation.segments(4, 9, 2) == [(4, 6), (6, 8), (8, 9)]


def test_resize_cache_keeps_the_filled_slots():
    model, params = _model()
    cache = model.prefill(params, _x(2)[:, :3])
    small = model.resize_cache(cache, 4)
    assert small["layers"][0]["k"].shape == (2 * 2, 4, 8)
    back = model.resize_cache(small, S)
    for a, b in zip(jax.tree_util.tree_leaves(cache), jax.tree_util.tree_leaves(back)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    for bad in (0, S + 1):
        with pytest.raises(errors.ShapeError, match="slots"):
            model.resize_cache(cache, bad)


def test_stop_token_pads_and_stops_scoring():
    model, params = _model()
    prompt = np.zeros((64, 1), np.int32)
    toks, lp, n = generation.generate(model, params, jax.random.PRNGKey(1), prompt, S - 1, stop_token=2,
                                      pad_token=6)
    toks, n = np.asarray(toks), np.asarray(n)
    for row, length in zip(toks, n):
        if 2 in row:
            first = list(row).index(2)
            assert length == first + 1 and np.all(row[first + 1:] == 6)
        else:
            assert length == S - 1


def test_sliding_generation_runs_past_context():
    model, params = _model()
    out = generation.generate_sliding(model, params, jax.random.PRNGKey(0), np.zeros((2, 2), np.int32), 20)
    assert out.shape == (2, 20) and int(out.max()) < V


def test_sinusoidal_encoding_is_bishop_12_25():
    r = np.asarray(sinusoidal_encoding(5, 6))
    for n in range(1, 6):
        for i in range(6):
            want = np.sin(n / 10000 ** (i / 6)) if i % 2 == 0 else np.cos(n / 10000 ** ((i - 1) / 6))
            assert abs(r[n - 1, i] - want) < 1e-6


def test_sinusoid_scale_multiplies_the_position_vectors():
    W = 16
    model, _ = _model(positions="sinusoidal", sinusoid_scale=0.25)
    assert transformer.build(vocab_size=V, seq_len=S, width=W, positions="sinusoidal").module.sinusoid_scale == 0.1
    table = model.module.bind({"params": model.init(jax.random.PRNGKey(0))}).pos_table()
    np.testing.assert_allclose(np.asarray(table), 0.25 * np.asarray(sinusoidal_encoding(S, W)), rtol=1e-6)
    for bad in (0.0, -1.0, float("nan"), "0.1"):
        with pytest.raises(errors.ConfigError, match="sinusoid_scale"):
            transformer.build(vocab_size=V, seq_len=S, width=W, positions="sinusoidal", sinusoid_scale=bad)


def test_sinusoidal_learned_positions_start_at_the_sinusoid_and_train():
    W = 16
    model = transformer.build(vocab_size=V, seq_len=S, width=W, num_layers=1, num_heads=2,
                              positions="sinusoidal_learned", sinusoid_scale=0.25)
    params = model.init(jax.random.PRNGKey(0))
    np.testing.assert_allclose(np.asarray(params["pos"]), 0.25 * np.asarray(sinusoidal_encoding(S, W)),
                               rtol=1e-6)
    g = jax.grad(lambda p: -jnp.sum(model.log_prob(p, _x())))(params)
    assert float(jnp.abs(g["pos"]).max()) > 0   # a parameter, unlike the fixed sinusoid
    params2 = dict(params, pos=params["pos"] + jax.random.normal(jax.random.PRNGKey(5), (S, W)))
    assert not np.allclose(np.asarray(model.log_prob(params2, _x())), np.asarray(model.log_prob(params, _x())))
    with pytest.raises(errors.ConfigError, match="positions must be one of"):
        transformer.build(vocab_size=V, seq_len=S, width=W, positions="rotary")


def test_saved_run_without_sinusoid_scale_rebuilds_at_amplitude_1():
    """Runs saved before the scale existed added the sinusoid at amplitude 1."""
    from jax_ar.models import registry
    old = dict(registry.entry("transformer_postnorm").tiny)
    assert registry.saved_kwargs("transformer_postnorm", old)["sinusoid_scale"] == 1.0
    assert registry.record_kwargs("transformer_postnorm", old)["sinusoid_scale"] == 0.1
    model = registry.build("transformer_postnorm", **registry.saved_kwargs("transformer_postnorm", old))
    assert model.module.sinusoid_scale == 1.0
    # learned positions: the scale plays no part, so an old run resumes beside a new one's record
    for name, kw in (("transformer_prenorm", dict(positions="learned")), ("image_gpt", {})):
        assert registry.saved_kwargs(name, kw) == registry.record_kwargs(name, kw)


def test_causal_mask_is_the_masks_module_array():
    assert np.array_equal(np.asarray(masks.causal_mask(3)), np.tril(np.ones((3, 3), bool)))


def test_dropout_only_with_a_key():
    model, params = _model(dropout=0.5)
    x = _x()
    a, b = model.outputs(params, x), model.outputs_train(params, x)
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    c = model.outputs_train(params, x, jax.random.PRNGKey(0))
    assert np.abs(np.asarray(c) - np.asarray(a)).max() > 1e-3


def test_weight_tying_has_no_separate_head():
    model, params = _model(tie_weights=True)
    assert "head" not in params
    model2, params2 = _model(tie_weights=False)
    assert "head" in params2
