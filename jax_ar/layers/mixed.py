"""Mixed-precision matrix products: bfloat16 operands, float32 accumulation and result.

Parameters, activations, layer norms, softmax and the loss stay float32; only
the operands of the dense products are rounded to bfloat16, in the forward
pass and in both backward products (``dx = g w^T``, ``dw = x^T g``), each
accumulated in float32 (``preferred_element_type``).  This is what autocast
does in PyTorch.  On CPUs with AMX / AVX512-BF16, XLA:CPU's YNNPACK kernels
run these products 3-5x faster than float32; on GPUs and TPUs they use the
tensor/matrix units.

XLA:CPU upcasts a bfloat16 product back to float32 when an operand is a
transposed view (the library kernels want row-major operands contracted on
their last axis).  ``dw = x^T g`` contracts over rows, so ``x^T`` is
materialised row-major first (:func:`rowmajor_transpose`).

Caveat for extensions (jax 0.10 / XLA:CPU): do not transpose a product's
2-D result directly (``matmul(x, w).T``).  XLA folds that transpose into the
product after it has picked the bfloat16 kernel, and the product then fails
at run time ("Unsupported element type for DotThunk::Execute: BF16 x BF16 =
F32").  Reshapes and multi-axis transposes of the result (as the attention
heads do) are fine; ``tests/test_mixed.py`` runs every Transformer variant at
shapes where these kernels are used.

``matmul_dtype="float32"`` everywhere means plain float32 products: the
mixed path is used only when asked for.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from jax_ar import errors
from jax_ar.layers import flat

MATMUL_DTYPES = ("float32", "bfloat16")
_BF16, _F32 = jnp.bfloat16, jnp.float32
_NT = (((1,), (1,)), ((), ()))      # contract the last axis of both operands


def check_matmul_dtype(name: str) -> None:
    if name not in MATMUL_DTYPES:
        raise errors.ConfigError(f"matmul_dtype must be one of {', '.join(MATMUL_DTYPES)}, got {name!r}")


def rowmajor_transpose(a_NxF):
    """``a^T`` as a row-major [F, N] array.

    A plain transpose reaches XLA as a column-major view that is folded into
    the product's dimension numbers, which XLA:CPU then runs in float32;
    padding one column and slicing it off again makes it a real row-major
    array.  Values are those of ``a.T``."""
    N = a_NxF.shape[0]
    return lax.pad(a_NxF.T, jnp.zeros((), a_NxF.dtype), ((0, 0, 0), (0, 1, 0)))[:, :N]


def _matmul_fwd(x_NxF, w_FxG):
    xb, wb = x_NxF.astype(_BF16), w_FxG.astype(_BF16)
    return jnp.dot(xb, wb, preferred_element_type=_F32), (xb, wb)


@jax.custom_vjp
def matmul(x_NxF, w_FxG):
    """``x @ w`` with bfloat16 operands, float32 result (and float32-accumulated gradients)."""
    return _matmul_fwd(x_NxF, w_FxG)[0]


def _matmul_bwd(res, g_NxG):
    xb_NxF, wb_FxG = res
    gb = g_NxG.astype(_BF16)
    dx_NxF = lax.dot_general(gb, wb_FxG, _NT, preferred_element_type=_F32)
    dw_FxG = jnp.dot(rowmajor_transpose(xb_NxF), gb, preferred_element_type=_F32)
    return dx_NxF, dw_FxG


matmul.defvjp(_matmul_fwd, _matmul_bwd)


def _matmul_nt_fwd(x_NxF, e_GxF):
    xb, eb = x_NxF.astype(_BF16), e_GxF.astype(_BF16)
    return lax.dot_general(xb, eb, _NT, preferred_element_type=_F32), (xb, eb)


@jax.custom_vjp
def matmul_nt(x_NxF, e_GxF):
    """``x @ e.T`` (e stored [G, F], e.g. a tied embedding) with bfloat16 operands, float32 result."""
    return _matmul_nt_fwd(x_NxF, e_GxF)[0]


def _matmul_nt_bwd(res, g_NxG):
    xb_NxF, eb_GxF = res
    gb = g_NxG.astype(_BF16)
    dx_NxF = jnp.dot(gb, eb_GxF, preferred_element_type=_F32)
    de_GxF = jnp.dot(rowmajor_transpose(gb), xb_NxF, preferred_element_type=_F32)
    return dx_NxF, de_GxF


matmul_nt.defvjp(_matmul_nt_fwd, _matmul_nt_bwd)


def dense_dot_general(matmul_dtype: str):
    """The ``dot_general`` for ``flax.linen.Dense``: None (Flax's own) for float32, else :func:`matmul`."""
    check_matmul_dtype(matmul_dtype)
    if matmul_dtype == "float32":
        return None

    def dot_general(lhs, rhs, dimension_numbers, precision=None, preferred_element_type=None):
        (lc, rc), (lb, rb) = dimension_numbers
        if tuple(lc) != (lhs.ndim - 1,) or tuple(rc) != (0,) or rhs.ndim != 2 or lb or rb:
            raise errors.ShapeError(f"mixed-precision dense product expects x[..., F] @ w[F, G], got "
                                    f"{lhs.shape} @ {rhs.shape} with dimension numbers {dimension_numbers}")
        return flat.rows(lambda x_NxF: matmul(x_NxF, rhs), lhs)
    return dot_general


def matmul_fn(matmul_dtype: str):
    """``x @ w`` in the given product precision: ``jnp.matmul`` or :func:`matmul`."""
    check_matmul_dtype(matmul_dtype)
    return jnp.matmul if matmul_dtype == "float32" else matmul


def matmul_transposed(x_NxF, e_GxF, matmul_dtype: str):
    """``x @ e.T`` in the given product precision."""
    if matmul_dtype == "float32":
        return x_NxF @ e_GxF.T
    return matmul_nt(x_NxF, e_GxF)
