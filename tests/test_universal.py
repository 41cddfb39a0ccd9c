"""Universal tests: run over EVERY registered model on its tiny configuration.

These are the proof that the library is right:
1. causality, 2. exact normalisation, 3. cache == parallel forward,
4. sampled frequencies match the model's probabilities.
(5., the stub-model sampler test, is in test_sampling.py.)
"""
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jax_ar import sampling
from jax_ar.models import registry

NAMES = registry.names()


def _setup(name, seed=0):
    model = registry.build_tiny(name)
    params = model.init(jax.random.PRNGKey(seed))
    # random, non-trivial parameters (many models initialise output weights at zero)
    leaves, tree = jax.tree_util.tree_flatten(params)
    keys = jax.random.split(jax.random.PRNGKey(seed + 1), len(leaves))
    leaves = [a + 0.5 * jax.random.normal(k, a.shape, a.dtype) if jnp.issubdtype(a.dtype, jnp.floating) else a
              for a, k in zip(leaves, keys)]
    params = jax.tree_util.tree_unflatten(tree, leaves)
    return model, params


def _cond(model, batch, seed=3):
    if not model.num_classes:
        return None
    return jax.random.randint(jax.random.PRNGKey(seed), (batch,), 0, model.num_classes)


def _random_x(model, batch, seed=2):
    k = jax.random.PRNGKey(seed)
    if model.dist.kind == "continuous":
        return jax.random.normal(k, (batch, model.seq_len))
    return jax.random.randint(k, (batch, model.seq_len), 0, model.dist.vocab_size)


def _all_sequences(model):
    V, D = model.dist.vocab_size, model.seq_len
    assert V ** D <= 5000, f"tiny config of {model} too large to enumerate ({V}^{D})"
    return jnp.asarray(list(itertools.product(range(V), repeat=D)), jnp.int32)


@pytest.mark.parametrize("name", NAMES)
def test_causality(name):
    model, params = _setup(name)
    D = model.seq_len
    if model.dist.kind == "continuous":
        x = _random_x(model, 1)[0]
        cond = _cond(model, 1)
        jac = jax.jacfwd(lambda v: model.outputs(params, v[None], cond)[0])(x)  # [D, P, D]
        dep_DxD = np.abs(np.asarray(jac)).max(axis=1)  # out position t vs input s
        upper = np.triu(dep_DxD)  # s >= t
        assert upper.max() == 0.0, f"{name}: output t depends on input s >= t:\n{dep_DxD}"
        if name not in ("bernoulli",):
            assert np.tril(dep_DxD, -1).max() > 0, f"{name}: Jacobian is zero everywhere below the diagonal"
        return
    x = _random_x(model, 4)
    cond = _cond(model, 4)
    outputs = jax.jit(model.outputs)  # one compilation for the D perturbed inputs
    base = np.asarray(outputs(params, x, cond))
    V = model.dist.vocab_size
    any_dep = False
    for j in range(D):
        x2 = x.at[:, j].set((x[:, j] + 1) % V)
        out2 = np.asarray(outputs(params, x2, cond))
        np.testing.assert_array_equal(out2[:, :j + 1], base[:, :j + 1],
                                      err_msg=f"{name}: changing x_{j} changed outputs at positions <= {j}")
        any_dep |= bool(np.abs(out2[:, j + 1:] - base[:, j + 1:]).max() > 0) if j + 1 < D else False
    if name not in ("bernoulli",):
        assert any_dep, f"{name}: outputs never depend on the past"


@pytest.mark.parametrize("name", NAMES)
def test_exact_normalisation(name):
    model, params = _setup(name)
    if model.dist.kind == "continuous":
        pytest.skip("continuous density: normalisation is checked per distribution in test_distributions")
    xs = _all_sequences(model)
    cond = None if not model.num_classes else jnp.full((xs.shape[0],), model.num_classes - 1, jnp.int32)
    lp = model.log_prob(params, xs, cond)
    total = float(jnp.sum(jnp.exp(lp.astype(jnp.float64) if jax.config.jax_enable_x64 else lp)))
    assert abs(total - 1.0) < 1e-5, f"{name}: probabilities of all {xs.shape[0]} sequences sum to {total}"


@pytest.mark.parametrize("name", NAMES)
def test_cache_matches_parallel_forward(name):
    model, params = _setup(name)
    x = _random_x(model, 3)
    cond = _cond(model, 3)
    parallel = model.outputs(params, x, cond)
    stepped = sampling.step_outputs(model, params, x, cond)
    assert stepped.shape == parallel.shape
    np.testing.assert_allclose(np.asarray(stepped), np.asarray(parallel), atol=1e-5, rtol=1e-5,
                               err_msg=f"{name}: step-by-step outputs differ from the parallel pass")


@pytest.mark.parametrize("name", NAMES)
def test_sample_frequencies_match_probabilities(name):
    model, params = _setup(name)
    N = 20000
    cond = None if not model.num_classes else jnp.zeros((N,), jnp.int32)
    x, lp_sampler = sampling.sample(model, params, jax.random.PRNGKey(7), N, cond=cond)
    # the sampler's own log-prob agrees with teacher-forced log_prob
    lp_model = model.log_prob(params, x, cond)
    np.testing.assert_allclose(np.asarray(lp_sampler), np.asarray(lp_model), atol=1e-4, rtol=1e-4)
    if model.dist.kind == "continuous":
        return
    xs = _all_sequences(model)
    K = xs.shape[0]
    probs = np.exp(np.asarray(model.log_prob(params, xs, None if cond is None else cond[:K] * 0)))
    V = model.dist.vocab_size
    codes = np.asarray(x) @ (V ** np.arange(model.seq_len - 1, -1, -1))
    emp = np.bincount(codes, minlength=K) / N
    tv = 0.5 * np.abs(emp - probs).sum()
    # E[TV] <= 0.5 * sqrt(K / N); allow three times that (fixed seed, deterministic)
    bound = 1.5 * np.sqrt(K / N)
    assert tv < bound, f"{name}: total variation {tv:.4f} between samples and model exceeds {bound:.4f}"
