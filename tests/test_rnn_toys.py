"""The binary-addition toy, the gradient-norm story, the recall task and the clipping study."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jax_ar import errors
from jax_ar.rnn import binary_addition as ba
from jax_ar.rnn import clipping, gradients, long_range


@pytest.fixture(scope="module")
def adder():
    params, losses = ba.train(ba.AdderConfig(steps=300))
    return params, losses


def test_binary_adder_trained_on_8_bits_adds_64_bit_numbers(adder):
    params, losses = adder
    assert losses[-1] < losses[0]
    assert ba.accuracy(params, 64, n=200, seed=5) == 1.0
    a, b = 2 ** 100 + 12345, 2 ** 99 - 1
    assert ba.add(params, [a, 7], [b, 9]) == [a + b, 16]


def test_binary_adder_hidden_state_plots(adder, tmp_path):
    params, _ = adder
    info = ba.plot_hidden_states(params, 2 ** 63 + 5, 3, tmp_path / "h.png", tmp_path / "s.png",
                                 num_pairs=20, num_bits=16)
    assert (tmp_path / "h.png").stat().st_size > 0 and (tmp_path / "s.png").stat().st_size > 0
    assert info["plot_steps"] == 65


def test_bits_roundtrip_and_carries():
    n = [0, 1, 2 ** 70 + 3]
    assert ba.from_bits(ba.to_bits(n, 72)) == n
    assert ba.carries(3, 1, 3) == [1, 1, 0]


def test_binary_adder_bad_input(adder):
    params, _ = adder
    with pytest.raises(errors.ValueRangeError, match="negative"):
        ba.add(params, [-1], [2])
    with pytest.raises(errors.ValueRangeError, match="finite"):
        ba.add(params, [float("nan")], [2])
    with pytest.raises(errors.ValueRangeError, match="non-integer"):
        ba.add(params, [1.5], [2])
    with pytest.raises(errors.ShapeError, match="same length"):
        ba.add(params, [1, 2], [2])
    bits = np.zeros((1, 4, 2), np.float32)
    bits[0, 1, 0] = np.nan
    with pytest.raises(errors.ValueRangeError, match="NaN"):
        ba.run_adder(params, bits)
    with pytest.raises(errors.ValueRangeError, match="0 or 1"):
        ba.run_adder(params, np.full((1, 4, 2), 2.0))
    with pytest.raises(errors.ShapeError, match="batch, steps, 2"):
        ba.run_adder(params, np.zeros((4, 2)))


def test_gradient_norms_follow_sigma_power_for_linear_rnn():
    H, T = 8, 12
    x = 0.1 * jax.random.normal(jax.random.PRNGKey(0), (T, 2, H))
    r = jax.random.normal(jax.random.PRNGKey(1), (H,))
    h0 = (jnp.zeros((2, H)),)
    for sigma in (0.5, 1.0, 1.5):
        W = gradients.scaled_orthogonal(jax.random.PRNGKey(2), H, sigma)
        assert abs(gradients.largest_singular_value(W) - sigma) < 1e-4
        n = gradients.hidden_grad_norms(gradients.linear_recur, {"W_h": W}, h0, x, r)
        np.testing.assert_allclose(n, n[0] * sigma ** np.arange(T), rtol=1e-3)
    # tanh can only shrink the gradient
    W = gradients.scaled_orthogonal(jax.random.PRNGKey(2), H, 1.0)
    nt = gradients.hidden_grad_norms(gradients.RECUR["rnn"], {"W_h": W}, h0, x, r)
    assert np.all(nt[1:] <= n[0] * 1.0001)


def test_gradient_norms_reject_nan_inputs():
    x = np.zeros((3, 1, 4), np.float32)
    x[1, 0, 2] = np.nan
    with pytest.raises(errors.ValueRangeError, match="NaN"):
        gradients.hidden_grad_norms(gradients.linear_recur, {"W_h": jnp.eye(4)}, (jnp.zeros((1, 4)),), x,
                                    jnp.ones(4))


def test_recall_batch_structure_and_short_training():
    x = np.asarray(long_range.recall_batch(jax.random.PRNGKey(0), 16, 5, 3, 4))
    assert x.shape == (16, 7)
    np.testing.assert_array_equal(x[:, 0], x[:, -1])
    assert x[:, 0].max() < 3 and x[:, 1:-1].min() >= 3 and x[:, 1:-1].max() < 7
    r = long_range.train_recall(long_range.RecallConfig(cell="gru", lag=2, steps=150, hidden=8, lr=2e-2))
    assert r["test_accuracy"] > 0.9
    with pytest.raises(errors.ConfigError, match="lag"):
        long_range.build_model(long_range.RecallConfig(lag=-1))


def test_clipping_study_pieces():
    assert clipping.count_spikes([3.0, 2.0, 2.8, 2.7, 4.0], 0.5) == 2
    with pytest.raises(errors.ConfigError, match="clip_norms"):
        clipping.clipping_study(np.zeros(100, np.int32), 4, clipping.ClipStudyConfig(clip_norms="-1"))
    stream = np.tile(np.arange(4, dtype=np.int32), 100)
    out = clipping.clipping_study(stream, 4, clipping.ClipStudyConfig(hidden=8, embed=4, steps=20, window=10,
                                                                       batch_size=4, clip_norms="0.5"))
    assert set(out) == {0.5}
    assert out[0.5]["max_grad_norm"] > 0 and len(out[0.5]["curve_loss"]) == 2 and not out[0.5]["diverged"]
