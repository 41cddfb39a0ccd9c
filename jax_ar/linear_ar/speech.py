"""AR(p) linear prediction as a baseline on audio: bits per mu-law sample.

The signal is the mu-law quantised audio (``channels`` classes, as WaveNet
models it).  One AR(p) is fitted to all training clips (pooled least
squares, zero history before each clip) in one of two domains:

* ``"linear"``: the amplitudes of the quantised samples (``mu_law_decode``),
  i.e. classic linear prediction of the waveform; class probabilities are
  the Gaussian's mass over the mu-law bins in amplitude
  (:func:`jax_ar.audio.mu_law_bin_edges`), which are non-uniform;
* ``"mulaw"``: the companded values y = 2q/mu - 1 (uniform bins of width 2/mu).

In both, the outer bins take the tails, so the ``channels`` probabilities of
every prediction sum to one and the figure is a proper discrete NLL,
comparable with a categorical WaveNet on the same split.
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from jax_ar import audio, errors
from jax_ar.linear_ar.discretize import gaussian_binned_log_prob
from jax_ar.linear_ar.fit import ARFit, fit_pooled

DOMAINS = ("linear", "mulaw")


def _check_domain(domain):
    if domain not in DOMAINS:
        raise errors.ConfigError(f"unknown domain {domain!r}; choose one of {DOMAINS}")


def signal(q, domain: str, channels: int = 256) -> np.ndarray:
    """float64 values of mu-law classes ``q`` in the chosen domain."""
    _check_domain(domain)
    q = np.asarray(q)
    if domain == "linear":
        return np.asarray(audio.mu_law_decode(q, channels), np.float64)
    return 2.0 * q.astype(np.float64) / (channels - 1) - 1.0


def bin_edges(domain: str, channels: int = 256) -> np.ndarray:
    _check_domain(domain)
    if domain == "linear":
        return audio.mu_law_bin_edges(channels)
    return np.clip((np.arange(channels + 1) - 0.5) * 2.0 / (channels - 1) - 1.0, -1.0, 1.0)


def signals(clips_q: list, domain: str, channels: int = 256) -> list:
    """:func:`signal` of many clips in one call (one array shape, so nothing recompiles per clip)."""
    sizes = np.cumsum([np.size(q) for q in clips_q])[:-1]
    return np.split(signal(np.concatenate([np.ravel(q) for q in clips_q]), domain, channels), sizes)


def encode_clips(clips: list, channels: int = 256) -> list:
    """mu-law classes of many float clips, encoded as one concatenated array."""
    sizes = np.cumsum([np.size(c) for c in clips])[:-1]
    return np.split(np.asarray(audio.mu_law_encode(np.concatenate(clips), channels)), sizes)


def fit_clips(clips_q: list, p: int, domain: str = "linear", channels: int = 256) -> ARFit:
    """One AR(p) for all clips (lists of mu-law classes), zero history before each clip."""
    return fit_pooled(signals(clips_q, domain, channels), p, pad=True)


def predicted_means(params: ARFit, x: np.ndarray) -> np.ndarray:
    """c + sum_k phi_k x_{t-k} for every t of one clip (zeros before its start), float64."""
    p = params.order
    xp = np.concatenate([np.zeros(p), x])
    lags = np.stack([xp[p - k:p - k + x.shape[0]] for k in range(1, p + 1)], axis=1)
    return float(params.c) + lags @ np.asarray(params.phi, np.float64)


@jax.jit
def _binned_lp(mean, log_scale, q, edges):
    return gaussian_binned_log_prob(mean, log_scale, q, edges)


def bits_per_sample(params: ARFit, clips_q: list, domain: str = "linear", channels: int = 256) -> dict:
    """Discrete NLL of mu-law classes under the discretised Gaussian AR(p).

    Returns ``{"bits_per_sample", "nats_per_sample", "num_samples"}``; every
    sample of every clip is scored (the first ones conditioned on zeros).
    """
    means, qs = [], []
    for q in clips_q:
        q = np.asarray(q)
        if q.ndim != 1 or q.size == 0:
            raise errors.ShapeError(f"each clip must be a non-empty 1-D array of classes, got shape {q.shape}")
    for q, x in zip(clips_q, signals(clips_q, domain, channels)):
        means.append(predicted_means(params, x))
        qs.append(np.asarray(q))
    mean = np.concatenate(means)
    q = np.concatenate(qs).astype(np.int32)
    with jax.enable_x64(True):
        lp = np.asarray(_binned_lp(jnp.asarray(mean), jnp.float64(0.5 * math.log(float(params.sigma2))),
                                   jnp.asarray(q), jnp.asarray(bin_edges(domain, channels))))
    nats = -float(lp.mean())
    return {"bits_per_sample": nats / math.log(2), "nats_per_sample": nats, "num_samples": int(q.size)}
