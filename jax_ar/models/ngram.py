"""n-gram language model behind the jax_ar model contract.

The fitted tables of :class:`jax_ar.ngram.NGramLM` (back-off form) become
``params``: per order k a CSR trie level (``start`` offsets per (k-1)-gram,
sorted last symbols ``sym``), the log-probabilities of the seen k-grams and
the log back-off weights of their contexts.  ``outputs`` looks up, for every
position of ``x_BxD`` at once, the context of the last ``order - 1`` tokens
(left-padded with the start symbol) and returns the whole next-token
log-probability table ``[B, D, V]``; ``init_cache`` keeps the last
``order - 1`` tokens and ``step`` performs the same lookup for one position.
Lookups are branch-free binary searches of fixed depth, so everything jits.
Log-probabilities are returned as logits (``Categorical`` renormalises, a
no-op for fitted tables up to float32 rounding).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jax_ar import distributions, errors
from jax_ar.contract import ARModelBase
from jax_ar.models.registry import register
from jax_ar.ngram import api
from jax_ar.ngram.lm import NGramLM


def tables_to_params(lm: NGramLM) -> dict:
    """CSR trie arrays (int32) and float32 log tables from a fitted model."""
    c = lm.counts
    S = c.num_symbols
    orders = []
    for k in range(2, lm.order + 1):
        M_prev = c.size(k - 1)
        keys = c.keys[k]
        start = np.searchsorted(keys, np.arange(M_prev + 1, dtype=np.int64) * S)
        orders.append({
            "start": jnp.asarray(start, jnp.int32),
            "sym": jnp.asarray(np.append(keys % S, S), jnp.int32),           # sentinel at the end
            "logp": jnp.asarray(np.append(lm.logp[k], -np.inf), jnp.float32),
            "log_bow": jnp.asarray(lm.log_bow[k], jnp.float32),
        })
    return {"logp_1": jnp.asarray(lm.logp[1], jnp.float32), "orders": orders}


def _find(level, prefix, w, iters: int):
    """Index of k-gram (prefix, w) in a CSR level, -1 where absent (prefix -1: absent)."""
    ok = prefix >= 0
    pr = jnp.where(ok, prefix, 0)
    lo0 = level["start"][pr]
    hi0 = level["start"][pr + 1]
    lo = lo0 + 0 * w
    hi = hi0 + 0 * w
    end = hi
    sym = level["sym"]

    def body(_, lh):
        lo, hi = lh
        mid = (lo + hi) // 2
        active = lo < hi
        go_right = active & (sym[mid] < w)
        return jnp.where(go_right, mid + 1, lo), jnp.where(active & ~go_right, mid, hi)

    lo, hi = jax.lax.fori_loop(0, iters, body, (lo, hi))
    found = ok & (lo < end) & (level["sym"][lo] == w)
    return jnp.where(found, lo, -1)


def next_logits(params, win_NxL, vocab_size: int, iters: int):
    """Next-token log-probs ``[N, V]`` after windows of the last L = order-1 symbols."""
    V = vocab_size
    N, L = win_NxL.shape
    acc = jnp.broadcast_to(params["logp_1"][:V], (N, V))
    ids = win_NxL                      # ids of the 1-grams ending at each window position
    w = jnp.arange(V)[None, :]
    for j, level in enumerate(params["orders"]):   # order k = j + 2, context = (k-1)-gram at the end
        ctx = ids[:, -1]
        g = _find(level, ctx[:, None], w, iters)
        bow = jnp.where(ctx >= 0, level["log_bow"][jnp.maximum(ctx, 0)], 0.0)
        acc = jnp.where(g >= 0, level["logp"][jnp.maximum(g, 0)], bow[:, None] + acc)
        if j + 1 < len(params["orders"]):           # k-grams ending at each window position
            ids = _find(level, ids[:, :-1], win_NxL[:, L - ids.shape[1] + 1:], iters)
    return acc


_next_logits_jit = jax.jit(next_logits, static_argnums=(2, 3))


@dataclasses.dataclass(frozen=True, eq=False)
class NGramARModel(ARModelBase):
    stationary = True
    lm: Any
    seq_len: int
    dist: Any
    num_classes: int = 0

    @property
    def order(self) -> int:
        return self.lm.order

    @property
    def _iters(self) -> int:
        return int(self.lm.counts.num_symbols).bit_length() + 1

    def init(self, key=None):
        return tables_to_params(self.lm)

    def check_params(self, params) -> None:
        """Raise ShapeError unless ``params`` are n-gram tables for this vocabulary and order.

        Only shapes are checked (static even under ``jit``): the trie levels must
        chain (level k has one ``start`` offset per (k-1)-gram of level k-1, plus one).
        """
        S, L = int(self.lm.counts.num_symbols), self.order - 1

        def bad(what):
            raise errors.ShapeError(
                f"params do not belong to this n-gram model (vocabulary {self.lm.vocab_size}, order "
                f"{self.order}): {what}; pass the params from this model's init()")
        if not isinstance(params, Mapping) or "logp_1" not in params or "orders" not in params:
            bad(f"expected a dict with 'logp_1' and 'orders', got {type(params).__name__}"
                + (f" with keys {sorted(params)}" if isinstance(params, Mapping) else ""))
        if tuple(jnp.shape(params["logp_1"])) != (S,):
            bad(f"'logp_1' has shape {tuple(jnp.shape(params['logp_1']))}, expected ({S},) "
                f"(vocabulary + start symbol)")
        levels = params["orders"]
        if not isinstance(levels, (list, tuple)) or len(levels) != L:
            bad(f"'orders' must be a list of {L} trie level(s) (orders 2..{self.order}), got "
                f"{len(levels) if isinstance(levels, (list, tuple)) else type(levels).__name__}")
        n_prev = S
        for j, level in enumerate(levels):
            k = j + 2
            keys = ("start", "sym", "logp", "log_bow")
            if not isinstance(level, Mapping) or any(key not in level for key in keys):
                bad(f"order-{k} level must be a dict with keys {list(keys)}")
            sh = {key: tuple(jnp.shape(level[key])) for key in keys}
            if any(len(v) != 1 for v in sh.values()):
                bad(f"order-{k} level arrays must be 1-D, got shapes {sh}")
            n = sh["sym"][0] - 1
            if (sh["start"] != (n_prev + 1,) or sh["log_bow"] != (n_prev,) or n < 0
                    or sh["logp"] != sh["sym"]):
                bad(f"order-{k} level has shapes {sh}, expected start ({n_prev + 1},), log_bow "
                    f"({n_prev},) and logp of the shape of sym")
            n_prev = n

    def _windows(self, x_BxD):
        B, D = x_BxD.shape
        L = self.order - 1
        pad = jnp.full((B, L), self.lm.bos, jnp.int32)
        p = jnp.concatenate([pad, x_BxD.astype(jnp.int32)], axis=1)
        idx = jnp.arange(D)[:, None] + jnp.arange(L)[None, :]      # window of position t: p[t : t+L]
        return p[:, idx]                                            # [B, D, L]

    def outputs(self, params, x_BxD, cond_B=None):
        self.check_outputs_input(x_BxD, cond_B)
        self.check_params(params)
        B, D = x_BxD.shape
        win = self._windows(x_BxD).reshape(B * D, self.order - 1)
        out = _next_logits_jit(params, win, self.lm.vocab_size, self._iters)
        return out.reshape(B, D, self.lm.vocab_size)

    def init_cache(self, params, batch_size: int, cond_B=None):
        self.check_cache_request(batch_size, cond_B)
        return {"t": jnp.zeros((), jnp.int32),
                "hist_BxL": jnp.full((batch_size, self.order - 1), self.lm.bos, jnp.int32)}

    def step(self, params, cache, x_prev_B):
        self.check_step_input(x_prev_B)
        self.check_params(params)
        t, hist = cache["t"], cache["hist_BxL"]
        if self.order > 1:
            shifted = jnp.concatenate([hist[:, 1:], x_prev_B.astype(jnp.int32)[:, None]], axis=1)
            hist = jnp.where(t > 0, shifted, hist)
        out = _next_logits_jit(params, hist, self.lm.vocab_size, self._iters)
        return out, {"t": t + 1, "hist_BxL": hist}


def as_ar_model(lm: NGramLM, seq_len: int) -> NGramARModel:
    """Wrap a fitted n-gram model as a contract model for sequences of ``seq_len`` tokens."""
    if isinstance(seq_len, np.integer):
        seq_len = int(seq_len)
    return NGramARModel(lm, seq_len, distributions.Categorical(lm.vocab_size))   # checks seq_len


def tiny_corpus(vocab_size: int, length: int = 300, seed: int = 0) -> np.ndarray:
    """A small random Markov-chain corpus (for the registered tiny configuration)."""
    rng = np.random.default_rng(seed)
    T = rng.dirichlet(np.full(vocab_size, 0.5), size=vocab_size)
    x = np.zeros(length, np.int64)
    for i in range(1, length):
        x[i] = rng.choice(vocab_size, p=T[x[i - 1]])
    return x


@register("ngram", tiny={"vocab_size": 3, "seq_len": 4, "order": 3}, trainable=False)
def build(vocab_size: int = 65, seq_len: int = 64, order: int = 3, method: str = "modified_kneser_ney",
          tokens=None, seed: int = 0, **kw) -> NGramARModel:
    """Fit on ``tokens`` (default: a random corpus from ``tiny_corpus``) and wrap for the contract."""
    if tokens is None:
        tokens = tiny_corpus(vocab_size, seed=seed)
    return as_ar_model(api.fit(tokens, vocab_size, order, method, **kw), seq_len)
