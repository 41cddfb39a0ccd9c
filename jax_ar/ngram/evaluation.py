"""Tables of held-out bits per token for many orders and smoothing methods.

Counts are taken once per order and shared by all count-based methods; the
interpolated model fits its weights by EM on the last 10% of the training
data (never on the evaluation splits).
"""
from __future__ import annotations

import math
import re
import time
from collections import Counter

import numpy as np

from jax_ar.ngram import api, counting
from jax_ar.ngram.lm import nats_per_token

WORD_RE = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*|[^\sA-Za-z]|\n")
UNK = "<unk>"


def smoothing_table(train, evals: dict, vocab_size: int, orders, methods, *, method_kw=None,
                    bos_pad: str = "single", log=print) -> list[dict]:
    """Rows {order, method, <split>_bits, <split>_ppl, fit_s} for every (order, method)."""
    method_kw = method_kw or {}
    rows = []
    for n in orders:
        t0 = time.perf_counter()
        c = counting.count(train, vocab_size, n, bos_pad)
        count_s = time.perf_counter() - t0
        for m in methods:
            t0 = time.perf_counter()
            kw = method_kw.get(m, {})
            if m == "interpolated":
                lm = api.fit(train, vocab_size, n, m, bos_pad=bos_pad, **kw)
            else:
                lm = api.from_counts(c, m, **kw)
            row = {"order": n, "method": m, "fit_s": round(time.perf_counter() - t0 + count_s, 3)}
            for split, toks in evals.items():
                nats = nats_per_token(lm, toks)
                row[f"{split}_bits"] = nats / math.log(2)
                with np.errstate(over="ignore"):
                    row[f"{split}_ppl"] = float(np.exp(nats))
            rows.append(row)
            if log:
                log(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
    return rows


def markdown_table(rows: list[dict], split_keys, fmt="{:.3f}") -> str:
    """Orders as rows, methods as columns, cells 'split1 / split2'."""
    methods = list(dict.fromkeys(r["method"] for r in rows))
    orders = list(dict.fromkeys(r["order"] for r in rows))
    cell = {(r["order"], r["method"]): r for r in rows}
    out = ["| n | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
    for n in orders:
        vals = []
        for m in methods:
            r = cell.get((n, m))
            vals.append("" if r is None else " / ".join(
                "inf" if math.isinf(r[k]) else fmt.format(r[k]) for k in split_keys))
        out.append(f"| {n} | " + " | ".join(vals) + " |")
    return "\n".join(out)


def word_tokens(text: str) -> list[str]:
    """Words (letters with inner apostrophes), single punctuation marks and newlines."""
    return WORD_RE.findall(text)


def word_vocab(train_words: list[str], min_count: int = 2) -> list[str]:
    """Training words seen at least ``min_count`` times, plus ``<unk>`` (last)."""
    cnt = Counter(train_words)
    return sorted(w for w, c in cnt.items() if c >= min_count) + [UNK]


def encode_words(words: list[str], vocab: list[str]) -> np.ndarray:
    table = {w: i for i, w in enumerate(vocab)}
    unk = table[UNK]
    return np.array([table.get(w, unk) for w in words], np.int64)


def decode(ids, symbols, sep="") -> str:
    return sep.join(symbols[i] for i in ids)
