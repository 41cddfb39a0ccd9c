import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jax_ar import distributions as D


def test_bernoulli_matches_formula_and_is_finite_for_huge_logits():
    logits = jnp.array([-1e4, -3.0, 0.0, 2.5, 1e4])
    for x in (0, 1):
        lp = D.bernoulli_log_prob(logits, jnp.full(5, x))
        assert np.all(np.isfinite(lp))
        p = 1 / (1 + np.exp(-np.clip(np.asarray(logits), -50, 50)))
        ref = np.log((p if x else 1 - p)[1:4])
        np.testing.assert_allclose(lp[1:4], ref, rtol=1e-6)
    assert float(D.bernoulli_log_prob(jnp.array(1e4), jnp.array(0))) == pytest.approx(-1e4)
    assert np.all(np.isfinite(D.bernoulli_entropy(logits)))


def test_categorical_normalised_and_finite():
    logits = jnp.array([[1e4, -1e4, 0.0], [0.1, 0.2, 0.3]])
    lps = jnp.stack([D.categorical_log_prob(logits, jnp.full(2, v)) for v in range(3)], -1)
    assert np.all(np.isfinite(lps[1])) and np.isfinite(lps[0, 0])
    np.testing.assert_allclose(np.exp(lps).sum(-1), 1.0, rtol=1e-6)
    assert np.all(np.isfinite(D.categorical_entropy(logits)))


@pytest.mark.parametrize("dist", [D.Gaussian(), D.MixtureOfGaussians(3), D.MixtureOfLogistics(3)])
def test_continuous_densities_integrate_to_one(dist):
    out = jax.random.normal(jax.random.PRNGKey(0), (dist.param_size,)) * 0.5
    grid = jnp.linspace(-30, 30, 200001)
    dens = jnp.exp(dist.log_prob(jnp.broadcast_to(out, grid.shape + out.shape), grid))
    assert float(jnp.trapezoid(dens, grid)) == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize("dist", [D.Gaussian(), D.MixtureOfGaussians(2), D.MixtureOfLogistics(2)])
def test_continuous_samples_match_density(dist):
    out = jnp.array([0.3, -0.5] if dist.param_size == 2 else [0.0, 1.0, -2.0, 2.0, -1.0, -0.5])
    xs = dist.sample(jax.random.PRNGKey(1), jnp.broadcast_to(out, (100000,) + out.shape))
    grid = jnp.linspace(-30, 30, 200001)
    dens = jnp.exp(dist.log_prob(jnp.broadcast_to(out, grid.shape + out.shape), grid))
    mean = float(jnp.trapezoid(dens * grid, grid))
    var = float(jnp.trapezoid(dens * (grid - mean) ** 2, grid))
    se = np.sqrt(var / xs.shape[0])
    assert abs(float(xs.mean()) - mean) < 5 * se
    assert float(xs.var()) == pytest.approx(var, rel=0.05)


def test_gaussian_entropy_closed_form():
    out = jnp.array([0.0, 0.7])
    grid = jnp.linspace(-40, 40, 400001)
    lp = D.Gaussian().log_prob(jnp.broadcast_to(out, grid.shape + (2,)), grid)
    h = -float(jnp.trapezoid(jnp.exp(lp) * lp, grid))
    assert float(D.Gaussian().entropy(out)) == pytest.approx(h, rel=1e-4)


def test_discretized_logistic_mixture_sums_to_one_and_is_finite():
    dist = D.DiscretizedLogisticMixture(num_components=3, num_bins=256)
    out = jax.random.normal(jax.random.PRNGKey(2), (5, 9)) * 2.0
    out = out.at[0, 3:6].set(50.0).at[1, 6:].set(-20.0)  # extreme locations and scales
    p = dist.probs(out)
    lps = jnp.stack([dist.log_prob(out, jnp.full((5,), v)) for v in range(256)], -1)
    assert np.all(np.isfinite(np.asarray(lps)))
    np.testing.assert_allclose(np.asarray(p.sum(-1)), 1.0, atol=1e-4)
    s = dist.sample(jax.random.PRNGKey(3), out)
    assert s.shape == (5,) and int(s.min()) >= 0 and int(s.max()) <= 255


