"""Mu-law companding (ITU-T G.711 / WaveNet) and the bins it induces on [-1, 1].

    y = sign(x) * ln(1 + mu |x|) / ln(1 + mu),      mu = channels - 1
    q = floor((y + 1) / 2 * mu + 0.5)                in {0, ..., mu}

``mu_law_decode`` maps a class back to the amplitude of its bin centre.  The
bin of class q covers y in [(q - 1/2) 2/mu - 1, (q + 1/2) 2/mu - 1), clipped
to [-1, 1]; :func:`mu_law_bin_edges` returns those edges in the *linear*
amplitude domain, so a continuous density over amplitudes can be turned into
a distribution over the ``channels`` mu-law classes (see
:func:`jax_ar.linear_ar.discretize.gaussian_binned_log_prob`).

Works on numpy and jax arrays alike (jnp inside, so it is jit/vmap friendly).
Concrete inputs are checked: NaN/Inf or amplitudes outside [-1, 1] raise
:class:`jax_ar.errors.ValueRangeError`; class ids outside [0, channels) too.
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from jax_ar import errors


def _check_channels(channels: int) -> None:
    if int(channels) != channels or channels < 2:
        raise errors.ConfigError(f"mu-law channels must be an integer >= 2, got {channels!r}")


def mu_law_compress(x, channels: int = 256):
    """Continuous companding of amplitudes in [-1, 1] to y in [-1, 1] (no quantisation)."""
    _check_channels(channels)
    mu = float(channels - 1)
    x = jnp.asarray(x, jnp.float32)
    return jnp.sign(x) * jnp.log1p(mu * jnp.abs(x)) / jnp.log1p(mu)


def mu_law_expand(y, channels: int = 256):
    """Inverse of :func:`mu_law_compress`."""
    _check_channels(channels)
    mu = float(channels - 1)
    y = jnp.asarray(y, jnp.float32)
    return jnp.sign(y) * jnp.expm1(jnp.abs(y) * jnp.log1p(mu)) / mu


def mu_law_encode(x, channels: int = 256):
    """Amplitudes in [-1, 1] -> int32 classes in [0, channels)."""
    _check_channels(channels)
    if not errors.is_traced(x):
        a = np.asarray(x)
        errors.check_finite(a, "audio")
        if a.size and np.abs(a).max() > 1.0:
            raise errors.ValueRangeError(
                f"audio amplitudes must lie in [-1, 1] for mu-law encoding; got max |x| = {np.abs(a).max():.4g}")
    mu = float(channels - 1)
    y = mu_law_compress(jnp.clip(jnp.asarray(x, jnp.float32), -1.0, 1.0), channels)
    return jnp.clip(jnp.floor((y + 1.0) / 2.0 * mu + 0.5), 0, mu).astype(jnp.int32)


def mu_law_decode(q, channels: int = 256):
    """int classes in [0, channels) -> float32 amplitude of the bin centre."""
    _check_channels(channels)
    if not errors.is_traced(q):
        a = np.asarray(q)
        if a.size and (a.min() < 0 or a.max() >= channels):
            raise errors.ValueRangeError(f"mu-law class ids must lie in [0, {channels - 1}], "
                                         f"got range [{a.min()}, {a.max()}]")
    mu = float(channels - 1)
    y = 2.0 * jnp.asarray(q, jnp.float32) / mu - 1.0
    return mu_law_expand(y, channels)


def mu_law_bin_edges(channels: int = 256) -> np.ndarray:
    """float64 [channels + 1] amplitude edges; class q covers [edges[q], edges[q+1]).

    edges[0] = -1 and edges[-1] = 1.  When a density on the real line is
    discretised, the two outer bins take the tails (x < edges[1], x >= edges[-2]).
    """
    _check_channels(channels)
    mu = channels - 1
    y = np.clip((np.arange(channels + 1) - 0.5) * 2.0 / mu - 1.0, -1.0, 1.0)
    return np.sign(y) * np.expm1(np.abs(y) * np.log1p(mu)) / mu
