"""Masked 2-D convolution for PixelCNN-style image models, with a one-pixel form.

The kernel ``W_khxkwxCxF`` is multiplied by an explicit 0/1 spatial mask from
:mod:`jax_ar.masks` before every use, so a masked tap contributes exactly 0.
Kinds (``k`` is the nominal odd kernel size):

* ``"A"`` / ``"B"``: a full ``k x k`` PixelCNN kernel
  (:func:`jax_ar.masks.pixelcnn_kernel_mask`), padded ``k//2`` on every side;
* ``"v_first"`` / ``"v"``: a Gated PixelCNN vertical-stack kernel cropped to
  ``(k//2 + 1) x k`` (:func:`jax_ar.masks.gated_vertical_kernel_mask`), padded
  ``k//2`` rows on top and ``k//2`` columns each side;
* ``"h_first"`` / ``"h"``: a horizontal-stack kernel cropped to
  ``1 x (k//2 + 1)`` (:func:`jax_ar.masks.gated_horizontal_kernel_mask`),
  padded ``k//2`` columns on the left.

``__call__(x_BxHxWxC)`` is the parallel (same-size) convolution;
``patch(p_BxkhxkwxC) -> y_BxF`` applies the kernel to one window, for the
cached samplers; ``valid(x)`` is the convolution without padding.
"""
from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from jax_ar import errors, masks

KINDS = ("A", "B", "v_first", "v", "h_first", "h")


def kernel_mask(kind: str, k: int) -> jnp.ndarray:
    """The spatial 0/1 mask of a kernel of this kind and nominal size."""
    if kind in ("A", "B"):
        return masks.pixelcnn_kernel_mask(k, k, kind)
    if kind in ("v_first", "v"):
        return masks.gated_vertical_kernel_mask(k, first=kind == "v_first")
    if kind in ("h_first", "h"):
        return masks.gated_horizontal_kernel_mask(k, first=kind == "h_first")
    raise errors.ConfigError(f"unknown masked-convolution kind {kind!r}; choose from {', '.join(KINDS)}")


def kernel_padding(kind: str, k: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """((top, bottom), (left, right)) zero padding that keeps the output the input's size."""
    c = k // 2
    if kind in ("A", "B"):
        return (c, c), (c, c)
    if kind in ("v_first", "v"):
        return (c, 0), (c, c)
    return (0, 0), (c, 0)


class MaskedConv2D(nn.Module):
    in_features: int
    features: int
    kind: str
    kernel_size: int

    def setup(self):
        if self.kernel_size < 1 or self.kernel_size % 2 == 0:
            raise errors.ConfigError(f"masked convolutions need an odd kernel_size >= 1, got {self.kernel_size}")
        self.mask_khxkw = kernel_mask(self.kind, self.kernel_size)
        kh, kw = self.mask_khxkw.shape
        self.kernel = self.param("kernel", nn.initializers.lecun_normal(in_axis=(0, 1, 2), out_axis=3),
                                 (kh, kw, self.in_features, self.features))
        self.bias_F = self.param("bias", nn.initializers.zeros, (self.features,))

    def masked_kernel(self):
        return jnp.where(self.mask_khxkw[:, :, None, None] > 0, self.kernel, 0.0)

    def _conv(self, x_BxHxWxC, padding):
        y = jax.lax.conv_general_dilated(
            x_BxHxWxC.astype(jnp.float32), self.masked_kernel(), window_strides=(1, 1),
            padding=padding, dimension_numbers=("NHWC", "HWIO", "NHWC"))
        return y + self.bias_F

    def __call__(self, x_BxHxWxC):
        return self._conv(x_BxHxWxC, kernel_padding(self.kind, self.kernel_size))

    def valid(self, x_BxHxWxC):
        return self._conv(x_BxHxWxC, ((0, 0), (0, 0)))

    def patch(self, p_BxkhxkwxC):
        """Output at one pixel from its (already padded) input window."""
        return jnp.einsum("bhwc,hwcf->bf", p_BxkhxkwxC.astype(jnp.float32), self.masked_kernel()) + self.bias_F
