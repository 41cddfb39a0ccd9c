"""Baselines for the likelihood of audio as mu-law classes, in bits per sample.

All three score the same events as WaveNet: the mu-law class of every sample
of every clip.

* uniform over ``channels`` classes: log2(channels) bits (8 for 256);
* an n-gram over mu-law codes (:mod:`jax_ar.ngram`, one start symbol per clip);
* a linear AR(p) predictor of the *amplitude* (:mod:`jax_ar.linear_ar`),
  pooled over the training clips, whose Gaussian prediction is integrated
  over each mu-law bin (:func:`jax_ar.linear_ar.discretize.gaussian_binned_log_prob`),
  so it too is a distribution over the 256 classes.  The first p samples of a
  clip are conditioned on zeros (``pad=True``).
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from jax_ar import errors
from jax_ar.audio import mu_law_bin_edges, mu_law_encode
from jax_ar.linear_ar.fit import fit_pooled
from jax_ar.linear_ar.discretize import gaussian_binned_log_prob

LN2 = math.log(2.0)


def uniform_bits(channels: int = 256) -> float:
    return math.log2(channels)


def ngram_bits(train_codes, test_codes, *, order: int = 3, method: str = "modified_kneser_ney",
               channels: int = 256) -> float:
    from jax_ar import ngram
    lm = ngram.fit(list(train_codes), channels, order, method)
    return float(ngram.bits_per_token(lm, list(test_codes)))


def ar_predictions(fit, clip) -> np.ndarray:
    """One-step predictive means ``c + sum_k phi_k x_{t-k}`` (zeros before the clip), float64 [T]."""
    x = np.asarray(clip, np.float64)
    phi = np.asarray(fit.phi, np.float64)
    p = phi.shape[0]
    padded = np.r_[np.zeros(p), x]
    # column k-1 holds x_{t-k}
    lags_TxP = np.lib.stride_tricks.sliding_window_view(padded[:-1], p)[:, ::-1]
    return float(fit.c) + lags_TxP @ phi


def ar_fit_pooled(train_clips, order: int):
    return fit_pooled([np.asarray(c, np.float64) for c in train_clips], order, pad=True)


def ar_bits(fit, test_clips, channels: int = 256) -> float:
    """Bits per sample of the mu-law classes of ``test_clips`` under the binned AR(p) Gaussian."""
    if len(test_clips) == 0:
        raise errors.DataFileError("no test clips to score")
    edges = mu_law_bin_edges(channels)
    log_scale = 0.5 * math.log(float(fit.sigma2))
    total, n = 0.0, 0
    with jax.enable_x64(True):
        for clip in test_clips:
            mean = ar_predictions(fit, clip)
            q = np.asarray(mu_law_encode(np.asarray(clip, np.float32), channels))
            lp = gaussian_binned_log_prob(jnp.asarray(mean), jnp.asarray(log_scale, jnp.float64),
                                          jnp.asarray(q), edges)
            total += float(jnp.sum(lp))
            n += len(q)
    return -total / n / LN2
