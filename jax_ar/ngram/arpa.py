"""Export a fitted n-gram model to the standard ARPA back-off text format.

Every seen k-gram is written with log10 of its stored probability and, when
it is the context of some (k+1)-gram, log10 of its back-off weight, exactly
the back-off form :class:`jax_ar.ngram.lm.NGramLM` already holds, so any
ARPA reader (SRILM, KenLM) computes the same probabilities.  The start
symbol is ``<s>`` (probability 10^-99, as in SRILM/KenLM); ``</s>`` and
``<unk>`` are added with probability 10^-99 unless the vocabulary names them,
since readers insist on them but the model never predicts them.
"""
from __future__ import annotations

import math
import os

import numpy as np

from jax_ar import errors
from jax_ar.ngram import counting
from jax_ar.ngram.lm import NGramLM, gram_symbols

LOG10E = 1.0 / math.log(10.0)
NEVER = -99.0


def default_words(vocab_size: int) -> list[str]:
    return [f"t{i}" for i in range(vocab_size)]


def _check_words(words, V):
    if len(words) != V:
        raise errors.ConfigError(f"words has {len(words)} entries but the vocabulary has {V} tokens")
    for w in words:
        if not w or any(ch.isspace() for ch in w):
            raise errors.ConfigError(f"ARPA words must be non-empty without whitespace, got {w!r}")
    if len(set(words)) != V:
        raise errors.ConfigError("ARPA words must be distinct")
    if "<s>" in words:
        raise errors.ConfigError("'<s>' is reserved for the start symbol")


def _fmt(x: np.ndarray) -> np.ndarray:
    x = np.where(np.isfinite(x), x, NEVER)
    return np.char.mod("%.7f", np.maximum(x, NEVER))


def write_arpa(lm: NGramLM, path, words=None) -> str:
    """Write ``lm`` to ``path`` (ARPA text); returns the path."""
    c = lm.counts
    V, S, n = lm.vocab_size, c.num_symbols, lm.order
    words = default_words(V) if words is None else list(words)
    _check_words(words, V)
    sym_names = np.array(words + ["<s>"], dtype=object)
    # back-off weight of each k-gram as a context of order k+1 (present only when it has followers)
    bows = []
    for k in range(1, n + 1):
        if k < n:
            tot = counting.context_totals(c, k + 1)
            has = tot > 0
            bows.append((has, lm.log_bow[k + 1] * LOG10E))
        else:
            bows.append((np.zeros(c.size(k), bool), None))
    sections = []
    # unigrams: every token, <s>, and the markers readers require
    has1, bow1 = bows[0]
    lp1 = lm.logp[1] * LOG10E
    lines = []
    for s in range(S):
        prob = NEVER if s == c.bos else lp1[s]
        ln = f"{_fmt(np.array([prob]))[0]}\t{sym_names[s]}"
        if has1[s]:
            ln += f"\t{_fmt(np.array([bow1[s]]))[0]}"
        lines.append(ln)
    for extra in ("</s>", "<unk>"):
        if extra not in words:
            lines.append(f"{NEVER:.7f}\t{extra}")
    sections.append(lines)
    for k in range(2, n + 1):
        keep = np.nonzero((c.counts[k] > 0) | bows[k - 1][0])[0]
        syms = gram_symbols(c, k, keep)
        text = sym_names[syms[:, 0]].astype(str)
        for j in range(1, k):
            text = np.char.add(np.char.add(text, " "), sym_names[syms[:, j]].astype(str))
        probs = _fmt(np.where(c.counts[k][keep] > 0, lm.logp[k][keep] * LOG10E, NEVER))
        body = np.char.add(np.char.add(probs, "\t"), text)
        has, bow = bows[k - 1]
        if bow is not None:
            tail = np.where(has[keep], np.char.add("\t", _fmt(bow[keep])), "")
            body = np.char.add(body, tail)
        sections.append(body.tolist())
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\\data\\\n")
        for k, lines in enumerate(sections, 1):
            f.write(f"ngram {k}={len(lines)}\n")
        for k, lines in enumerate(sections, 1):
            f.write(f"\n\\{k}-grams:\n")
            f.write("\n".join(lines))
            f.write("\n")
        f.write("\n\\end\\\n")
    return str(path)
