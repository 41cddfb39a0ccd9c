"""AR(p): closed form vs statsmodels, the lecture formula, GD, batching, forecasting, the contract model."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jax_ar import errors, linear_ar
from jax_ar.linear_ar import forecast as fc
from jax_ar.models import ar_linear


def _ar_series(phi, n, c=0.5, sigma=1.0, seed=0, batch=None):
    fit = linear_ar.ARFit(np.array(c), np.asarray(phi, float), np.array(sigma ** 2), None, None)
    x = fc.simulate(fit, jax.random.PRNGKey(seed), batch or 1, n, burn_in=200)
    return x.astype(np.float64) if batch else x[0].astype(np.float64)


PHIS = {1: [0.6], 2: [0.5, -0.3], 5: [0.4, -0.2, 0.1, 0.15, -0.1]}


@pytest.mark.parametrize("p", [1, 2, 5])
def test_parity_with_statsmodels_autoreg(p):
    ar_model = pytest.importorskip("statsmodels.tsa.ar_model")
    x = _ar_series(PHIS[p], 1000, c=2.0, seed=p) + 10.0  # a non-zero mean exercises the intercept
    ours = linear_ar.fit(x, p)
    ref = ar_model.AutoReg(x, p, trend="c").fit()
    np.testing.assert_allclose(np.r_[ours.c, ours.phi], ref.params, rtol=1e-8)
    np.testing.assert_allclose(ours.sigma2, ref.sigma2, rtol=1e-8)
    np.testing.assert_allclose(ours.llf, ref.llf, rtol=1e-8)
    assert int(ours.nobs) == ref.nobs
    mean, _ = fc.forecast(ours, x, 7)
    np.testing.assert_allclose(mean, ref.forecast(7), rtol=1e-8)


def test_ar1_lecture_formula_equals_least_squares():
    x = _ar_series([0.8], 500, c=1.0, seed=3)
    c, phi, s2 = linear_ar.fit_ar1_lecture(x)
    f = linear_ar.fit(x, 1)
    np.testing.assert_allclose([c, phi, s2], [f.c, f.phi[0], f.sigma2], rtol=1e-10)


def test_batched_fit_equals_per_series_fits():
    x = _ar_series(PHIS[2], 300, seed=4, batch=6)
    fb = linear_ar.fit(x, 2)
    assert fb.phi.shape == (6, 2) and fb.c.shape == (6,)
    for i in range(6):
        fi = linear_ar.fit(x[i], 2)
        np.testing.assert_allclose(fb.phi[i], fi.phi, rtol=1e-10)
        np.testing.assert_allclose(fb.sigma2[i], fi.sigma2, rtol=1e-10)
    np.testing.assert_allclose(linear_ar.log_likelihood(fb, x), fb.llf, rtol=1e-10)


def test_pooled_fit_equals_stacked_least_squares():
    a, b = _ar_series(PHIS[2], 200, seed=5), _ar_series(PHIS[2], 333, seed=6)
    for pad in (False, True):
        f = linear_ar.fit_pooled([a, b], 2, pad=pad)
        rows, ys = [], []
        for s in (a, b):
            h = np.r_[np.zeros(2), s] if pad else s
            for t in range(2, len(h)):
                rows.append([1.0, h[t - 1], h[t - 2]])
                ys.append(h[t])
        beta = np.linalg.lstsq(np.array(rows), np.array(ys), rcond=None)[0]
        np.testing.assert_allclose(np.r_[f.c, f.phi], beta, rtol=1e-9)
        assert int(f.nobs) == len(ys)


def test_million_point_series_recovers_coefficients():
    x = _ar_series(PHIS[2], 1_000_000, c=0.5, sigma=1.0, seed=7)
    f = linear_ar.fit(x, 2)
    np.testing.assert_allclose(f.phi, PHIS[2], atol=5e-3)     # standard error ~1e-3
    np.testing.assert_allclose(f.sigma2, 1.0, atol=1e-2)
    np.testing.assert_allclose(f.c, 0.5, atol=1e-2)


def test_gradient_descent_converges_to_closed_form():
    from jax_ar.linear_ar.gd import fit_gd
    x = _ar_series(PHIS[2], 800, c=1.0, seed=8)
    closed = linear_ar.fit(x, 2)
    gd, hist = fit_gd(x, 2, steps=40)
    assert hist[-1] <= hist[0]
    np.testing.assert_allclose(np.r_[gd.c, gd.phi, gd.sigma2], np.r_[closed.c, closed.phi, closed.sigma2],
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gd.llf, closed.llf, rtol=1e-9)


def test_forecast_variance_ar1():
    f = linear_ar.ARFit(np.array(0.0), np.array([0.7]), np.array(2.0), None, None)
    mean, var = fc.forecast(f, np.array([1.0]), 4)
    np.testing.assert_allclose(mean, 0.7 ** np.arange(1, 5))
    np.testing.assert_allclose(var, 2.0 * (1 - 0.49 ** np.arange(1, 5)) / (1 - 0.49))


def test_contract_model_log_prob_is_the_padded_likelihood_and_padded_fit_maximises_it():
    x = _ar_series(PHIS[2], 64, c=0.3, seed=9, batch=4)
    f = linear_ar.fit(x.reshape(-1), 2, pad=False)  # any params will do for the first check
    model = ar_linear.build(seq_len=64, order=2)
    params = ar_linear.params_from_fit(f)
    lp = np.asarray(model.log_prob(params, jnp.asarray(x, jnp.float32)))
    np.testing.assert_allclose(lp, linear_ar.log_likelihood(f, x, pad=True), rtol=1e-5)
    # the pooled zero-padded closed form maximises the model's log_prob: zero gradient
    fp = linear_ar.fit_pooled(list(x), 2, pad=True)
    loss = lambda prm: -jnp.sum(model.log_prob(prm, jnp.asarray(x, jnp.float32)))
    g = jax.grad(loss)(ar_linear.params_from_fit(fp))
    assert max(float(jnp.abs(v).max()) for v in jax.tree_util.tree_leaves(g)) < 1e-2


def test_simulate_shapes_and_stationary_mean():
    f = linear_ar.ARFit(np.array(1.0), np.array([0.5, -0.3]), np.array(1.0), None, None)
    x = fc.simulate(f, jax.random.PRNGKey(0), 8, 2000)
    assert x.shape == (8, 2000) and np.all(np.isfinite(x))
    assert abs(x.mean() - 1.0 / (1 - 0.5 + 0.3)) < 0.05


# ------------------------------------------------------------- bad input
def test_order_not_smaller_than_length_is_a_clear_error():
    with pytest.raises(errors.ConfigError, match="AR order p=5 must be smaller than the series length 5"):
        linear_ar.fit(np.arange(5.0), 5)
    with pytest.raises(errors.ConfigError, match="smaller than the series length"):
        linear_ar.fit(np.arange(3.0), 7)
    with pytest.raises(errors.ConfigError, match="smaller than the series length"):
        ar_linear.build(seq_len=4, order=4)
    with pytest.raises(errors.ConfigError, match="regression rows"):
        linear_ar.fit(np.arange(6.0), 3)  # 3 rows for 4 coefficients
    with pytest.raises(errors.ConfigError, match="integer >= 1"):
        linear_ar.fit(np.arange(10.0), 0)


def test_series_with_nan_is_a_clear_error():
    x = _ar_series([0.5], 50)
    x[10] = np.nan
    with pytest.raises(errors.ValueRangeError, match="NaN"):
        linear_ar.fit(x, 1)
    with pytest.raises(errors.ValueRangeError, match="NaN"):
        linear_ar.fit(np.stack([x, x]), 1)
    with pytest.raises(errors.ValueRangeError, match="NaN"):
        linear_ar.fit_pooled([x], 1)
    model = ar_linear.build(seq_len=50, order=1)
    with pytest.raises(errors.ValueRangeError, match="NaN"):
        model.log_prob(model.init(None), x[None].astype(np.float32))


def test_wrong_shape_is_a_clear_error():
    with pytest.raises(errors.ShapeError, match="dimension"):
        linear_ar.fit(np.zeros((2, 3, 4)), 1)
    with pytest.raises(errors.ShapeError, match="non-empty list"):
        linear_ar.fit_pooled([], 1)


def test_pooled_log_likelihood_equals_sum_over_series():
    a, b = _ar_series(PHIS[2], 50, seed=10), _ar_series(PHIS[2], 71, seed=11)
    f = linear_ar.fit_pooled([a, b], 2, pad=True)
    for pad in (True, False):
        tot, n = linear_ar.log_likelihood_pooled(f, [a, b], pad=pad)
        ref = linear_ar.log_likelihood(f, a, pad=pad) + linear_ar.log_likelihood(f, b, pad=pad)
        np.testing.assert_allclose(tot, ref, rtol=1e-12)
        assert n == (121 if pad else 117)
    assert np.isclose(linear_ar.log_likelihood_pooled(f, [a, b], pad=True)[0], f.llf)