@pytest.mark.parametrize("num_bins", [256, 4096, 65536])
def test_discretized_logistic_mixture_sums_to_one_at_any_bin_count(num_bins):
    # the edge bins are found by their integer value: with > 2001 bins a test on the
    # centre near +-1 gave interior bins the whole tail mass (sums of 2 to 17)
    dist = D.DiscretizedLogisticMixture(num_components=2, num_bins=num_bins)
    out = jnp.array([[0.3, -0.2, -0.9995, 0.9995, -6.0, -6.0]])   # narrow components at both ends
    np.testing.assert_allclose(float(dist.probs(out).sum()), 1.0, atol=1e-3)


def test_tiny_scales_and_masked_classes_give_no_nan():
    # a scale below e^-88 makes z overflow: -inf away from the location, not NaN ...
    assert float(D.logistic_log_prob(1.0, -90.0, 0.0)) == -np.inf
    assert float(D.logistic_log_prob(-1.0, -90.0, 0.0)) == -np.inf
    lp = D.MixtureOfLogistics(2).log_prob(jnp.array([0.0, 0.0, 0.0, 1.0, -90.0, -90.0]), jnp.array(0.0))
    assert float(lp) == pytest.approx(90.0 - np.log(4.0) - np.log(2.0), rel=1e-6)
    # ... and finite gradients at the location itself
    g = jax.grad(lambda o: D.MixtureOfGaussians(1).log_prob(o, jnp.array(0.0)))(jnp.array([0.0, 0.0, -90.0]))
    assert np.all(np.isfinite(np.asarray(g)))
    # a masked class (logit -inf) adds nothing to the entropy
    h = D.categorical_entropy(jnp.array([0.0, -jnp.inf, 1.0]))
    p = np.exp([0.0, 1.0]) / np.exp([0.0, 1.0]).sum()
    assert float(h) == pytest.approx(float(-(p * np.log(p)).sum()), rel=1e-6)


def test_categorical_sampling_frequencies():
    logits = jnp.log(jnp.array([0.5, 0.3, 0.2]))
    s = D.Categorical(3).sample(jax.random.PRNGKey(0), jnp.broadcast_to(logits, (50000, 3)))
    freq = np.bincount(np.asarray(s), minlength=3) / 50000
    np.testing.assert_allclose(freq, [0.5, 0.3, 0.2], atol=0.01)


@pytest.mark.parametrize("make, msg", [
    (lambda: D.Categorical(0), r"Categorical vocab_size must be an integer >= 1 .*got 0"),
    (lambda: D.Categorical(-3), r"Categorical vocab_size must be an integer >= 1 .*got -3"),
    (lambda: D.Categorical(2.5), r"Categorical vocab_size must be an integer >= 1 .*got 2\.5"),
    (lambda: D.MixtureOfGaussians(0), r"MixtureOfGaussians num_components must be an integer >= 1"),
    (lambda: D.MixtureOfLogistics(1.5), r"MixtureOfLogistics num_components must be an integer >= 1"),
    (lambda: D.DiscretizedLogisticMixture(2, 1), r"DiscretizedLogisticMixture num_bins must be an integer >= 2"),
    (lambda: D.DiscretizedLogisticMixture(0), r"DiscretizedLogisticMixture num_components must be"),
])
def test_distribution_sizes_are_checked_at_construction(make, msg):
    from jax_ar.errors import ConfigError
    with pytest.raises(ConfigError, match=msg):
        make()
    assert D.Categorical(np.int64(3)) == D.Categorical(3) and type(D.Categorical(np.int64(3)).vocab_size) is int
