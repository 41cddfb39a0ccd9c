import math

import jax.numpy as jnp
import numpy as np
import pytest

from jax_ar import masks, metrics


def test_causal_masks():
    m = np.asarray(masks.causal_mask(4))
    assert m.dtype == bool and m[2, 2] and m[3, 0] and not m[0, 1]
    s = np.asarray(masks.strict_causal_mask(3))
    np.testing.assert_array_equal(s, [[0, 0, 0], [1, 0, 0], [1, 1, 0]])
    assert masks.show(s).splitlines()[1] == "1 0 0"


def test_made_masks_are_autoregressive():
    rng = np.random.default_rng(0)
    D, H = 5, 12
    order = rng.permutation(D) + 1
    degs = [order, rng.integers(1, D, H), rng.integers(1, D, H), order]
    ms = masks.made_masks(degs)
    conn = ms[0] @ ms[1] @ ms[2]  # path counts input -> output
    for i in range(D):
        for o in range(D):
            if order[i] >= order[o]:
                assert conn[i, o] == 0


def test_pixelcnn_kernel_masks():
    a = np.asarray(masks.pixelcnn_kernel_mask(3, 3, "A"))
    b = np.asarray(masks.pixelcnn_kernel_mask(3, 3, "B"))
    np.testing.assert_array_equal(a, [[1, 1, 1], [1, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(b, [[1, 1, 1], [1, 1, 0], [0, 0, 0]])
    with pytest.raises(ValueError, match="'A' or 'B'"):
        masks.pixelcnn_kernel_mask(3, 3, "C")


def test_metric_conversions():
    assert metrics.bits_per_dim(784 * math.log(2), 784) == pytest.approx(1.0)
    assert metrics.perplexity(math.log(7.0)) == pytest.approx(7.0)
    assert metrics.perplexity_from_bits(3.0) == pytest.approx(8.0)
    assert metrics.nats_to_bits(metrics.bits_to_nats(1.7)) == pytest.approx(1.7)
    assert metrics.perplexity(float("inf")) == float("inf")
    s = metrics.summary(np.array([-10.0, -12.0]), 4)
    assert s["nll_nats"] == pytest.approx(11.0) and s["bits_per_dim"] == pytest.approx(11 / 4 / math.log(2))


def test_cross_entropy_and_kl():
    p = jnp.array([0.5, 0.5, 0.0])
    q = jnp.array([0.25, 0.5, 0.25])
    assert float(metrics.entropy(p)) == pytest.approx(math.log(2))
    ce = float(metrics.cross_entropy(p, jnp.log(q)))
    assert ce == pytest.approx(0.5 * math.log(4) + 0.5 * math.log(2))
    assert float(metrics.kl_divergence(p, jnp.log(q))) == pytest.approx(ce - math.log(2))
    assert float(metrics.kl_divergence(p, jnp.log(p))) == pytest.approx(0.0, abs=1e-7)
    lp = jnp.log(jnp.array([0.2, 0.8]))
    assert float(metrics.kl_from_logits(lp, lp)) == pytest.approx(0.0, abs=1e-7)


def test_causal_mask_row_is_a_row_of_the_causal_mask():
    import jax.numpy as jnp
    from jax_ar import masks
    full = masks.causal_mask(7)
    for t in range(7):
        assert jnp.array_equal(masks.causal_mask_row(7, jnp.asarray(t)), full[t:t + 1])


def test_metrics_refuse_unnormalised_log_q_bad_axis_and_arrays_for_scalars():
    import jax
    from jax_ar import errors
    p = np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])
    log_q = np.array([[-1.0, -2.0, -3.0], [-1.0, -1.0, -1.0]])
    for f in (metrics.cross_entropy, metrics.kl_divergence):
        with pytest.raises(errors.ValueRangeError, match=r"normalised log-probabilities.*log_softmax"):
            f(p, log_q)
        np.testing.assert_allclose(np.asarray(f(p, jax.nn.log_softmax(log_q))),      # valid, eager and jitted
                                   np.asarray(jax.jit(f)(p, jax.nn.log_softmax(log_q))), rtol=1e-6)
    with pytest.raises(errors.ConfigError, match=r"axis must be an integer .* in \[-2, 1\] for p of shape \(2, 3\), got 5"):
        metrics.cross_entropy(p, np.log(p), axis=5)
    with pytest.raises(errors.ShapeError, match="at least one axis"):
        metrics.entropy(1.0)
    with pytest.raises(errors.ShapeError, match=r"perplexity takes one number .* shape \(2,\)"):
        metrics.perplexity(np.array([1.0, 2.0]))
    with pytest.raises(errors.ConfigError, match="perplexity takes one number"):
        metrics.perplexity("1.0")
    assert float(metrics.entropy(p.T, axis=0)[0]) == pytest.approx(float(metrics.entropy(p)[0]))
