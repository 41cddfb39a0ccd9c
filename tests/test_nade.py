"""NADE: the cumsum pass equals the textbook per-pixel formula; bad input is refused clearly."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jax_ar import errors, sampling
from jax_ar.models import nade, registry


def _model_params(D=5, H=4, seed=0):
    model = nade.build(seq_len=D, hidden_size=H)
    params = model.init(jax.random.PRNGKey(seed))
    params = jax.tree_util.tree_map(
        lambda a: a + jax.random.normal(jax.random.PRNGKey(seed + 1), a.shape), params)
    return model, params


def _naive_log_prob(p, x_D):
    """Larochelle & Murray eq. (2)-(3), one pixel at a time, in float64 numpy."""
    W, c, V, b = (np.asarray(p[k], np.float64) for k in ("W", "c", "V", "b"))
    sig = lambda z: 1.0 / (1.0 + np.exp(-z))
    a, lp = c.copy(), 0.0
    for d, xd in enumerate(x_D):
        p1 = sig(b[d] + V[d] @ sig(a))
        lp += np.log(p1 if xd else 1.0 - p1)
        a = a + W[:, d] * xd
    return lp


def test_parallel_log_prob_matches_per_pixel_formula():
    model, params = _model_params()
    x = np.asarray(jax.random.bernoulli(jax.random.PRNGKey(5), 0.5, (7, 5)), np.int32)
    got = np.asarray(jax.jit(model.log_prob)(params, x))
    want = np.array([_naive_log_prob(params, row) for row in x])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_weights_are_tied_single_input_matrix():
    model, params = _model_params(D=5, H=4)
    assert params["W"].shape == (4, 5) and params["V"].shape == (5, 4)
    assert nade.flops_per_image(784, 500) == 784 * 500 * 4


def test_sampler_log_prob_agrees_with_teacher_forcing():
    model, params = _model_params(D=6, H=3)
    x, lp = sampling.sample(model, params, jax.random.PRNGKey(0), 16)
    assert x.shape == (16, 6) and set(np.unique(np.asarray(x))) <= {0, 1}
    np.testing.assert_allclose(np.asarray(lp), np.asarray(model.log_prob(params, x)), atol=1e-4)


def test_image_of_wrong_size_is_refused():
    model, params = _model_params(D=5)
    with pytest.raises(errors.ShapeError, match="length 5"):
        model.log_prob(params, np.zeros((2, 784), np.int32))
    with pytest.raises(errors.ShapeError, match="shape"):
        model.log_prob(params, np.zeros((2, 5, 1), np.int32))


def test_non_binary_values_are_refused():
    model, params = _model_params(D=5)
    x = np.zeros((2, 5), np.float32)
    x[1, 3] = 0.5
    with pytest.raises(errors.ValueRangeError, match="non-integer"):
        model.log_prob(params, x)
    x[1, 3] = 2
    with pytest.raises(errors.ValueRangeError, match="only 0 and 1"):
        model.log_prob(params, x)


@pytest.mark.parametrize("kwargs,match", [({"hidden_size": 0}, "hidden_size"), ({"seq_len": 0}, "seq_len"),
                                          ({"activation": "gelu"}, "activation")])
def test_bad_config_is_refused(kwargs, match):
    with pytest.raises(errors.ConfigError, match=match):
        registry.build("nade", **{"seq_len": 4, "hidden_size": 3, **kwargs})


def test_init_from_data_starts_at_the_independent_bernoulli_fit():
    x = np.array([[1, 0, 1], [1, 1, 0], [0, 0, 1], [1, 0, 1]], np.int32)
    model = nade.build(seq_len=3, hidden_size=2)
    params = nade.init_from_data(model, jax.random.PRNGKey(0), x)
    params = {**params, "V": jnp.zeros_like(params["V"])}
    p1 = (x.sum(0) + 1.0) / (4 + 2.0)
    want = (x * np.log(p1) + (1 - x) * np.log1p(-p1)).sum(1)
    np.testing.assert_allclose(np.asarray(model.log_prob(params, x)), want, atol=1e-5)


@pytest.mark.parametrize("D", [40])
def test_blocked_prefix_sum_equals_cumsum(D):
    assert nade.block_size(784) == 28 and nade.block_size(40) == 20 and nade.block_size(5) == 5
    m1, params = _model_params(D=D, H=4)
    m2 = nade.build(seq_len=D, hidden_size=4, prefix="blocked")
    x = np.asarray(jax.random.bernoulli(jax.random.PRNGKey(3), 0.5, (6, D)), np.int32)
    np.testing.assert_allclose(np.asarray(jax.jit(m2.outputs)(params, x)), np.asarray(jax.jit(m1.outputs)(params, x)),
                               atol=1e-5)
    with pytest.raises(errors.ConfigError, match="prefix"):
        nade.build(seq_len=D, hidden_size=4, prefix="scan")


def test_init_from_data_needs_binary_data_and_positive_smoothing():
    model = nade.build(seq_len=4, hidden_size=3)
    x = np.array([[0, 1, 1, 0], [1, 1, 0, 0]])
    with pytest.raises(errors.ValueRangeError, match="only 0 and 1"):
        nade.init_from_data(model, jax.random.PRNGKey(0), x * 255)
    with pytest.raises(errors.ConfigError, match="smoothing must be a finite number > 0"):
        nade.init_from_data(model, jax.random.PRNGKey(0), x, smoothing=0)
