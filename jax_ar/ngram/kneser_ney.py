"""Interpolated Kneser-Ney and modified Kneser-Ney (Chen & Goodman 1998; KenLM ``lmplz``).

Adjusted counts a(g): the raw count at the highest order and for n-grams that
start with the start symbol in "single" padding (they cannot be extended to
the left); otherwise the continuation count N1+(. g), the number of distinct
symbols seen before g.  At every order k, with the discount D(a) of the
count's class:

    p_k(w | h) = (a(h w) - D(a(h w))) / sum_w' a(h w')  +  gamma(h) p_{k-1}(w | h[1:]),
    gamma(h)   = sum_w D(a(h w)) / sum_w' a(h w'),

(an unseen context has gamma = 1) and order 1 interpolates with the uniform
distribution over the V tokens, so every token has non-zero probability.

Discounts from the counts-of-counts t_r of the adjusted counts of each order
(as lmplz): Y = t1 / (t1 + 2 t2); interpolated KN uses D = Y for every
count; modified KN uses D1 = 1 - 2Y t2/t1, D2 = 2 - 3Y t3/t2, D3+ = 3 - 4Y t4/t3.
Out-of-range estimates fall back to lmplz's --discount_fallback (0.5, 1, 1.5).

``discount=d`` fixes D = d at every order >= 2 and ``interpolate_unigram=False``
leaves order 1 undiscounted (a(w) / sum a): together these reproduce NLTK's
``KneserNeyInterpolated(order, discount=d)``.
"""
from __future__ import annotations

import numpy as np

from jax_ar import errors
from jax_ar.ngram.basic import _as_float
from jax_ar.ngram.counting import NGramCounts
from jax_ar.ngram.lm import NGramLM

FALLBACK = (0.5, 1.0, 1.5)


def adjusted_counts(c: NGramCounts, k: int) -> np.ndarray:
    if k == c.order:
        return c.counts[k].astype(np.int64)
    up = c.counts[k + 1] > 0
    cont = np.bincount(c.suffix[k + 1][up], minlength=c.size(k))
    if c.bos_pad == "single":
        cont = np.where(c.first[k] == c.bos, c.counts[k], cont)
    if k == 1:
        cont[c.bos] = 0
    return cont.astype(np.int64)


def estimate_discounts(a: np.ndarray, modified: bool) -> tuple[tuple, bool]:
    """(D1, D2, D3+) from the counts-of-counts of adjusted counts; flag False = fallback used."""
    t = np.bincount(a[a > 0], minlength=5)[1:5].astype(np.float64)
    if t[0] <= 0 or t[1] <= 0:
        return FALLBACK if modified else (FALLBACK[0],) * 3, False
    Y = t[0] / (t[0] + 2 * t[1])
    if not modified:
        return (Y, Y, Y), True
    if t[2] <= 0 or t[3] <= 0:
        return FALLBACK, False
    D = (1 - 2 * Y * t[1] / t[0], 2 - 3 * Y * t[2] / t[1], 3 - 4 * Y * t[3] / t[2])
    if not all(0 < d < i + 1 for i, d in enumerate(D)):
        return FALLBACK, False
    return tuple(float(d) for d in D), True


def _discount_of(a: np.ndarray, D) -> np.ndarray:
    D = np.asarray(D, np.float64)
    return np.where(a > 0, D[np.clip(a, 1, 3) - 1], 0.0)


def kneser_ney(c: NGramCounts, modified: bool = True, discount: float | None = None,
               interpolate_unigram: bool = True) -> NGramLM:
    if discount is not None and _as_float(discount) is None:
        raise errors.ConfigError(f"a fixed Kneser-Ney discount must be a number in [0, 1) or None, "
                                 f"got {discount!r}")
    if discount is not None and not (0 <= float(discount) < 1):
        raise errors.ConfigError(f"a fixed Kneser-Ney discount must be in [0, 1), got {discount!r}")
    V, n = c.vocab_size, c.order
    info = {"modified": modified, "discounts": [], "estimated": []}

    def discounts_for(k, a):
        if discount is not None:
            d = float(discount) if (k > 1 or interpolate_unigram) else 0.0
            return (d, d, d), True
        if k == 1 and not interpolate_unigram:
            return (0.0, 0.0, 0.0), True
        return estimate_discounts(a, modified)

    a1 = adjusted_counts(c, 1)[:V].astype(np.float64)
    D, ok = discounts_for(1, a1.astype(np.int64))
    info["discounts"].append(D)
    info["estimated"].append(ok)
    Da = _discount_of(a1.astype(np.int64), D)
    p1 = (a1 - Da) / a1.sum() + Da.sum() / a1.sum() / V
    with np.errstate(divide="ignore"):
        logp = [None, np.log(np.append(p1, 0.0))]
    log_bow = [None, None]
    for k in range(2, n + 1):
        a = adjusted_counts(c, k)
        D, ok = discounts_for(k, a)
        info["discounts"].append(D)
        info["estimated"].append(ok)
        prefix = c.prefix(k)
        M = c.size(k - 1)
        den = np.bincount(prefix, a.astype(np.float64), minlength=M)
        Da = _discount_of(a, D)
        gam = np.bincount(prefix, Da, minlength=M) / np.where(den > 0, den, 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            p = (a - Da) / den[prefix] + gam[prefix] * np.exp(logp[k - 1][c.suffix[k]])
            logp.append(np.where(a > 0, np.log(p), -np.inf))
            log_bow.append(np.where(den > 0, np.log(gam), 0.0))
    return NGramLM(c, "modified_kneser_ney" if modified else "kneser_ney", logp, log_bow, info)
