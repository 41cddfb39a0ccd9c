"""PixelCNN and Gated PixelCNN: cached == naive == parallel, receptive fields, masks, bad input."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jax_ar import errors, masks, sampling
from jax_ar.layers.masked_conv import KINDS, conv2d, kernel_mask, kernel_padding, open_taps
from jax_ar.models import gated_pixelcnn, pixelcnn

SMALL_PLAIN = dict(height=3, width=5, features=4, num_blocks=2, first_kernel=5, head_features=8)
SMALL_GATED = dict(height=3, width=5, features=4, num_layers=3, first_kernel=5, head_features=8,
                   num_classes=3, levels=3)


def _noisy_params(model, seed=0, scale=0.5):
    def f(key):
        params = model.init(key)
        leaves, tree = jax.tree_util.tree_flatten(params)
        keys = jax.random.split(jax.random.PRNGKey(seed + 1), len(leaves))
        return jax.tree_util.tree_unflatten(tree, [a + scale * jax.random.normal(k, a.shape)
                                                   for a, k in zip(leaves, keys)])
    return jax.jit(f)(jax.random.PRNGKey(seed))


def test_convolution_forms_give_the_same_values_and_gradients():
    """The CPU forms of the masked convolutions (im2col over the open taps; lax values with
    im2col gradients) compute what ``lax.conv_general_dilated`` computes with the masked kernel,
    and so do their gradients."""
    key = jax.random.PRNGKey(3)
    for kind in KINDS:
        mask = kernel_mask(kind, 3)
        m = mask[:, :, None, None]            # closed taps: the model's kernel is zero there anyway
        C = 1 if kind in ("A", "v_first", "h_first") else 3
        x = jax.random.normal(key, (2, 4, 6, C))
        w = jax.random.normal(jax.random.PRNGKey(1), mask.shape + (C, 5)) * m
        for pad in (kernel_padding(kind, 3), ((0, 0), (0, 0))):
            def grads(x, w, form):
                return jax.value_and_grad(
                    lambda x, w: jnp.sum(jnp.sin(conv2d(x, w, pad, open_taps(kind, 3), form))), (0, 1))(x, w)
            (want, (want_dx, want_dw)) = jax.jit(grads, static_argnums=2)(x, w, "lax")
            for form in ("im2col", "lax_im2col_grad"):
                (got, (got_dx, got_dw)) = jax.jit(grads, static_argnums=2)(x, w, form)
                for a, b in ((got, want), (got_dx, want_dx), (got_dw * m, want_dw * m)):
                    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5, err_msg=f"{form} {kind} {pad}")
    assert open_taps("A", 3) == [(0, 0), (0, 1), (0, 2), (1, 0)] and open_taps("v_first", 1) == []
    y = conv2d(jnp.ones((1, 2, 2, 1)), jnp.ones((1, 1, 1, 4)), ((1, 0), (0, 0)), taps=[], form="im2col")
    assert y.shape == (1, 3, 2, 4) and not np.any(np.asarray(y))       # no open tap: zeros
    with pytest.raises(errors.ConfigError, match="unknown convolution form 'fft'"):
        conv2d(x, w, pad, form="fft")
    # forward mode: "im2col" (CPU_FORM's documented alternative) matches "lax"
    tangents = [jax.jvp(lambda x: conv2d(x, w, pad, form=f), (x,), (jnp.ones_like(x),))[1] for f in ("lax", "im2col")]
    np.testing.assert_allclose(tangents[1], tangents[0], rtol=1e-5, atol=1e-5)


@pytest.fixture(scope="module")
def plain():
    m = pixelcnn.build(**SMALL_PLAIN)
    return m, _noisy_params(m)


@pytest.fixture(scope="module")
def gated():
    """Class-conditional, 3 grey levels: one model, params shared by the tests below."""
    m = gated_pixelcnn.build(**SMALL_GATED)
    return m, _noisy_params(m)


def _x(model, batch=2, seed=4):
    return jax.random.randint(jax.random.PRNGKey(seed), (batch, model.seq_len), 0, model.dist.vocab_size)


# ------------------------------------------------------------------ masks
def test_gated_masks_exact_values():
    np.testing.assert_array_equal(masks.gated_vertical_kernel_mask(3, first=True), [[1, 1, 1], [0, 0, 0]])
    np.testing.assert_array_equal(masks.gated_vertical_kernel_mask(3, first=False), [[1, 1, 1], [1, 1, 1]])
    np.testing.assert_array_equal(masks.gated_horizontal_kernel_mask(5, first=True), [[1, 1, 0]])
    np.testing.assert_array_equal(masks.gated_horizontal_kernel_mask(5, first=False), [[1, 1, 1]])
    assert kernel_mask("A", 7).shape == (7, 7) and float(kernel_mask("A", 7)[3, 3]) == 0.0
    with pytest.raises(ValueError, match="odd"):
        masks.gated_vertical_kernel_mask(4, first=True)


# ------------------------------------------------- step forms == parallel
def _check_steps(models, params, cond):
    x = _x(models[0])
    par = np.asarray(jax.jit(models[0].outputs)(params, x, cond))
    for m in models:
        st = np.asarray(jax.jit(sampling.step_outputs, static_argnums=0)(m, params, x, cond))
        np.testing.assert_allclose(st, par, atol=1e-4, rtol=1e-4)


def test_plain_cached_step_matches_parallel_on_a_larger_image(plain):
    m, params = plain
    _check_steps([m], params, None)


def test_gated_cached_and_naive_steps_match_parallel_on_a_larger_image(gated):
    m, params = gated
    _check_steps([m, gated_pixelcnn.build(**SMALL_GATED, step_mode="naive")], params, jnp.array([0, 2]))


def test_cached_and_naive_samplers_draw_the_same_images(gated):
    a, params = gated
    b = gated_pixelcnn.build(**SMALL_GATED, step_mode="naive")
    cond = jnp.array([0, 1, 2])
    xa, lpa = sampling.sample(a, params, jax.random.PRNGKey(1), 3, cond=cond)
    xb, lpb = sampling.sample(b, params, jax.random.PRNGKey(1), 3, cond=cond)
    np.testing.assert_array_equal(np.asarray(xa), np.asarray(xb))
    np.testing.assert_allclose(np.asarray(lpa), np.asarray(lpb), atol=1e-4)


def test_class_label_changes_the_distribution(gated):
    m, params = gated
    x = jnp.zeros((3, m.seq_len), jnp.int32)
    lp = np.asarray(jax.jit(m.log_prob)(params, x, jnp.arange(3)))
    assert len(set(np.round(lp, 5))) == 3, lp


# ------------------------------------------------------- receptive fields
def _field(model, params, r, c):
    return pixelcnn.receptive_field(model, params, r, c)


def test_plain_pixelcnn_has_a_blind_spot_however_deep():
    m = pixelcnn.build(height=4, width=6, features=4, num_blocks=3, first_kernel=3, head_features=8)
    params = _noisy_params(m, scale=0.3)
    r, c = 3, 1
    g = _field(m, params, r, c)
    t = r * m.width + c
    flat = g.reshape(-1)
    assert flat[t:].max() == 0.0                      # causal: nothing at or after the pixel
    assert g[r - 1, c + 1] > 0 and g[r, c - 1] > 0    # the direct neighbours are seen
    assert g[r - 1, c + 2:].max() == 0.0              # ... but the row above, right of c+1, is blind
    assert (flat[:t] == 0).any()


def test_gated_pixelcnn_sees_every_pixel_above_and_left():
    m = gated_pixelcnn.build(height=3, width=5, features=4, num_layers=4, first_kernel=3, head_features=8)
    params = _noisy_params(m, scale=0.3)
    r, c = 2, 2
    g = _field(m, params, r, c)
    t = r * m.width + c
    flat = g.reshape(-1)
    assert flat[t:].max() == 0.0
    assert (flat[:t] > 0).all(), f"gated field has zeros before pixel {t}:\n{g}"


# -------------------------------------------------------------- bad input
def test_wrong_image_size_is_a_shape_error(plain):
    m, params = plain
    with pytest.raises(errors.ShapeError, match="3x5 images"):
        m.log_prob(params, np.zeros((2, 16), np.int32))
    with pytest.raises(errors.ShapeError, match="flattened"):
        m.log_prob(params, np.zeros((2, 3, 5), np.int32))


def test_non_binary_pixels_are_a_value_error(plain, gated):
    m, params = plain
    x = np.zeros((1, m.seq_len), np.int32)
    x[0, 3] = 2
    with pytest.raises(errors.ValueRangeError, match="only 0 and 1"):
        m.log_prob(params, x)
    with pytest.raises(errors.ValueRangeError, match="non-integer"):
        m.log_prob(params, np.full((1, m.seq_len), 0.5, np.float32))
    c, cparams = gated   # 3 grey levels: 3 is out of range
    with pytest.raises(errors.ValueRangeError, match="outside the vocabulary"):
        c.log_prob(cparams, np.full((1, c.seq_len), 3, np.int32), np.array([0]))


def test_class_label_out_of_range_or_missing(plain, gated):
    m, params = gated
    x = np.zeros((2, m.seq_len), np.int32)
    with pytest.raises(errors.ValueRangeError, match="outside the range"):
        m.log_prob(params, x, np.array([0, 3]))
    with pytest.raises(errors.ValueRangeError, match="outside the range"):
        m.init_cache(params, 2, np.array([-1, 0]))
    with pytest.raises(errors.ValueRangeError, match="outside the range"):
        sampling.sample(m, params, jax.random.PRNGKey(0), 2, cond=np.array([5, 0]))
    with pytest.raises(errors.ValueRangeError, match="conditional"):
        m.log_prob(params, x)
    u, uparams = plain
    with pytest.raises(errors.ValueRangeError, match="unconditional"):
        u.log_prob(uparams, np.zeros((2, u.seq_len), np.int32), np.array([0, 1]))


@pytest.mark.parametrize("builder,kw,match", [
    (pixelcnn.build, dict(kernel=4), "odd"),
    (pixelcnn.build, dict(levels=1), "levels"),
    (pixelcnn.build, dict(height=0), "height"),
    (pixelcnn.build, dict(step_mode="fast"), "step_mode"),
    (gated_pixelcnn.build, dict(first_kernel=6), "odd"),
    (gated_pixelcnn.build, dict(num_classes=-1), "num_classes"),
    (gated_pixelcnn.build_conditional, dict(num_classes=0), "num_classes"),
])
def test_bad_config_is_a_config_error(builder, kw, match):
    with pytest.raises(errors.ConfigError, match=match):
        builder(**kw)
