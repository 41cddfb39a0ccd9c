"""Every mask in jax_ar, built by a named function and returned as an array.

Masks are plain boolean (or 0/1 float) arrays you can print; models apply them
with ``jnp.where`` or by multiplication.  Nothing here is hidden in a layer.
"""
from __future__ import annotations

import numpy as np
import jax.numpy as jnp


def causal_mask(T: int) -> jnp.ndarray:
    """Attention mask ``mask_TxT[i, j] = j <= i`` (position i may look at j).

    For T = 4::

        1 0 0 0
        1 1 0 0
        1 1 1 0
        1 1 1 1
    """
    return jnp.tril(jnp.ones((T, T), dtype=bool))


def causal_mask_row(S: int, t) -> jnp.ndarray:
    """Row ``t`` of :func:`causal_mask` ``(S)`` as a ``[1, S]`` array (``t`` may be traced).

    What one cached decoding step at position t attends to, built without
    materialising the S x S mask.
    """
    return (jnp.arange(S) <= t)[None, :]


def strict_causal_mask(D: int) -> jnp.ndarray:
    """``mask_DxD[i, j] = j < i``: output i may depend on inputs strictly before it.

    This is the FVSBN / fully-visible weight mask.  For D = 3::

        0 0 0
        1 0 0
        1 1 0
    """
    return jnp.tril(jnp.ones((D, D), dtype=bool), k=-1)


def made_hidden_mask(m_in: np.ndarray, m_out: np.ndarray) -> np.ndarray:
    """MADE mask between layers with integer degrees: ``M[k, k'] = m_out[k'] >= m_in[k]``.

    Returned with shape [in, out] (so ``x @ (W * M)``).
    """
    m_in, m_out = np.asarray(m_in), np.asarray(m_out)
    return (m_in[:, None] <= m_out[None, :]).astype(np.float32)


def made_output_mask(m_in: np.ndarray, m_out: np.ndarray) -> np.ndarray:
    """MADE output mask, strict: ``M[k, d] = m_out[d] > m_in[k]``, shape [in, out]."""
    m_in, m_out = np.asarray(m_in), np.asarray(m_out)
    return (m_in[:, None] < m_out[None, :]).astype(np.float32)


def made_masks(degrees: list[np.ndarray]) -> list[np.ndarray]:
    """All MADE masks from a list of degree vectors ``[m_input, m_h1, ..., m_output]``.

    ``m_input`` and ``m_output`` are the input ordering (values 1..D);
    hidden degrees lie in 1..D-1.  Every mask but the last is non-strict.
    """
    if len(degrees) < 2:
        raise ValueError("made_masks needs at least input and output degrees")
    masks = [made_hidden_mask(a, b) for a, b in zip(degrees[:-2], degrees[1:-1])]
    masks.append(made_output_mask(degrees[-2], degrees[-1]))
    return masks


def pixelcnn_kernel_mask(kh: int, kw: int, mask_type: str) -> jnp.ndarray:
    """Spatial mask of a PixelCNN convolution kernel, shape [kh, kw] of 0/1 floats.

    Rows above the centre are open; in the centre row, columns left of the
    centre are open; the centre itself is open for type "B" and closed for "A".
    For a 3x3 kernel, type A and type B::

        A: 1 1 1     B: 1 1 1
           1 0 0        1 1 0
           0 0 0        0 0 0
    (single-channel images: no colour-channel masking.)
    """
    if mask_type not in ("A", "B"):
        raise ValueError(f"mask_type must be 'A' or 'B', got {mask_type!r}")
    if kh % 2 == 0 or kw % 2 == 0:
        raise ValueError(f"PixelCNN kernels must have odd sizes, got {kh}x{kw}")
    m = np.zeros((kh, kw), np.float32)
    ch, cw = kh // 2, kw // 2
    m[:ch, :] = 1.0
    m[ch, :cw] = 1.0
    if mask_type == "B":
        m[ch, cw] = 1.0
    return jnp.asarray(m)


def show(mask) -> str:
    """Render a 2-D mask as a 0/1 grid string (for docs and debugging)."""
    a = np.asarray(mask).astype(int)
    return "\n".join(" ".join(str(v) for v in row) for row in a)


