"""Maximum likelihood and add-k (Lidstone / Laplace) n-gram estimates, in back-off form.

MLE: p(w|h) = c(h w) / c(h).  A seen context gives zero probability to unseen
words (so a held-out stream may have infinite perplexity, reported as inf);
a context never seen in training falls back to the next shorter context, so
every context still has a normalised distribution.

add-k: p(w|h) = (c(h w) + k) / (c(h) + k V) for the longest history only
(NLTK's ``Lidstone``/``Laplace``): the top order, or with one start symbol per
sequence (``bos_pad="single"``) the shorter history ``<s> w1 .. w_{i-1}`` of a
sequence's first tokens; an unseen context gives the uniform 1/V.
"""
from __future__ import annotations

import numpy as np

from jax_ar import errors
from jax_ar.ngram import counting
from jax_ar.ngram.counting import NGramCounts
from jax_ar.ngram.lm import NGramLM


def _as_float(value) -> float | None:
    """``value`` as a float, or None for what is not a real number (str, bool, None, ...)."""
    if isinstance(value, (bool, str, bytes)):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _log(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(x)


def _unigram(c: NGramCounts, num, den) -> np.ndarray:
    lp = _log(np.asarray(num, np.float64) / den)
    lp = np.broadcast_to(lp, (c.num_symbols,)).copy()
    lp[c.bos] = -np.inf
    return lp


def mle(c: NGramCounts) -> NGramLM:
    logp = [None, _unigram(c, c.counts[1], c.counts[1].sum())]
    log_bow = [None, None]
    for k in range(2, c.order + 1):
        tot = counting.context_totals(c, k)
        ck = c.counts[k].astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            logp.append(np.where(ck > 0, _log(ck) - _log(tot[c.prefix(k)]), -np.inf))
        log_bow.append(np.where(tot > 0, -np.inf, 0.0))
    return NGramLM(c, "mle", logp, log_bow)


def add_k(c: NGramCounts, k: float = 1.0) -> NGramLM:
    """Lidstone smoothing with pseudo-count ``k`` (k = 1: Laplace)."""
    kk = _as_float(k)
    if kk is None:
        raise errors.ConfigError(f"add-k pseudo-count k must be a number > 0, got {k!r}")
    if not np.isfinite(kk) or kk <= 0:
        raise errors.ConfigError(f"add-k pseudo-count k must be > 0, got {k!r}")
    V, n = c.vocab_size, c.order
    if n == 1:
        logp = [None, _unigram(c, c.counts[1] + kk, c.counts[1].sum() + kk * V)]
        return NGramLM(c, "add_k", logp, [None, None], {"k": kk})
    logp = [None, _unigram(c, 1.0, V)]
    log_bow = [None, None]
    for j in range(2, n + 1):
        tot = counting.context_totals(c, j)
        lp = _log((c.counts[j] + kk) / (tot[c.prefix(j)] + kk * V))
        lb = np.where(tot > 0, _log(kk * V / (tot + kk * V)), 0.0)
        if j < n:
            # Intermediate orders pass through to the uniform distribution, except,
            # with one start symbol per sequence, the contexts that begin at <s>:
            # there the longest history is shorter than n - 1 and this is its top order.
            start = c.first[j] == c.bos if c.bos_pad == "single" else np.zeros(c.size(j), bool)
            ctx_start = ((np.arange(c.size(1)) == c.bos) if j == 2 else c.first[j - 1] == c.bos) \
                if c.bos_pad == "single" else np.zeros(c.size(j - 1), bool)
            lp = np.where(start, lp, -np.log(V))
            lb = np.where(ctx_start, lb, 0.0)
        logp.append(lp)
        log_bow.append(lb)
    return NGramLM(c, "add_k", logp, log_bow, {"k": kk})
