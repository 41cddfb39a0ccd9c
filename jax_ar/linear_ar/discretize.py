"""Discretising a continuous (mixture of) Gaussian prediction into amplitude bins.

For a class q whose bin covers amplitudes [edges[q], edges[q+1]) the
probability is the Gaussian mass of that interval; the first and last bins
take the tails (-inf, edges[1]) and [edges[-2], inf), so the ``len(edges)-1``
class probabilities sum to exactly 1.  With the mu-law edges of
:func:`jax_ar.audio.mu_law_bin_edges` this turns an AR(p) or mixture-density
prediction of the next amplitude into a distribution over the 256 mu-law
classes - the quantity WaveNet models - so bits per sample are comparable.

Interval masses are computed as log(Phi(b) - Phi(a)) with ``log_ndtr`` on the
side of the mean where both tails are small, so they stay accurate (no
cancellation) even many standard deviations away.  Use float64 for tiny bins.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import log_ndtr


def log_interval_mass(a, b):
    """log(Phi(b) - Phi(a)) for a < b (standardised bounds), stable everywhere."""
    flip = a > 0.0  # both on the right: use Phi(-a) - Phi(-b)
    lo = jnp.where(flip, -b, a)
    hi = jnp.where(flip, -a, b)
    lhi, llo = log_ndtr(hi), log_ndtr(lo)
    return lhi + jnp.log1p(-jnp.exp(jnp.minimum(llo - lhi, 0.0)) + 1e-300)


def gaussian_binned_log_prob(mean, log_scale, q, edges):
    """log P(class q) under N(mean, exp(log_scale)^2); q int array, edges [C+1].

    mean, log_scale, q broadcast together.
    """
    edges = jnp.asarray(edges, jnp.result_type(mean, float))
    C = edges.shape[0] - 1
    q = jnp.asarray(q, jnp.int32)
    inv = jnp.exp(-log_scale)
    lo = jnp.where(q == 0, -jnp.inf, (edges[q] - mean) * inv)
    hi = jnp.where(q == C - 1, jnp.inf, (edges[jnp.minimum(q + 1, C)] - mean) * inv)
    return log_interval_mass(lo, hi)


def mixture_binned_log_prob(logit_w, mean, log_scale, q, edges):
    """The same for a Gaussian mixture with components on the trailing axis."""
    lp = gaussian_binned_log_prob(mean, log_scale, q[..., None], edges)
    return jax.nn.logsumexp(jax.nn.log_softmax(logit_w, axis=-1) + lp, axis=-1)
