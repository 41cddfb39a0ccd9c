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

from jax_ar import errors

LN2 = math.log(2.0)
SUM_TOL = 1e-4      # a distribution's probabilities must sum to 1 within this (float32 rounding) ...
SUM_TOL_16 = 1e-2   # ... or this for 16-bit floats (bfloat16 / float16 softmax outputs)


def _concrete(*xs) -> bool:
    return not any(errors.is_traced(x) for x in xs)


def _check_dims(dims) -> None:
    ok = not isinstance(dims, bool) and isinstance(dims, (int, float, np.integer, np.floating)) \
        and float(dims).is_integer() and dims >= 1
    if not ok:
        raise errors.ConfigError(f"dims must be an integer >= 1 (elements per example), got {dims!r}")


def _check_axis(p, axis, name="p") -> None:
    """``axis`` (an int or a tuple of ints) names existing axes of ``p`` (shapes are static: also under jit)."""
    ndim = np.ndim(p)
    if ndim == 0:
        raise errors.ShapeError(f"{name} must be an array of probabilities with at least one axis (the "
                                f"distribution's axis), got a scalar")
    axes = axis if isinstance(axis, tuple) else (axis,)
    if (not axes or not all(errors.is_integer(a) and -ndim <= a < ndim for a in axes)
            or len({int(a) % ndim for a in axes}) != len(axes)):
        raise errors.ConfigError(f"axis must be an integer (or a tuple of distinct integers) in [{-ndim}, {ndim - 1}] "
                                 f"for {name} of shape {np.shape(p)}, got {axis!r}")


def _sum_tol(x) -> float:
    dt = getattr(x, "dtype", None)
    bits = jnp.finfo(dt).bits if dt is not None and jnp.issubdtype(dt, jnp.floating) else 64
    return SUM_TOL if bits >= 32 else SUM_TOL_16


def _check_distribution(p, axis, name="p") -> None:
    """``axis`` valid for ``p``; concrete ``p``: finite, >= 0, summing to 1 along ``axis``."""
    _check_axis(p, axis, name)
    if not _concrete(p):
        return
    tol = _sum_tol(p)
    a = np.asarray(p, np.float64)
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise errors.ValueRangeError(f"{name} must hold finite probabilities >= 0")
    total = a.sum(axis=axis)
    if np.any(np.abs(total - 1.0) > tol):
        worst = float(total.flat[np.argmax(np.abs(total - 1.0))])
        raise errors.ValueRangeError(f"{name} must sum to 1 along axis {axis} (a distribution), but one sums "
                                     f"to {worst:.6g}")


def _check_broadcast(a, b, name_a, name_b) -> None:
    """``b`` may broadcast against ``a`` only without enlarging ``a`` (else the sum over the event axis
    would silently run over the wrong one)."""
    try:
        ok = np.broadcast_shapes(np.shape(a), np.shape(b)) == np.shape(a)
    except ValueError:
        ok = False
    if not ok:
        raise errors.ShapeError(f"{name_a} has shape {np.shape(a)} but {name_b} has shape {np.shape(b)}; "
                                f"{name_b} must have the shape of {name_a} or broadcast to it")


def _check_log_probs(p, log_q, axis=-1, name="log_q") -> None:
    """Concrete ``log_q``: broadcasts to the shape of ``p`` (not beyond it), no NaN, log-probabilities (<= 0)
    of a distribution: ``logsumexp(log_q, axis)`` is 0 within the tolerance of ``p``'s sums."""
    if not _concrete(p, log_q):
        return
    _check_broadcast(p, log_q, "p", name)
    b = np.asarray(log_q, np.float64)
    if np.any(np.isnan(b)) or np.any(b > 1e-6):
        raise errors.ValueRangeError(f"{name} must hold log-probabilities (<= 0, no NaN); pass log(q), not q")
    with np.errstate(under="ignore"):
        total = np.exp(np.broadcast_to(b, np.shape(p))).sum(axis=axis)
    if np.any(np.abs(total - 1.0) > _sum_tol(log_q)):
        worst = float(total.flat[np.argmax(np.abs(total - 1.0))])
        raise errors.ValueRangeError(f"{name} must hold normalised log-probabilities along axis {axis} "
                                     f"(logsumexp 0), but exp({name}) sums to {worst:.6g} in one place; pass "
                                     f"log-probabilities, e.g. jax.nn.log_softmax(logits, axis={axis})")


