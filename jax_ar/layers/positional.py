"""Positional encodings for attention models.

``sinusoidal_encoding`` follows Bishop & Bishop (2024), *Deep Learning:
Foundations and Concepts*, section 12.1.9, eq. (12.25)::

    r_ni = sin(n / L^(i/D))        if i is even
    r_ni = cos(n / L^((i-1)/D))    if i is odd

with L = 10000, dimensions i = 0 .. D-1 and token positions n = 1 .. N (the
book numbers the tokens x_1 .. x_N).  ``first_position`` shifts n if you want
0-based positions; the transformer in :mod:`jax_ar.models.transformer` uses
the book's n = 1 .. N.
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from jax_ar import errors


def sinusoidal_encoding(num_positions: int, dim: int, *, L: float = 10000.0,
                        first_position: int = 1) -> jnp.ndarray:
    """The N x D matrix ``r_NxD`` of Bishop (2024) eq. (12.25), float32."""
    if num_positions < 1 or dim < 1:
        raise errors.ConfigError(f"need num_positions >= 1 and dim >= 1, got {num_positions}, {dim}")
    n_N1 = np.arange(first_position, first_position + num_positions, dtype=np.float64)[:, None]
    i_D = np.arange(dim)
    even_exponent_D = (i_D - (i_D % 2)) / dim           # i/D for even i, (i-1)/D for odd i
    angle_NxD = n_N1 / np.power(L, even_exponent_D)[None, :]
    r_NxD = np.where(i_D % 2 == 0, np.sin(angle_NxD), np.cos(angle_NxD))
    return jnp.asarray(r_NxD, jnp.float32)
