"""A fitted n-gram model in back-off form, and its vectorised scoring.

Every smoothing method is expressed in the ARPA back-off form

    p(w | h) = P_k(h w)                     if the k-gram (h w) was seen,
             = bow_k(h) * p(w | h[1:])      otherwise,

with ``P_k`` stored for every seen k-gram (for interpolated methods it is
the full interpolated probability) and ``bow_k(h)`` for every context
(1 where the context was never seen).  Order 1 is dense over the vocabulary,
so the recursion always ends.  Scoring a stream is one trie walk
(:func:`counting.lookup_ids`) and one ``np.where`` per order: no Python loop
per token.  All values are float64 natural logs.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from jax_ar import errors
from jax_ar.ngram import counting
from jax_ar.ngram.counting import NGramCounts

LN2 = math.log(2.0)


@dataclasses.dataclass(eq=False)
class NGramLM:
    """logp[k]: ln P_k of each k-gram of table k (k=1: dense over the S symbols, BOS = -inf);
    log_bow[k]: ln bow_k of each (k-1)-gram context (k >= 2), 0 where unseen."""
    counts: NGramCounts
    method: str
    logp: list
    log_bow: list
    info: dict = dataclasses.field(default_factory=dict)

    @property
    def order(self) -> int:
        return self.counts.order

    @property
    def vocab_size(self) -> int:
        return self.counts.vocab_size

    @property
    def bos(self) -> int:
        return self.counts.bos

    @property
    def bos_pad(self) -> str:
        return self.counts.bos_pad

    def pad_stream(self, tokens, name="tokens"):
        seqs = counting.as_sequences(tokens, self.vocab_size, name)
        return counting.pad_stream(seqs, self.bos, counting.num_pad(self.order, self.bos_pad))

    def log_probs(self, tokens) -> np.ndarray:
        """ln p(x_t | context) for every token of a stream (or list of sequences), float64 [N]."""
        p = self.pad_stream(tokens)
        t = np.nonzero(p != self.bos)[0]
        if len(t) == 0:
            return np.zeros(0)
        ids = counting.lookup_ids(self.counts, p)
        acc = self.logp[1][p[t]]
        for k in range(2, self.order + 1):
            g = ids[k][t]
            ctx = ids[k - 1][t - 1]
            bow = np.where(ctx >= 0, self.log_bow[k][np.maximum(ctx, 0)], 0.0)
            acc = np.where(g >= 0, self.logp[k][np.maximum(g, 0)], bow + acc)
        return acc

    def next_log_probs(self, contexts) -> np.ndarray:
        """Distribution ln p(. | h) over the vocabulary for contexts ``[C, L]`` of symbols.

        Symbols may include BOS (= vocab_size).  Only the last ``order - 1``
        symbols matter.  Returns float64 ``[C, V]``.
        """
        raw = np.asarray(contexts)
        if raw.size and not (np.issubdtype(raw.dtype, np.integer)
                             or (np.issubdtype(raw.dtype, np.floating) and np.all(raw == np.round(raw)))):
            raise errors.ValueRangeError(f"contexts must hold integer symbol ids, got dtype {raw.dtype}")
        if raw.ndim not in (1, 2):
            raise errors.ShapeError(f"contexts must have shape [C, L] (or [L]), got {raw.shape}")
        h = raw.astype(np.int64)
        if h.ndim == 1:
            h = h[None]
        V, S = self.vocab_size, self.counts.num_symbols
        if h.size and ((h < 0) | (h >= S)).any():
            raise errors.ValueRangeError(f"contexts hold symbol ids outside [0, {S - 1}] (BOS = {V})")
        L = min(h.shape[1], self.order - 1)
        h = h[:, h.shape[1] - L:]
        acc = np.broadcast_to(self.logp[1][:V], (h.shape[0], V)).copy()
        if L == 0:
            return acc
        ids = counting.lookup_ids(self.counts, h, max_order=L)
        w = np.arange(V)[None, :]
        for k in range(2, L + 2):
            ctx = ids[k - 1][:, -1]
            g = counting.find(self.counts, k, ctx[:, None], w)
            bow = np.where(ctx >= 0, self.log_bow[k][np.maximum(ctx, 0)], 0.0)
            acc = np.where(g >= 0, self.logp[k][np.maximum(g, 0)], bow[:, None] + acc)
        return acc

    def seen_contexts(self, k: int) -> np.ndarray:
        """Symbol windows [C, k-1] of every (k-1)-gram that is a context in table k (for tests)."""
        c = self.counts
        ctx_ids = np.unique(c.prefix(k)) if k >= 2 else np.zeros(0, np.int64)
        return gram_symbols(c, k - 1, ctx_ids)


def gram_symbols(c: NGramCounts, k: int, ids: np.ndarray) -> np.ndarray:
    """Symbols ``[len(ids), k]`` of k-grams given their ids in table k."""
    out = np.zeros((len(ids), k), np.int64)
    cur = np.asarray(ids, np.int64)
    for j in range(k, 1, -1):
        key = c.keys[j][cur]
        out[:, j - 1] = key % c.num_symbols
        cur = key // c.num_symbols
    if k >= 1:
        out[:, 0] = cur
    return out


def nats_per_token(lm: NGramLM, tokens) -> float:
    lp = lm.log_probs(tokens)
    if len(lp) == 0:
        raise errors.ValueRangeError("cannot evaluate on an empty token stream")
    return float(-np.mean(lp))


def bits_per_token(lm: NGramLM, tokens) -> float:
    """Mean negative log2-likelihood per token; ``inf`` where some token has probability 0."""
    return nats_per_token(lm, tokens) / LN2


def perplexity(lm: NGramLM, tokens) -> float:
    """exp(nats per token); ``inf`` (not an error) when an event unseen under MLE occurs."""
    with np.errstate(over="ignore"):
        return float(np.exp(nats_per_token(lm, tokens)))
