"""Mixed-precision products (bfloat16 operands, float32 accumulation) and the Transformer built on them."""
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jax_ar import errors, sampling
from jax_ar.layers import mixed
from jax_ar.models import transformer

BF = jnp.bfloat16


def _rounded(a):
    """``a`` rounded to bfloat16 and back: the operands the mixed products see."""
    return a.astype(BF).astype(jnp.float32)


def _data(shapes, seed=0):
    keys = jax.random.split(jax.random.PRNGKey(seed), len(shapes))
    return [jax.random.normal(k, s) for k, s in zip(keys, shapes)]


def test_rowmajor_transpose_is_the_transpose():
    a = jnp.arange(12.0).reshape(4, 3)
    np.testing.assert_array_equal(np.asarray(mixed.rowmajor_transpose(a)), np.asarray(a).T)
    np.testing.assert_array_equal(np.asarray(jax.jit(mixed.rowmajor_transpose)(a)), np.asarray(a).T)


@pytest.mark.parametrize("nt", [False, True])
def test_mixed_products_and_their_gradients_are_float32_sums_of_bfloat16_operands(nt):
    x, w, g = _data([(24, 16), (12, 16) if nt else (16, 12), (24, 12)])
    f = mixed.matmul_nt if nt else mixed.matmul
    y, vjp = jax.vjp(jax.jit(f), x, w)
    dx, dw = vjp(g)
    xr, wr, gr = _rounded(x), _rounded(w), _rounded(g)
    w_FxG = wr.T if nt else wr
    tol = dict(rtol=1e-5, atol=1e-5)
    assert y.dtype == dx.dtype == dw.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(y), np.asarray(xr @ w_FxG), **tol)
    np.testing.assert_allclose(np.asarray(dx), np.asarray(gr @ w_FxG.T), **tol)
    dw_FxG = xr.T @ gr
    np.testing.assert_allclose(np.asarray(dw), np.asarray(dw_FxG.T if nt else dw_FxG), **tol)
    # and within bfloat16 rounding of the float32 product
    np.testing.assert_allclose(np.asarray(y), np.asarray(x @ (w.T if nt else w)), rtol=0.05, atol=0.05)


def test_dense_dot_general_float32_is_flax_default_and_bad_dtype_is_an_error():
    assert mixed.dense_dot_general("float32") is None
    with pytest.raises(errors.ConfigError, match="matmul_dtype must be one of float32, bfloat16, got 'float16'"):
        mixed.dense_dot_general("float16")
    with pytest.raises(errors.ConfigError, match="matmul_dtype"):
        transformer.build(vocab_size=3, seq_len=4, num_layers=1, num_heads=2, width=8, matmul_dtype="fp8")


_TINY = dict(vocab_size=3, seq_len=4, num_layers=2, num_heads=2, width=8, mlp_ratio=2)


def _models():
    f32 = transformer.build(**_TINY)
    bf = transformer.build(**_TINY, matmul_dtype="bfloat16")
    params = f32.init(jax.random.PRNGKey(0))
    leaves, tree = jax.tree_util.tree_flatten(params)
    keys = jax.random.split(jax.random.PRNGKey(1), len(leaves))
    params = jax.tree_util.tree_unflatten(tree, [a + 0.5 * jax.random.normal(k, a.shape)
                                                 for a, k in zip(leaves, keys)])
    return f32, bf, params


def test_bfloat16_transformer_is_normalised_causal_cached_and_close_to_float32():
    f32, bf, params = _models()
    assert jax.tree_util.tree_structure(bf.init(jax.random.PRNGKey(0))) == jax.tree_util.tree_structure(params)
    xs = jnp.asarray(list(itertools.product(range(3), repeat=4)), jnp.int32)
    lp = bf.log_prob(params, xs)
    assert abs(float(jnp.sum(jnp.exp(lp))) - 1.0) < 1e-5                       # exact normalisation
    np.testing.assert_allclose(np.asarray(lp), np.asarray(f32.log_prob(params, xs)), atol=0.1)
    out = bf.outputs(params, xs)                                                 # causality
    for j in range(4):
        x2 = xs.at[:, j].set((xs[:, j] + 1) % 3)
        np.testing.assert_array_equal(np.asarray(bf.outputs(params, x2)[:, : j + 1]),
                                      np.asarray(out[:, : j + 1]))
    stepped = sampling.step_outputs(bf, params, xs)                               # cached step == parallel
    np.testing.assert_allclose(np.asarray(stepped), np.asarray(out), atol=1e-5, rtol=1e-5)


def test_bfloat16_transformer_trains_with_float32_parameters():
    _, bf, params = _models()
    x = jnp.asarray(list(itertools.product(range(3), repeat=4)), jnp.int32)
    loss = lambda p: -jnp.mean(bf.log_prob(p, x))
    grads = jax.grad(loss)(params)
    assert all(g.dtype == jnp.float32 and bool(jnp.all(jnp.isfinite(g))) for g in jax.tree_util.tree_leaves(grads))
    new = jax.tree_util.tree_map(lambda p, g: p - 0.1 * g, params, grads)
    assert float(loss(new)) < float(loss(params))


@pytest.mark.parametrize("kw", [pytest.param(dict(norm="pre", tie_weights=True), marks=pytest.mark.slow),  # = quick run
                                dict(norm="post", positions="sinusoidal", tie_weights=False, use_bias=True),
                                dict(vocab_size=2, tie_weights=False, use_bias=True)])
def test_bfloat16_variants_at_library_kernel_shapes_train_and_generate(kw):
    """Shapes large enough for XLA:CPU's bf16 library kernels (a bf16 product they end up refusing would
    fail at run time, not compile time): a jitted training gradient, evaluation and KV-cache generation
    (batch 8: at batch 1 the step's products are matrix-vector ones, which XLA:CPU keeps in float32)."""
    from jax_ar import generation
    cfg = dict(dict(vocab_size=11, seq_len=16, num_layers=1, num_heads=2, width=32), **kw)
    model = transformer.build(**cfg, matmul_dtype="bfloat16")
    ref = transformer.build(**cfg)
    params = model.init(jax.random.PRNGKey(0))
    x = jax.random.randint(jax.random.PRNGKey(1), (8, 16), 0, cfg["vocab_size"])
    grads = jax.jit(jax.grad(lambda p: -jnp.mean(model.log_prob(p, x))))(params)
    ref_grads = jax.jit(jax.grad(lambda p: -jnp.mean(ref.log_prob(p, x))))(params)
    for g, r in zip(jax.tree_util.tree_leaves(grads), jax.tree_util.tree_leaves(ref_grads)):
        np.testing.assert_allclose(np.asarray(g), np.asarray(r), atol=0.02 * float(jnp.max(jnp.abs(r))) + 1e-6)
    np.testing.assert_allclose(np.asarray(model.log_prob(params, x)), np.asarray(ref.log_prob(params, x)),
                               rtol=0.01)
    toks = generation.generate(model, params, jax.random.PRNGKey(2), np.zeros((8, 3), np.int32), 5)[0]
    assert toks.shape[0] == 8 and int(jnp.max(toks)) < cfg["vocab_size"]
