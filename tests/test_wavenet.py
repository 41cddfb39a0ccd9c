"""WaveNet: Fast WaveNet generation == naive generation, receptive field, conditioning, clip data."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jax_ar import audio_clips, errors, sampling
from jax_ar.layers.causal_conv import CausalConv1D, receptive_field
from jax_ar.models import wavenet
from jax_ar.naive_sampling import naive_sample


def _noisy(params, seed=1, scale=0.5):
    leaves, tree = jax.tree_util.tree_flatten(params)
    keys = jax.random.split(jax.random.PRNGKey(seed), len(leaves))
    return jax.tree_util.tree_unflatten(
        tree, [a + scale * jax.random.normal(k, a.shape) for a, k in zip(leaves, keys)])


@pytest.fixture(scope="module")
def cond_model():
    model = wavenet.build_cond(cond_factors=(3, 2), vocab_size=16, seq_len=40,
                               dilations=(1, 2, 4, 8, 1, 2), channels=8, skip_channels=8)
    return model, _noisy(model.init(jax.random.PRNGKey(0)))


def test_fast_generation_equals_naive_generation(cond_model):
    model, params = cond_model
    cond = jnp.asarray(wavenet.combine_labels([np.array([0, 2, 1, 2]), np.array([1, 0, 1, 1])], (3, 2)))
    key = jax.random.PRNGKey(11)
    fast_x, fast_lp = sampling.sample(model, params, key, 4, cond=cond)
    naive_x, naive_lp = naive_sample(model, params, key, 4, cond=cond)
    np.testing.assert_array_equal(np.asarray(fast_x), np.asarray(naive_x))
    np.testing.assert_allclose(np.asarray(fast_lp), np.asarray(naive_lp), rtol=1e-5, atol=1e-4)
    assert len(np.unique(np.asarray(fast_x))) > 3  # a non-degenerate draw


def test_fast_equals_naive_beyond_seq_len_and_kernel_3():
    model = wavenet.build_wavenet(vocab_size=8, seq_len=8, dilations=(1, 3), kernel_size=3,
                                  channels=6, skip_channels=6, output="logistic_mixture", num_mixtures=2)
    params = _noisy(model.init(jax.random.PRNGKey(2)))
    key = jax.random.PRNGKey(5)
    fast_x, _ = sampling.sample(model, params, key, 3, num_steps=30)  # queues wrap around many times
    naive_x, _ = naive_sample(model, params, key, 3, num_steps=30)
    np.testing.assert_array_equal(np.asarray(fast_x), np.asarray(naive_x))


def test_receptive_field_is_exact():
    model = wavenet.build_wavenet(vocab_size=4, seq_len=20, dilations=(1, 2, 4), channels=4, skip_channels=4)
    R = model.receptive_field
    assert R == receptive_field((1, 2, 4)) == 8
    params = _noisy(model.init(jax.random.PRNGKey(0)), scale=0.1)  # no saturated gates
    x = jax.random.randint(jax.random.PRNGKey(1), (1, 20), 0, 4)
    base = np.asarray(model.outputs(params, x))
    s = 5
    changed = np.abs(np.asarray(model.outputs(params, x.at[0, s].set((x[0, s] + 1) % 4))) - base).max(-1)[0]
    depends = np.nonzero(changed > 0)[0]
    np.testing.assert_array_equal(depends, np.arange(s + 1, s + R + 1))  # x_s reaches outputs s+1 .. s+R


def test_causal_conv_step_matches_parallel():
    conv = CausalConv1D(in_features=3, features=5, kernel_size=3, dilation=2)
    h = jax.random.normal(jax.random.PRNGKey(0), (2, 11, 3))
    p = conv.init(jax.random.PRNGKey(1), h)
    par = conv.apply(p, h)

    def body(q, inp):
        t, h_BxC = inp
        y, q = conv.apply(p, q, h_BxC, t, method="step")
        return q, y

    q0 = conv.apply(p, 2, method="init_queue")
    assert q0.shape == (2, 4, 3)
    _, ys = jax.lax.scan(body, q0, (jnp.arange(11), jnp.moveaxis(h, 1, 0)))
    np.testing.assert_allclose(np.asarray(jnp.moveaxis(ys, 0, 1)), np.asarray(par), atol=1e-5)


def test_dilation_schedule_and_config_errors():
    assert wavenet.dilation_schedule(3, 2) == (1, 2, 4, 1, 2, 4)
    assert wavenet.build_wavenet(seq_len=2048, channels=2, skip_channels=2).receptive_field == 2047
    with pytest.raises(errors.ConfigError, match="output"):
        wavenet.build_wavenet(output="gaussian")
    with pytest.raises(errors.ConfigError, match="dilations"):
        wavenet.build_wavenet(dilations=(1, 0))
    with pytest.raises(errors.ConfigError, match="layers_per_block"):
        wavenet.dilation_schedule(0, 1)


def test_labels_combine_split_and_condition_the_output(cond_model):
    model, params = cond_model
    digit, speaker = np.array([0, 1, 2, 2]), np.array([1, 0, 0, 1])
    c = wavenet.combine_labels([digit, speaker], (3, 2))
    np.testing.assert_array_equal(c, digit * 2 + speaker)
    d2, s2 = wavenet.split_label(jnp.asarray(c), (3, 2))
    np.testing.assert_array_equal(np.asarray(d2), digit)
    np.testing.assert_array_equal(np.asarray(s2), speaker)
    assert model.num_classes == 6
    x = jnp.zeros((2, 40), jnp.int32)
    lp = model.log_prob(params, x, jnp.asarray([0, 5]))
    assert abs(float(lp[0] - lp[1])) > 1e-3  # the label changes the distribution


def test_label_outside_range_is_a_clear_error(cond_model):
    model, params = cond_model
    x = jnp.zeros((2, 40), jnp.int32)
    with pytest.raises(errors.ValueRangeError, match=r"label 6 is outside the range \[0, 5\]"):
        model.log_prob(params, x, jnp.asarray([0, 6]))
    with pytest.raises(errors.ValueRangeError, match="outside the range"):
        sampling.sample(model, params, jax.random.PRNGKey(0), 2, cond=jnp.asarray([-1, 0]))
    with pytest.raises(errors.ValueRangeError, match="outside the range"):
        naive_sample(model, params, jax.random.PRNGKey(0), 1, cond=jnp.asarray([7]))
    with pytest.raises(errors.ValueRangeError, match=r"label 3 is outside the range \[0, 2\]"):
        wavenet.combine_labels([np.array([3]), np.array([0])], (3, 2))
    with pytest.raises(errors.ValueRangeError, match="conditional"):
        model.log_prob(params, x)  # no label at all


def test_window_not_longer_than_receptive_field_is_an_error():
    codes = [np.arange(50, dtype=np.int32) % 7]
    with pytest.raises(errors.ConfigError, match="receptive field 1024"):
        audio_clips.ClipWindows(codes, window=1024, context=1024)
    audio_clips.ClipWindows(codes, window=1025, context=1024)  # fine: short clips are padded


def test_clip_windows_are_deterministic_labelled_slices():
    rng = np.random.default_rng(0)
    codes = [rng.integers(0, 256, n).astype(np.int32) for n in (30, 100, 7)]
    data = audio_clips.ClipWindows(codes, window=20, context=8, cond=np.array([4, 5, 6]))
    x, c = data.batch(3, 64, seed=1)
    x2, c2 = data.batch(3, 64, seed=1)
    np.testing.assert_array_equal(x, x2)
    assert x.shape == (64, 20) and c.shape == (64,) and set(c) <= {4, 5, 6}
    sil = audio_clips.silence_code()
    for row, lab in zip(x, c):
        clip = codes[lab - 4]
        padded = np.r_[np.full(max(8, 20 - len(clip)), sil), clip]
        assert any(np.array_equal(row, padded[s:s + 20]) for s in range(len(padded) - 19))


def test_clip_log_probs_match_log_prob_of_padded_clip(cond_model):
    model, params = cond_model
    rng = np.random.default_rng(1)
    codes = [rng.integers(0, 16, n).astype(np.int32) for n in (25, 32, 9)]
    cond = np.array([1, 4, 0], np.int32)
    ctx = 8
    got = audio_clips.clip_log_probs(model, params, codes, cond, context=ctx, batch_size=2, bucket=16,
                                     channels=16)
    sil = audio_clips.silence_code(16)
    for j, c in enumerate(codes):
        x = np.r_[np.full(ctx, sil), c][None]
        lp = model.dist.log_prob(model.outputs(params, jnp.asarray(x), jnp.asarray(cond[j:j + 1])), jnp.asarray(x))
        np.testing.assert_allclose(got[j], float(lp[0, ctx:].sum()), rtol=1e-5)
    assert audio_clips.bits_per_sample(got, 66) > 0


def test_encode_clips_bad_audio():
    with pytest.raises(errors.DataFileError, match="empty"):
        audio_clips.encode_clips([np.zeros(5, np.float32), np.zeros(0, np.float32)])
    with pytest.raises(errors.ShapeError, match="mono"):
        audio_clips.encode_clips([np.zeros((5, 2), np.float32)])
    with pytest.raises(errors.ValueRangeError, match="NaN"):
        audio_clips.encode_clips([np.array([0.1, np.nan], np.float32)])
    codes = audio_clips.encode_clips([np.array([-1.0, 0.0, 1.0], np.float32)])
    np.testing.assert_array_equal(codes[0], [0, audio_clips.silence_code(), 255])
