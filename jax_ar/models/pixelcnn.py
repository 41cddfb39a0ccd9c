"""PixelCNN (van den Oord et al. 2016, "Pixel Recurrent Neural Networks", section 3.5).

A ``first_kernel x first_kernel`` masked convolution of type A (the centre
pixel closed), then ``num_blocks`` residual blocks

    h <- h + 1x1(relu(maskedB_kxk(relu(1x1(relu(h))))))      (2F -> F -> F -> 2F)

and a ``relu -> 1x1 -> relu -> 1x1`` head giving, per pixel, one Bernoulli
logit (``levels=2``) or ``levels`` categorical logits (e.g. 256 for 8-bit
grey).  Kernel masks are :func:`jax_ar.masks.pixelcnn_kernel_mask`.  Stacked
type-B 3x3 masks leave a *blind spot* above-right of each pixel.

Contract: ``x_BxD`` with ``D = height * width`` in raster order; the net
reshapes to ``[B, H, W, 1]`` (pixel value scaled to [0, 1]) internally.

Two ``step`` forms (``step_mode``):

* ``"naive"``: the cache is the image so far plus ``t``; every step runs the
  whole network on the whole image and reads pixel t (``H*W`` forward passes
  per image).
* ``"cached"`` (default): the cache holds, for the input and for every
  residual block, a zero-padded activation image.  In raster order every
  layer's output at pixel t needs only layer-below outputs at pixels <= t
  (type A: < t), so one step computes pixel t bottom-up through all layers
  from ``k x k`` windows of those caches and writes it back: O(layers k^2 F^2)
  per pixel instead of a full forward (the Fast PixelCNN++ idea,
  Ramachandran et al. 2017).
"""
from __future__ import annotations

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jax_ar import distributions, errors
from jax_ar.contract import LinenARModel
from jax_ar.layers.masked_conv import MaskedConv2D
from jax_ar.models.registry import register

STEP_MODES = ("cached", "naive")


# ------------------------------------------------------------ shared helpers
def pixel_dist(levels: int):
    """Bernoulli for binary images, Categorical(levels) otherwise."""
    return distributions.Bernoulli() if levels == 2 else distributions.Categorical(levels)


def encode_pixels(x, levels: int):
    """Integer pixel values 0..levels-1 -> float32 in [0, 1]."""
    return x.astype(jnp.float32) / float(levels - 1)


def check_image_config(height: int, width: int, levels: int, step_mode: str, **positive) -> None:
    for name, v in dict(height=height, width=width, **positive).items():
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise errors.ConfigError(f"{name} must be a positive integer, got {v!r}")
    if not isinstance(levels, (int, np.integer)) or levels < 2:
        raise errors.ConfigError(f"levels must be an integer >= 2 (2 = binary), got {levels!r}")
    if step_mode not in STEP_MODES:
        raise errors.ConfigError(f"step_mode must be one of {STEP_MODES}, got {step_mode!r}")


def write_pixel(buf_BxHpxWpxC, value_BxC, i, j, off_i: int, off_j: int):
    """Write one pixel's vector into a zero-padded activation image at (i + off_i, j + off_j)."""
    return jax.lax.dynamic_update_slice(buf_BxHpxWpxC, value_BxC[:, None, None, :].astype(buf_BxHpxWpxC.dtype),
                                        (0, i + off_i, j + off_j, 0))


def window(buf_BxHpxWpxC, i, j, kh: int, kw: int):
    """The kh x kw window whose top-left corner is (i, j) of a padded buffer."""
    B, _, _, C = buf_BxHpxWpxC.shape
    return jax.lax.dynamic_slice(buf_BxHpxWpxC, (0, i, j, 0), (B, kh, kw, C))


@dataclasses.dataclass(frozen=True, eq=False)
class ImageARModel(LinenARModel):
    """LinenARModel for ``height x width`` images flattened in raster order."""
    height: int = 1
    width: int = 1

    def check_input(self, x, cond=None) -> None:
        shape = tuple(jnp.shape(x))      # static, also under jit
        if len(shape) == 2 and shape[1] != self.seq_len:
            raise errors.ShapeError(
                f"x has {shape[1]} pixels per row but this model is built for {self.height}x{self.width}"
                f" images flattened to {self.seq_len} (expected shape [batch, {self.seq_len}], got {shape})")
        if len(shape) == 3:
            raise errors.ShapeError(f"x must be flattened to [batch, {self.seq_len}] (raster order), "
                                    f"got image-shaped {shape}")
        super().check_input(x, cond)