def made_degree_mask(m_in, m_out, *, strict: bool):
    """MADE connectivity from integer degrees, shape [in, out]; works on traced arrays.

    ``strict=False`` (hidden layers): ``M[k, k'] = m_out[k'] >= m_in[k]``, the
    rule of :func:`made_hidden_mask`; ``strict=True`` (output and direct
    input-to-output layers): ``M[k, d] = m_out[d] > m_in[k]``, the rule of
    :func:`made_output_mask`.  Used inside jit so that a mask pool is stored as
    small degree vectors and its masks are rebuilt for a (traced) mask index.
    """
    m_in, m_out = jnp.asarray(m_in), jnp.asarray(m_out)
    if strict:
        return (m_in[:, None] < m_out[None, :]).astype(jnp.float32)
    return (m_in[:, None] <= m_out[None, :]).astype(jnp.float32)


DEGREE_SPREADS = ("even", "cyclic")   # deterministic MADE hidden degrees, see made_degrees


def made_degrees(ordering, hidden_sizes, *, rng=None, spread: str = "even") -> list[np.ndarray]:
    """Degree vectors ``[m_input, m_h1, ..., m_hL]`` of one MADE mask.

    ``ordering[t]`` is the element generated at step t, so the input degree of
    element ``d`` is its 1-based rank: ``m_input[ordering[t]] = t + 1``.
    Hidden degrees of layer l lie in ``[min(m_{l-1}), D-1]``: drawn uniformly
    with ``rng`` (connectivity-agnostic MADE) or, with ``rng=None``, spread
    evenly over that whole range (deterministic): cycling through it when the
    layer has at least as many units as degrees, otherwise evenly spaced from
    the lowest to the highest degree, so a narrow layer (500 units for
    D = 784) still reaches the last elements.  For D = 3, ordering (0, 1, 2)
    and one hidden layer of 4 units the degrees are ``[1 2 3]`` and ``[1 2 1 2]``;
    for D = 7 and 3 units the hidden degrees are ``[1 4 6]``.  ``spread="cyclic"``
    always cycles from the lowest degree (the rule before commit d289223), so a
    narrow layer never reaches the top degrees; it is kept only to rebuild runs
    saved under it.
    """
    if spread not in DEGREE_SPREADS:
        raise ValueError(f"spread must be one of {DEGREE_SPREADS}, got {spread!r}")
    ordering = np.asarray(ordering)
    D = ordering.shape[0]
    m_in = np.empty(D, np.int32)
    m_in[ordering] = np.arange(1, D + 1, dtype=np.int32)
    degrees = [m_in]
    for h in hidden_sizes:
        lo = int(min(degrees[-1].min(), max(D - 1, 1)))
        hi = max(D - 1, lo)
        n = hi - lo + 1
        if rng is not None:
            m = rng.integers(lo, hi + 1, size=h)
        elif h >= n or spread == "cyclic":
            m = lo + np.arange(h) % n
        else:
            m = np.round(np.linspace(lo, hi, h))
        degrees.append(m.astype(np.int32))
    return degrees


def gated_vertical_kernel_mask(k: int, first: bool) -> jnp.ndarray:
    """Mask of a Gated PixelCNN vertical-stack kernel, shape [k//2 + 1, k].

    The kernel is cropped to the rows above and including the output row
    (padding k//2 rows on top only).  In the first layer the output row is
    closed, so the stack sees only rows strictly above (this is the
    "down-shift"); later layers read a stack that is already strictly above
    and keep the output row open.  For k = 3, first and later::

        first: 1 1 1     later: 1 1 1
               0 0 0            1 1 1
    """
    if k % 2 == 0 or k < 1:
        raise ValueError(f"Gated PixelCNN kernels must have odd sizes, got {k}")
    m = np.ones((k // 2 + 1, k), np.float32)
    if first:
        m[-1, :] = 0.0
    return jnp.asarray(m)


def gated_horizontal_kernel_mask(k: int, first: bool) -> jnp.ndarray:
    """Mask of a Gated PixelCNN horizontal-stack kernel, shape [1, k//2 + 1].

    The kernel is cropped to the columns left of and including the output
    pixel (padding k//2 columns on the left only).  The first layer closes the
    output pixel itself (mask type A, the "right-shift"); later layers keep it
    (type B).  For k = 5, first and later::

        first: 1 1 0     later: 1 1 1
    """
    if k % 2 == 0 or k < 1:
        raise ValueError(f"Gated PixelCNN kernels must have odd sizes, got {k}")
    m = np.ones((1, k // 2 + 1), np.float32)
    if first:
        m[0, -1] = 0.0
    return jnp.asarray(m)
