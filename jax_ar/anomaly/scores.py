"""Anomaly scores from exact log-likelihoods (higher score = more anomalous).

* ``nll``: -log p(x) under the trained model.  Fails when anomalies are *simpler*
  than the data (fewer on pixels): such inputs can get a higher likelihood than
  real digits, so the raw score ranks them as more normal (AUROC < 0.5).
* ``likelihood_ratio``: -[log p_model(x) - log p_background(x)], the background
  being a simpler model that captures only low-level statistics (here the
  independent-Bernoulli pixel model).  Both models pay the "how many pixels are
  on" cost, so the ratio keeps only what the AR model explains beyond it
  (Ren et al. 2019; Schirrmeister et al. 2020).
* ``typicality``: |nll(x) - H|, H the model's mean NLL on held-out normal data.
  Typical samples of a high-dimensional distribution have NLL near its entropy;
  both too-likely and too-unlikely inputs are flagged (Nalisnick et al. 2019,
  one-example version).
* ``complexity``: nll(x) - L(x), L the length of x under a generic lossless
  compressor (zlib on the bit-packed image), in nats: the compressor plays the
  background model with no training at all (Serra et al. 2020, "input
  complexity").
"""
from __future__ import annotations

import zlib

import numpy as np

from jax_ar import evaluate
from jax_ar.errors import ConfigError

SCORES = ("nll", "likelihood_ratio", "typicality", "complexity")


def nll(model, params, x_NxD, *, batch_size: int = 500) -> np.ndarray:
    """-log p(x) in nats per example, shape [N]."""
    return -evaluate.log_prob_batched(model, params, x_NxD, batch_size=batch_size)


def likelihood_ratio(nll_model_N, nll_background_N) -> np.ndarray:
    """-log p_model(x) + log p_background(x): high when the model explains x no better than the background."""
    return np.asarray(nll_model_N, np.float64) - np.asarray(nll_background_N, np.float64)


def typicality(nll_N, reference_nll_M) -> np.ndarray:
    """|nll(x) - mean reference nll|, the reference being held-out normal data."""
    ref = np.asarray(reference_nll_M, np.float64)
    if ref.size == 0:
        raise ConfigError("typicality needs a non-empty reference set of normal examples")
    return np.abs(np.asarray(nll_N, np.float64) - ref.mean())


def compressed_nats(x_NxD) -> np.ndarray:
    """Length in nats of each binary image under zlib (level 9) applied to its packed bits."""
    x = np.asarray(x_NxD).astype(np.uint8)
    return np.array([8 * np.log(2) * len(zlib.compress(np.packbits(row).tobytes(), 9)) for row in x])


def all_scores(nll_model_N, nll_background_N, reference_nll_M, x_NxD=None) -> dict:
    """The scores of the same examples, keyed by name (:data:`SCORES`; complexity needs ``x_NxD``)."""
    out = {"nll": np.asarray(nll_model_N, np.float64),
           "likelihood_ratio": likelihood_ratio(nll_model_N, nll_background_N),
           "typicality": typicality(nll_model_N, reference_nll_M)}
    if x_NxD is not None:
        out["complexity"] = out["nll"] - compressed_nats(x_NxD)
    return out
