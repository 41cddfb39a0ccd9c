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

``__call__(x_BxHxWxC)`` is the parallel (same-size) convolution (:func:`conv2d`; on CPU its
gradients are matrix products over the open taps only);
``patch(p_BxkhxkwxC) -> y_BxF`` applies the kernel to one window, for the
cached samplers; ``valid(x)`` is the convolution without padding.
"""
from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

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


FORMS = ("lax", "im2col", "lax_im2col_grad")
# The form ``conv2d`` uses on the CPU backend when none is given (read when a model is traced).
# "lax_im2col_grad" is a custom VJP, so forward-mode differentiation (jax.jvp, jax.jacfwd,
# jax.hessian) does not go through it: set this to "im2col" (both modes, same sums) for that.
CPU_FORM = "lax_im2col_grad"
# ... and for the cached samplers' few-row windows (``MaskedConv2D.valid``): ~10x faster there (BENCHMARKS.md)
CPU_ROWS_FORM = "im2col"


def default_form(rows: bool = False) -> str:
    """The form ``conv2d`` uses when none is given: ``"lax"`` off CPU, else :data:`CPU_FORM`
    (:data:`CPU_ROWS_FORM` for few-row windows)."""
    if jax.default_backend() != "cpu":
        return "lax"
    return CPU_ROWS_FORM if rows else CPU_FORM


def conv2d(x_BxHxWxC, w_khxkwxCxF, padding, taps=None, form=None):
    """Stride-1 2-D convolution: NHWC input, HWIO kernel, explicit ``((top, bottom), (left, right))``
    zero padding.  ``taps``: the kernel positions ``(i, j)`` that may be non-zero (default all).

    ``form`` (the same sums each way):

    * ``"lax"``: ``lax.conv_general_dilated`` (cuDNN and the TPU's convolutions; the default
      off CPU);
    * ``"im2col"``: one matrix product of the shifted copies of the input at ``taps`` with
      those kernel rows, so a masked kernel's closed taps cost nothing;
    * ``"lax_im2col_grad"`` (the default on CPU, :data:`CPU_FORM`): the ``"lax"`` value with
      the gradients of ``"im2col"`` (reverse mode only).  XLA:CPU runs the convolution's kernel gradient 5-20x slower than its
      forward pass, so a 32-feature Gated PixelCNN's training step took 2.6-2.9x longer;
      its forward pass is the faster one at small channel counts (BENCHMARKS.md).
    """
    form = form or default_form()
    padding = tuple(tuple(int(n) for n in p) for p in padding)
    taps = None if taps is None else tuple((int(i), int(j)) for i, j in taps)
    if form == "lax":
        return _lax_conv(x_BxHxWxC, w_khxkwxCxF, padding)
    if form == "im2col":
        return _im2col_conv(x_BxHxWxC, w_khxkwxCxF, padding, taps)
    if form == "lax_im2col_grad":
        return _lax_conv_im2col_grad(x_BxHxWxC, w_khxkwxCxF, padding, taps)
    raise errors.ConfigError(f"unknown convolution form {form!r}; choose from {', '.join(FORMS)}")


def _lax_conv(x_BxHxWxC, w_khxkwxCxF, padding):
    return jax.lax.conv_general_dilated(x_BxHxWxC, w_khxkwxCxF, window_strides=(1, 1), padding=padding,
                                        dimension_numbers=("NHWC", "HWIO", "NHWC"))


def _im2col_conv(x_BxHxWxC, w_khxkwxCxF, padding, taps):
    kh, kw, C, F = w_khxkwxCxF.shape
    B, H, W, _ = x_BxHxWxC.shape
    Ho, Wo = H + sum(padding[0]) - kh + 1, W + sum(padding[1]) - kw + 1
    taps = [(i, j) for i in range(kh) for j in range(kw)] if taps is None else list(taps)
    if not taps:
        return jnp.zeros((B, Ho, Wo, F), jnp.result_type(x_BxHxWxC, w_khxkwxCxF))
    xp = jnp.pad(x_BxHxWxC, ((0, 0), padding[0], padding[1], (0, 0)))
    cols = [xp[:, i:i + Ho, j:j + Wo, :] for i, j in taps]
    p_NxK = (cols[0] if len(cols) == 1 else jnp.concatenate(cols, axis=-1)).reshape(B * Ho * Wo, len(taps) * C)
    w_KxF = jnp.stack([w_khxkwxCxF[i, j] for i, j in taps]).reshape(len(taps) * C, F)
    return (p_NxK @ w_KxF).reshape(B, Ho, Wo, F)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def _lax_conv_im2col_grad(x_BxHxWxC, w_khxkwxCxF, padding, taps):
    return _lax_conv(x_BxHxWxC, w_khxkwxCxF, padding)


def _lax_im2col_fwd(x, w, padding, taps):
    return _lax_conv(x, w, padding), (x, w)


def _lax_im2col_bwd(padding, taps, residuals, dy):
    x, w = residuals
    _, vjp = jax.vjp(lambda x_, w_: _im2col_conv(x_, w_, padding, taps), x, w)   # its product is dropped
    return vjp(dy)


_lax_conv_im2col_grad.defvjp(_lax_im2col_fwd, _lax_im2col_bwd)


def open_taps(kind: str, k: int) -> list[tuple[int, int]]:
    """The kernel positions ``(i, j)`` that the mask of this kind and size leaves open, in raster order."""
    return list(_open_taps(kind, k))


@functools.lru_cache(maxsize=None)         # built once per kind and size, not at every trace
def _open_taps(kind: str, k: int) -> tuple[tuple[int, int], ...]:
    with jax.ensure_compile_time_eval():      # a constant, also while a caller is being traced
        m_khxkw = np.asarray(kernel_mask(kind, k))
    return tuple((int(i), int(j)) for i, j in zip(*np.nonzero(m_khxkw)))


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

    def _conv(self, x_BxHxWxC, padding, form=None):
        return conv2d(x_BxHxWxC.astype(jnp.float32), self.masked_kernel(), padding,
                      open_taps(self.kind, self.kernel_size), form) + self.bias_F

    def __call__(self, x_BxHxWxC):
        return self._conv(x_BxHxWxC, kernel_padding(self.kind, self.kernel_size))

    def valid(self, x_BxHxWxC):
        return self._conv(x_BxHxWxC, ((0, 0), (0, 0)), default_form(rows=True))

    def patch(self, p_BxkhxkwxC):
        """Output at one pixel from its (already padded) input window."""
        return jnp.einsum("bhwc,hwcf->bf", p_BxkhxkwxC.astype(jnp.float32), self.masked_kernel()) + self.bias_F
