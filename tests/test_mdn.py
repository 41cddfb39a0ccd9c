"""MDN: normalised mixture density per step, scan sampling, a short fit on the known process, bad input."""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jax_ar import errors, sampling
from jax_ar.data.synthetic_mdn import BimodalSineAR
from jax_ar.models import mdn, registry


def _model_and_params(seq_len=6, seed=0, **kw):
    model = mdn.build(seq_len=seq_len, window=3, hidden=8, num_layers=1, num_components=3, **kw)
    params = model.init(jax.random.PRNGKey(seed))
    params = jax.tree_util.tree_map(lambda a: a + 0.3 * jax.random.normal(jax.random.PRNGKey(seed + 1), a.shape),
                                    params)
    return model, params


def test_each_conditional_density_integrates_to_one():
    model, params = _model_and_params()
    x = jax.random.normal(jax.random.PRNGKey(2), (2, 6))
    grid = jnp.linspace(-25.0, 25.0, 10001)

    @jax.jit
    def mass_fn(params, x):
        out = model.outputs(params, x)                                 # [2, 6, 9]
        dens = jnp.exp(model.dist.log_prob(out[..., None, :], grid))   # [2, 6, G]
        return jnp.sum(dens, -1) * (grid[1] - grid[0])

    mass = np.asarray(mass_fn(params, x))
    np.testing.assert_allclose(mass, 1.0, atol=1e-3)


def test_mixture_nll_is_log_sum_exp_of_components():
    model, params = _model_and_params()
    x = jax.random.normal(jax.random.PRNGKey(3), (2, 6))
    out = np.asarray(model.outputs(params, x), np.float64)
    K = 3
    w = np.exp(out[..., :K]) / np.exp(out[..., :K]).sum(-1, keepdims=True)
    mu, sd = out[..., K:2 * K], np.exp(out[..., 2 * K:])
    dens = (w * np.exp(-0.5 * ((np.asarray(x)[..., None] - mu) / sd) ** 2) / (sd * np.sqrt(2 * np.pi))).sum(-1)
    np.testing.assert_allclose(np.asarray(model.log_prob(params, x)), np.log(dens).sum(-1), rtol=1e-4)


def test_scan_sampling_feeds_samples_back():
    model, params = _model_and_params()
    x, lp = sampling.sample(model, params, jax.random.PRNGKey(5), 64)
    assert x.shape == (64, 6) and np.all(np.isfinite(np.asarray(x)))
    np.testing.assert_allclose(np.asarray(lp), np.asarray(model.log_prob(params, x)), rtol=1e-4, atol=1e-4)


def test_known_process_entropy_and_exact_log_prob():
    proc = BimodalSineAR()
    x = proc.sample(400, 100, seed=1)
    h = proc.entropy_rate()
    emp = -proc.log_prob(x).mean() / 100
    assert abs(emp - h) < 0.02, (emp, h)   # sampling error ~ 0.003
    # bimodal: the noise density has two maxima
    e = np.linspace(-3, 3, 601)
    d = np.exp(proc.noise_log_prob(e))
    assert ((d[1:-1] > d[:-2]) & (d[1:-1] > d[2:])).sum() == 2


def test_short_fit_moves_towards_the_true_entropy_rate():
    proc = BimodalSineAR()
    x = jnp.asarray(proc.sample(256, 32, seed=2))
    model = mdn.build(seq_len=32, window=2, hidden=32, num_layers=1, num_components=2)
    params = model.init(jax.random.PRNGKey(0))
    opt = optax.adam(1e-2)
    loss = lambda p: -jnp.mean(model.log_prob(p, x)) / 32

    @jax.jit
    def train(params):
        def body(carry, _):
            p, s = carry
            v, g = jax.value_and_grad(loss)(p)
            u, s = opt.update(g, s, p)
            return (optax.apply_updates(p, u), s), v
        (p, _), hist = jax.lax.scan(body, (params, opt.init(params)), None, length=300)
        return p, hist

    params, hist = train(params)
    h = proc.entropy_rate()
    assert float(hist[-1]) < float(hist[0]) - 0.5
    assert float(hist[-1]) - h < 0.5, (float(hist[-1]), h)   # the Gaussian AR gap is ~0.9 nats


def test_nan_in_continuous_input_is_a_clear_error():
    model, params = _model_and_params()
    x = np.zeros((2, 6), np.float32)
    x[1, 3] = np.nan
    with pytest.raises(errors.ValueRangeError, match="NaN"):
        model.log_prob(params, x)
    with pytest.raises(errors.ValueRangeError, match="NaN"):
        sampling.sample(model, params, jax.random.PRNGKey(0), 2, prompt=x[:, :4])


def test_bad_config_is_a_clear_error():
    with pytest.raises(errors.ConfigError, match="num_components"):
        mdn.build(seq_len=8, num_components=0)
    with pytest.raises(errors.ConfigError, match="window"):
        registry.build("mdn", seq_len=8, window=0)
