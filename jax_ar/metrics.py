"""Likelihood metrics and the conversions between them.

All log-likelihoods inside jax_ar are natural-log (nats).  For a sequence of
D elements with total negative log-likelihood ``nll`` nats:

* nats per element      = nll / D
* bits per dim / token  = nll / (D ln 2)
* perplexity            = exp(nll / D) = 2 ** bits_per_dim
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

LN2 = math.log(2.0)


def nll(log_probs) -> float:
    """Mean negative log-likelihood (nats per example) from per-example log-probs."""
    return float(-np.mean(np.asarray(log_probs, np.float64)))


def nats_to_bits(nats):
    return nats / LN2


def bits_to_nats(bits):
    return bits * LN2


def bits_per_dim(nll_nats_per_example, dims: int):
    """Bits per dimension (or per token) from nats per example over ``dims`` elements."""
    return nll_nats_per_example / (dims * LN2)


def perplexity(nll_nats_per_token):
    """Perplexity from nats per token; ``inf`` for infinite NLL (unseen events under MLE)."""
    with np.errstate(over="ignore"):
        return float(np.exp(np.float64(nll_nats_per_token)))


def perplexity_from_bits(bits_per_token):
    return float(2.0 ** np.float64(bits_per_token))


def cross_entropy(p, log_q, axis=-1):
    """H(p, q) = -sum p log q in nats; ``p`` probabilities, ``log_q`` log-probabilities.

    Terms with p = 0 contribute 0 even where log q = -inf.
    """
    p = jnp.asarray(p)
    return -jnp.sum(jnp.where(p > 0, p * log_q, 0.0), axis=axis)


def entropy(p, axis=-1):
    p = jnp.asarray(p)
    return -jnp.sum(jnp.where(p > 0, p * jnp.log(jnp.where(p > 0, p, 1.0)), 0.0), axis=axis)


def kl_divergence(p, log_q, axis=-1):
    """KL(p || q) = H(p, q) - H(p), in nats."""
    return cross_entropy(p, log_q, axis) - entropy(p, axis)


def kl_from_logits(logits_p, logits_q, axis=-1):
    lp = jax.nn.log_softmax(logits_p, axis=axis)
    lq = jax.nn.log_softmax(logits_q, axis=axis)
    return jnp.sum(jnp.exp(lp) * (lp - lq), axis=axis)


def summary(log_probs, dims: int) -> dict:
    """Standard figures from per-example log-likelihoods of sequences of ``dims`` elements."""
    n = nll(log_probs)
    per = n / dims
    return {"nll_nats": n, "nats_per_dim": per, "bits_per_dim": per / LN2,
            "perplexity": perplexity(per)}