def nll(log_probs) -> float:
    """Mean negative log-likelihood (nats per example) from per-example log-probs."""
    a = np.asarray(log_probs, np.float64)
    if a.size == 0:
        raise errors.ShapeError("no log-probabilities to average (empty input)")
    if np.any(np.isnan(a)):
        raise errors.ValueRangeError(f"log-probabilities hold {int(np.isnan(a).sum())} NaN value(s)")
    return float(-np.mean(a))


def nats_to_bits(nats):
    return nats / LN2


def bits_to_nats(bits):
    return bits * LN2


def bits_per_dim(nll_nats_per_example, dims: int):
    """Bits per dimension (or per token) from nats per example over ``dims`` elements."""
    _check_dims(dims)
    return nll_nats_per_example / (dims * LN2)


def _scalar(value, name: str, what: str) -> np.float64:
    """One real number (Python, NumPy or 0-d array) as float64, or a clear error."""
    if isinstance(value, (str, bytes, bool)) or value is None:
        raise errors.ConfigError(f"{name} takes one number ({what}), got {value!r}")
    try:
        a = np.asarray(value)
    except Exception:
        a = None
    if a is None or not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise errors.ConfigError(f"{name} takes one number ({what}), got {type(value).__name__}")
    if a.ndim != 0:
        raise errors.ShapeError(f"{name} takes one number ({what}), got an array of shape {a.shape}; "
                                f"average first (e.g. metrics.nll), or apply it to each value")
    return np.float64(a)


def perplexity(nll_nats_per_token):
    """Perplexity from nats per token; ``inf`` for infinite NLL (unseen events under MLE)."""
    v = _scalar(nll_nats_per_token, "perplexity", "the NLL in nats per token")
    with np.errstate(over="ignore"):
        return float(np.exp(v))


def perplexity_from_bits(bits_per_token):
    v = _scalar(bits_per_token, "perplexity_from_bits", "bits per token")
    with np.errstate(over="ignore"):
        return float(2.0 ** v)


def cross_entropy(p, log_q, axis=-1):
    """H(p, q) = -sum p log q in nats; ``p`` probabilities, ``log_q`` log-probabilities.

    Terms with p = 0 contribute 0 even where log q = -inf.  Concrete inputs are
    checked: ``p`` a distribution along ``axis``, ``log_q`` of the same shape.
    """
    _check_distribution(p, axis)
    _check_log_probs(p, log_q, axis)
    p = jnp.asarray(p)
    return -jnp.sum(jnp.where(p > 0, p * log_q, 0.0), axis=axis)


def entropy(p, axis=-1):
    _check_distribution(p, axis)
    p = jnp.asarray(p)
    return -jnp.sum(jnp.where(p > 0, p * jnp.log(jnp.where(p > 0, p, 1.0)), 0.0), axis=axis)


def kl_divergence(p, log_q, axis=-1):
    """KL(p || q) = H(p, q) - H(p), in nats."""
    return cross_entropy(p, log_q, axis) - entropy(p, axis)


def kl_from_logits(logits_p, logits_q, axis=-1):
    """KL(softmax(logits_p) || softmax(logits_q)); tokens p excludes (logit -inf) contribute 0."""
    if _concrete(logits_p, logits_q):
        _check_broadcast(logits_p, logits_q, "logits_p", "logits_q")
    lp = jax.nn.log_softmax(logits_p, axis=axis)
    lq = jax.nn.log_softmax(logits_q, axis=axis)
    m = lp > -jnp.inf                     # masked inside too, so gradients stay finite
    return jnp.sum(jnp.exp(lp) * jnp.where(m, lp - jnp.where(m, lq, 0.0), 0.0), axis=axis)


def summary(log_probs, dims: int) -> dict:
    """Standard figures from per-example log-likelihoods of sequences of ``dims`` elements."""
    _check_dims(dims)
    n = nll(log_probs)
    per = n / dims
    return {"nll_nats": n, "nats_per_dim": per, "bits_per_dim": per / LN2,
            "perplexity": perplexity(per)}
