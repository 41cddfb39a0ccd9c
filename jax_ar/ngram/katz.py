"""Katz back-off with Good-Turing discounts (Katz 1987; Chen & Goodman 1998, sec. 2.4).

For a k-gram seen r times, p*(w|h) = d_r r / c(h) with the Good-Turing ratio
d_r = ((r+1) n_{r+1} / (r n_r) - A) / (1 - A),  A = (K+1) n_{K+1} / n_1,
for r <= K (default 5) and d_r = 1 above; n_r are the counts-of-counts of
that order.  The mass freed in each context goes to the unseen words in
proportion to the next lower order: bow(h) = (1 - sum_seen p*) /
(1 - sum_seen p_lower).  Unigrams are discounted the same way and the freed
mass is spread uniformly over the vocabulary.  When the Good-Turing ratios
are not in (0, 1] (sparse counts-of-counts) the discount falls back to the
absolute discount D = n1 / (n1 + 2 n2): d_r = (r - D) / r.

One departure from the textbook: a context all of whose words were seen
more than K times would keep no mass for unseen words (probability 0, so
infinite held-out perplexity); in such contexts every count is discounted
by that absolute D instead (``info["saturated_contexts"]`` counts them).
"""
from __future__ import annotations

import numpy as np

from jax_ar import errors
from jax_ar.ngram import counting
from jax_ar.ngram.counting import NGramCounts
from jax_ar.ngram.lm import NGramLM


def good_turing_ratios(counts: np.ndarray, K: int = 5) -> tuple[np.ndarray, bool]:
    """d[r] for r = 0..K+1 (d[r] = 1 for r > K), and whether the GT formula was usable."""
    cc = counts[counts > 0].astype(np.int64)
    n_r = np.bincount(cc, minlength=K + 2)[: K + 2].astype(np.float64)
    d = np.ones(K + 2)
    r = np.arange(1, K + 1)
    ok = n_r[1] > 0 and np.all(n_r[1:K + 2] > 0)
    if ok:
        A = (K + 1) * n_r[K + 1] / n_r[1]
        d[1:K + 1] = ((r + 1) * n_r[2:K + 2] / (r * n_r[1:K + 1]) - A) / (1.0 - A)
        ok = bool(np.all((d[1:K + 1] > 0) & (d[1:K + 1] <= 1)))
    if not ok:
        D = n_r[1] / (n_r[1] + 2 * n_r[2]) if n_r[1] > 0 else 0.5
        D = D if 0 < D < 1 else 0.5
        d[1:K + 1] = (r - D) / r
    return d, ok


def _ratio(d, counts):
    return np.where(counts < len(d), d[np.minimum(counts, len(d) - 1)], 1.0)


def katz(c: NGramCounts, K: int = 5) -> NGramLM:
    K = errors.check_integer(K, "Katz Good-Turing cutoff K")
    V = c.vocab_size
    info = {"K": K, "gt_ok": []}
    c1 = c.counts[1].astype(np.float64)
    d, ok = good_turing_ratios(c.counts[1], K)
    info["gt_ok"].append(ok)
    p1 = _ratio(d, c.counts[1]) * c1 / c1.sum()
    p1 = p1 + (1.0 - p1[:V].sum()) / V
    p1[c.bos] = 0.0
    with np.errstate(divide="ignore"):
        logp = [None, np.log(p1)]
    log_bow = [None, None]
    for k in range(2, c.order + 1):
        ck = c.counts[k]
        prefix = c.prefix(k)
        tot = counting.context_totals(c, k)
        d, ok = good_turing_ratios(ck, K)
        info["gt_ok"].append(ok)
        seen = ck > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            pstar = np.where(seen, _ratio(d, ck) * ck / tot[prefix], 0.0)
        lower = np.where(seen, np.exp(logp[k - 1][c.suffix[k]]), 0.0)
        M = c.size(k - 1)
        num = 1.0 - np.bincount(prefix, pstar, minlength=M)
        sat = (tot > 0) & (num <= 1e-12)
        if sat.any():
            n1, n2 = np.sum(ck == 1), np.sum(ck == 2)
            D = n1 / (n1 + 2 * n2) if n1 > 0 else 0.5
            with np.errstate(invalid="ignore", divide="ignore"):
                pstar = np.where(sat[prefix] & seen, (ck - D) / tot[prefix], pstar)
            num = 1.0 - np.bincount(prefix, pstar, minlength=M)
        info.setdefault("saturated_contexts", []).append(int(sat.sum()))
        den = 1.0 - np.bincount(prefix, lower, minlength=M)
        stuck = (tot > 0) & ((den <= 1e-12) | (num <= 1e-15))
        # every word already seen in context h (or nothing left to give): renormalise p* in h
        if stuck.any():
            s = np.bincount(prefix, pstar, minlength=M)
            pstar = np.where(stuck[prefix], pstar / np.where(s[prefix] > 0, s[prefix], 1.0), pstar)
        with np.errstate(divide="ignore", invalid="ignore"):
            logp.append(np.where(seen, np.log(pstar), -np.inf))
            bow = np.where(stuck, 0.0, num / np.where(den > 0, den, 1.0))
            log_bow.append(np.where(tot > 0, np.log(np.maximum(bow, 0.0)), 0.0))
    return NGramLM(c, "katz", logp, log_bow, info)
