"""The NLTK ``nltk.lm`` setup that the parity tests and the benchmark compare against.

Same padding as ``bos_pad="full"``: each sequence is left-padded with
``order - 1`` symbols ``<s>`` (``nltk.lm.preprocessing.pad_both_ends`` without
the right pad) and NLTK is trained on every 1..order-gram that ends at a real
token.  The vocabulary is the training symbols plus NLTK's ``<UNK>`` (to which
``<s>`` maps), so our vocabulary is ``len(symbols) + 1`` with the last id
standing for ``<UNK>``.  nltk is an optional peer, imported lazily.
"""
from __future__ import annotations

import numpy as np

PAD = "<s>"


def train_ngrams(symbols, order: int):
    """Every k-gram (k = 1..order) ending at a real symbol of the left-padded sequence."""
    p = [PAD] * (order - 1) + list(symbols)
    return [tuple(p[j - k + 1:j + 1]) for j in range(order - 1, len(p)) for k in range(1, order + 1)]


def test_ngrams(symbols, order: int):
    p = [PAD] * (order - 1) + list(symbols)
    return [tuple(p[j - order + 1:j + 1]) for j in range(order - 1, len(p))]


def fit_nltk(train_symbols, order: int):
    """A fitted ``nltk.lm.MLE``; other models reuse its vocab and counts (see :func:`nltk_model`)."""
    from nltk.lm import MLE
    lm = MLE(order)
    lm.fit([train_ngrams(train_symbols, order)], vocabulary_text=list(train_symbols))
    return lm


def nltk_model(base, cls_name: str, **kw):
    """Another nltk.lm model sharing ``base``'s vocabulary and counts (no refit)."""
    import nltk.lm as L
    return getattr(L, cls_name)(base.order, vocabulary=base.vocab, counter=base.counts, **kw)


def encode(symbols, alphabet) -> np.ndarray:
    """Ids in our vocabulary: position in ``alphabet``; unknown symbols -> len(alphabet) (<UNK>)."""
    table = {s: i for i, s in enumerate(alphabet)}
    return np.array([table.get(s, len(alphabet)) for s in symbols], np.int64)
