"""Vectorised n-gram counting for any order over integer token arrays.

Symbols are the token ids ``0..V-1`` plus one start symbol ``BOS = V``
(``S = V + 1`` symbols in all).  Each training sequence is left-padded with
start symbols, then every order ``k = 1..n`` gets a table of the k-grams that
end at a real token (plus the all-start grams that only serve as contexts).

A k-gram is its (k-1)-gram prefix extended by one symbol, so it is stored as
the integer pair key ``prefix_id * S + last_symbol`` where ``prefix_id``
indexes the table of order k-1 (order 1 ids are the symbols themselves).
Keys never overflow (ids are < number of positions) and any order works.
Each order is one ``np.unique`` over the whole stream: no Python loop over
n-grams.  Lookups of new streams use ``np.searchsorted`` on the same keys
(a trie walked one order at a time, all positions at once).

Padding (``bos_pad``):
* ``"single"``: one start symbol per sequence; n-grams never reach before it
  (SRILM/KenLM convention: a context is at most ``<s> w1 .. w_{i-1}``);
* ``"full"``: ``n - 1`` start symbols, all n-grams over the padded stream
  that end at a real token (NLTK ``pad_sequence(pad_left=True)`` convention).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from jax_ar import errors

PAD_MODES = ("single", "full")


@dataclasses.dataclass(eq=False)
class NGramCounts:
    """Count tables of orders 1..n.

    keys[k]   sorted int64 pair keys of order k >= 2 (``keys[1]`` is None);
    counts[k] how often each k-gram ends at a real (target) token
              (order 1: dense over all S symbols, BOS count 0);
    suffix[k] id (order k-1) of each k-gram's suffix (its last k-1 symbols);
    first[k]  first symbol of each k-gram.
    """
    order: int
    vocab_size: int
    bos_pad: str
    keys: list
    counts: list
    suffix: list
    first: list
    num_tokens: int

    @property
    def num_symbols(self) -> int:
        return self.vocab_size + 1

    @property
    def bos(self) -> int:
        return self.vocab_size

    def size(self, k: int) -> int:
        return self.num_symbols if k == 1 else len(self.keys[k])

    def prefix(self, k: int) -> np.ndarray:
        return self.keys[k] // self.num_symbols

    def last(self, k: int) -> np.ndarray:
        return self.keys[k] % self.num_symbols


def check_order(order) -> int:
    if not errors.is_integer(order):
        raise errors.ConfigError(f"n-gram order must be an integer >= 1, got {order!r}")
    if order < 1:
        raise errors.ConfigError(f"n-gram order must be >= 1, got {order}")
    return int(order)


def as_sequences(tokens, vocab_size: int, name: str = "tokens") -> list[np.ndarray]:
    """A 1-D token array, a 2-D array (rows) or a list of 1-D arrays -> list of int64 arrays.

    Empty sequences are dropped; ids are checked against the vocabulary.
    """
    errors.check_integer(vocab_size, "vocab_size")
    if isinstance(tokens, np.ndarray) or (hasattr(tokens, "shape") and hasattr(tokens, "dtype")):
        arr = np.asarray(tokens)
        seqs = list(arr) if arr.ndim == 2 else [arr]       # 2-D: one sequence per row
    elif isinstance(tokens, (list, tuple)) and tokens and all(np.ndim(t) == 0 for t in tokens):
        seqs = [np.asarray(tokens)]
    else:
        seqs = [np.asarray(t) for t in tokens]
    out = []
    for s in seqs:
        if s.ndim != 1:
            raise errors.ShapeError(f"{name} must be a 1-D token array (or a list of them), got shape {s.shape}")
        if s.size == 0:
            continue
        if not (np.issubdtype(s.dtype, np.integer) or s.dtype == np.bool_):
            if np.issubdtype(s.dtype, np.floating) and np.all(s == np.round(s)):
                s = s.astype(np.int64)
            else:
                raise errors.ValueRangeError(f"{name} must hold integer token ids, got dtype {s.dtype}")
        s = s.astype(np.int64)
        bad = (s < 0) | (s >= vocab_size)
        if bad.any():
            raise errors.ValueRangeError(
                f"{name} holds token id {int(s[bad][0])} outside the vocabulary [0, {vocab_size - 1}] "
                f"({int(bad.sum())} bad entries)")
        out.append(s)
    return out


def pad_stream(seqs: list[np.ndarray], bos: int, num_pad: int) -> np.ndarray:
    """Concatenate sequences, each preceded by ``num_pad`` start symbols."""
    parts = []
    pad = np.full(num_pad, bos, np.int64)
    for s in seqs:
        parts += [pad, s]
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


def num_pad(order: int, bos_pad: str) -> int:
    if bos_pad not in PAD_MODES:
        raise errors.ConfigError(f"bos_pad must be one of {PAD_MODES}, got {bos_pad!r}")
    return 1 if bos_pad == "single" else max(order - 1, 1)


def unique_inverse(keys: np.ndarray, bound: int):
    """``np.unique(keys, return_inverse=True)`` for keys in [0, bound).

    When the key range is small compared with the number of keys, a dense
    occupancy table (bincount + cumsum, O(N + bound)) replaces the sort.
    """
    if bound <= max(4 * len(keys), 1 << 16):
        present = np.bincount(keys, minlength=bound) > 0
        uniq = np.flatnonzero(present)
        rank = np.cumsum(present) - 1
        return uniq.astype(np.int64), rank[keys]
    return np.unique(keys, return_inverse=True)


def count(tokens, vocab_size: int, order: int, bos_pad: str = "single") -> NGramCounts:
    """Count all n-grams of orders 1..``order`` in ``tokens`` (1-D array or list of them)."""
    order = check_order(order)
    seqs = as_sequences(tokens, vocab_size)
    if not seqs:
        raise errors.ValueRangeError("cannot fit an n-gram model on an empty corpus (no tokens)")
    S, bos = vocab_size + 1, vocab_size
    p = pad_stream(seqs, bos, num_pad(order, bos_pad))
    is_bos = p == bos
    target = ~is_bos
    keys, counts, suffix, first = [None, None], [None, np.bincount(p[target], minlength=S)], [None, None], \
        [None, np.arange(S)]
    ids = p.copy()                  # id of the k-gram ending at each position (-1: none)
    all_bos = is_bos.copy()         # that k-gram consists of start symbols only
    for k in range(2, order + 1):
        prev, prev_all_bos = ids, all_bos
        valid = np.zeros_like(is_bos)
        valid[1:] = (prev[:-1] >= 0) & (target[1:] | prev_all_bos[:-1])
        if bos_pad == "single":
            valid[1:] &= target[1:]
        pair = prev[:-1] * S + p[1:]
        bound = (int(prev.max()) + 1) * S
        uniq, inv = unique_inverse(pair[valid[1:]], bound)
        ids = np.full_like(p, -1)
        ids[1:][valid[1:]] = inv
        all_bos = np.zeros_like(is_bos)
        all_bos[1:] = prev_all_bos[:-1] & is_bos[1:] & valid[1:]
        keys.append(uniq)
        counts.append(np.bincount(ids[valid & target], minlength=len(uniq)))
        # suffix of the k-gram ending at j is the (k-1)-gram ending at j
        suf = np.zeros(len(uniq), np.int64)
        suf[ids[valid]] = prev[valid]
        suffix.append(suf)
        first.append(first[k - 1][uniq // S])
    return NGramCounts(order, vocab_size, bos_pad, keys, counts, suffix, first, int(target.sum()))


def find(c: NGramCounts, k: int, prefix_ids: np.ndarray, symbols: np.ndarray) -> np.ndarray:
    """Id of the k-gram (prefix, symbol) in table k, or -1 where unseen (any broadcast shape)."""
    keys = c.keys[k]
    prefix_ids, symbols = np.broadcast_arrays(np.asarray(prefix_ids, np.int64), np.asarray(symbols, np.int64))
    if len(keys) == 0:
        return np.full(prefix_ids.shape, -1, np.int64)
    pair = prefix_ids * c.num_symbols + symbols
    idx = np.minimum(np.searchsorted(keys, pair), len(keys) - 1)
    return np.where((prefix_ids >= 0) & (keys[idx] == pair), idx, -1)


def lookup_ids(c: NGramCounts, p: np.ndarray, max_order: int | None = None) -> list:
    """Ids of the k-gram ending at each position of ``p`` along its last axis (-1 where unseen).

    Returns ``ids[k]`` for k = 1..max_order (``ids[0]`` is None); the same walk as
    :func:`count`, with ``searchsorted`` in place of ``unique``.
    """
    p = np.asarray(p, np.int64)
    ids = [None, p]
    for k in range(2, (c.order if max_order is None else max_order) + 1):
        out = np.full(p.shape, -1, np.int64)
        if p.shape[-1] > 1:
            out[..., 1:] = find(c, k, ids[k - 1][..., :-1], p[..., 1:])
        ids.append(out)
    return ids


def context_totals(c: NGramCounts, k: int, values=None) -> np.ndarray:
    """Sum of ``values`` (default: counts) of the k-grams sharing each (k-1)-gram prefix."""
    v = c.counts[k] if values is None else values
    if k == 1:
        return np.array([v.sum()], np.float64)
    return np.bincount(c.prefix(k), weights=v.astype(np.float64), minlength=c.size(k - 1))