# --------------------------------------------------------------------- model
class PixelCNNNet(nn.Module):
    height: int
    width: int
    levels: int = 2
    features: int = 16          # F; the residual stream has 2F channels
    num_blocks: int = 4
    first_kernel: int = 7
    kernel: int = 3
    head_features: int = 32
    step_mode: str = "cached"

    def setup(self):
        F = self.features
        self.P = 1 if self.levels == 2 else self.levels
        self.conv_in = MaskedConv2D(1, 2 * F, "A", self.first_kernel)
        self.block_in = [nn.Dense(F, name=f"block{b}_in") for b in range(self.num_blocks)]
        self.block_conv = [MaskedConv2D(F, F, "B", self.kernel, name=f"block{b}_conv")
                           for b in range(self.num_blocks)]
        self.block_out = [nn.Dense(2 * F, name=f"block{b}_out") for b in range(self.num_blocks)]
        self.head1 = nn.Dense(self.head_features)
        self.head2 = nn.Dense(self.P)

    def _head(self, h):
        return self.head2(nn.relu(self.head1(nn.relu(h))))

    def __call__(self, x_BxD, cond_B=None):
        B, H, W = x_BxD.shape[0], self.height, self.width
        img_BxHxWx1 = encode_pixels(x_BxD, self.levels).reshape(B, H, W, 1)
        h = self.conv_in(img_BxHxWx1)
        for b in range(self.num_blocks):
            u = nn.relu(self.block_in[b](nn.relu(h)))
            h = h + self.block_out[b](nn.relu(self.block_conv[b](u)))
        return self._head(h).reshape(B, H * W, self.P)

    # ---------------------------------------------------------- sampling
    def init_cache(self, batch_size, cond_B=None):
        t = jnp.zeros((), jnp.int32)
        if self.step_mode == "naive":
            return {"t": t, "x_BxD": jnp.zeros((batch_size, self.height * self.width), jnp.int32)}
        c0, c = self.first_kernel // 2, self.kernel // 2
        H, W, F = self.height, self.width, self.features
        return {"t": t,
                "img": jnp.zeros((batch_size, H + 2 * c0, W + 2 * c0, 1), jnp.float32),
                "u": [jnp.zeros((batch_size, H + 2 * c, W + 2 * c, F), jnp.float32)
                      for _ in range(self.num_blocks)]}

    def step(self, cache, x_prev_B):
        if self.step_mode == "naive":
            return self._step_naive(cache, x_prev_B)
        return self._step_cached(cache, x_prev_B)

    def _step_naive(self, cache, x_prev_B):
        t = cache["t"]
        x = cache["x_BxD"]
        prev = jnp.maximum(t - 1, 0)
        x = jnp.where(t > 0, x.at[:, prev].set(x_prev_B.astype(x.dtype)), x)
        out_BxDxP = self(x)
        return jax.lax.dynamic_index_in_dim(out_BxDxP, t, axis=1, keepdims=False), {"t": t + 1, "x_BxD": x}

    def _step_cached(self, cache, x_prev_B):
        W = self.width
        c0, c, k0, k = self.first_kernel // 2, self.kernel // 2, self.first_kernel, self.kernel
        t = cache["t"]
        prev = jnp.maximum(t - 1, 0)
        v_B = jnp.where(t > 0, encode_pixels(x_prev_B, self.levels), 0.0)
        img = write_pixel(cache["img"], v_B[:, None], prev // W, prev % W, c0, c0)
        i, j = t // W, t % W
        h = self.conv_in.patch(window(img, i, j, k0, k0))            # [B, 2F] at pixel t
        us = []
        for b in range(self.num_blocks):
            u = nn.relu(self.block_in[b](nn.relu(h)))
            ub = write_pixel(cache["u"][b], u, i, j, c, c)
            us.append(ub)
            h = h + self.block_out[b](nn.relu(self.block_conv[b].patch(window(ub, i, j, k, k))))
        return self._head(h), {"t": t + 1, "img": img, "u": us}


def receptive_field(model, params, row: int, col: int, seed: int = 5) -> np.ndarray:
    """``|d out(row, col) / d x|`` over the image, shape [H, W], at a random real-valued input.

    The input is relaxed to floats in [0, 1] so the gradient exists; a zero
    entry means the output at (row, col) cannot depend on that pixel.
    """
    H, W = model.height, model.width
    if not (0 <= row < H and 0 <= col < W):
        raise errors.ShapeError(f"pixel ({row}, {col}) is outside the {H}x{W} image")
    x = jax.random.uniform(jax.random.PRNGKey(seed), (1, H * W)) * (model.dist.vocab_size - 1)
    cond = jnp.zeros((1,), jnp.int32) if model.num_classes else None

    def f(x_flat):
        return model.module.apply({"params": params}, x_flat, cond)[0, row * W + col, 0]

    return np.abs(np.asarray(jax.jit(jax.grad(f))(x))).reshape(H, W)


def receptive_field_rows(num_blocks: int, first_kernel: int = 7, kernel: int = 3) -> int:
    """How many rows above a pixel its output can see (plain PixelCNN)."""
    return first_kernel // 2 + num_blocks * (kernel // 2)


@register("pixelcnn", tiny={"height": 2, "width": 4, "features": 4, "num_blocks": 1,
                            "first_kernel": 3, "head_features": 8})
def build(height: int = 28, width: int = 28, levels: int = 2, features: int = 16, num_blocks: int = 4,
          first_kernel: int = 7, kernel: int = 3, head_features: int = 32,
          step_mode: str = "cached") -> ImageARModel:
    check_image_config(height, width, levels, step_mode, features=features, head_features=head_features,
                       first_kernel=first_kernel, kernel=kernel)
    if num_blocks < 0:
        raise errors.ConfigError(f"num_blocks must be >= 0, got {num_blocks}")
    for name, k in (("first_kernel", first_kernel), ("kernel", kernel)):
        if k % 2 == 0:
            raise errors.ConfigError(f"{name} must be odd, got {k}")
    net = PixelCNNNet(height, width, levels, features, num_blocks, first_kernel, kernel, head_features, step_mode)
    return ImageARModel(net, height * width, pixel_dist(levels), 0, height=height, width=width)


@register("pixelcnn_categorical", tiny={"height": 2, "width": 2, "levels": 3, "features": 4,
                                        "num_blocks": 1, "first_kernel": 3, "head_features": 8})
def build_categorical(height: int = 28, width: int = 28, levels: int = 256, **kwargs) -> ImageARModel:
    """PixelCNN with a ``levels``-way softmax per pixel (256 for 8-bit greyscale)."""
    return build(height=height, width=width, levels=levels, **kwargs)
