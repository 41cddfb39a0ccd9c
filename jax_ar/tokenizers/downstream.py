"""Comparing tokenizers by the bits per character a fixed downstream LM achieves.

A tokenizer turns text into ``N_tok`` tokens; an n-gram model
(:func:`jax_ar.ngram.fit`) trained on the tokenized training text gives the
evaluation text a code length of ``bits`` = -log2 p(tokens).  Dividing by the
number of characters makes tokenizers with different vocabularies comparable:
bits per character = bits / N_char, and bits per token x tokens per character.

Unknown tokens (word tokenizer with a capped vocabulary, char tokenizer on
unseen characters) would make this an underestimate: p(<unk>) is the mass of
*all* out-of-vocabulary strings.  Each unknown piece is therefore also charged
its spelling under :class:`SpellingModel`, so every tokenizer is scored as a
complete code for the text.
"""
from __future__ import annotations

import dataclasses
import math
import time
from collections import Counter
from typing import Sequence

import numpy as np

from jax_ar.errors import ValueRangeError

LN2 = math.log(2.0)
NUM_CODEPOINTS = 0x110000


class SpellingModel:
    """p(string) = geometric(length) x prod add-one character unigram (with an 'unseen' class).

    ``p(len = l) = q (1 - q)^(l - 1)`` with ``q = 1 / mean length`` of the
    example strings (rare training words: the proxy for unknown ones).  A
    character never seen in training shares one extra count spread uniformly
    over all Unicode code points.  Sums to at most 1 over non-empty strings
    (a sub-probability: a valid code length).
    """

    def __init__(self, char_counts: Counter, mean_len: float):
        if mean_len < 1:
            raise ValueRangeError(f"mean spelling length must be >= 1, got {mean_len}")
        total = sum(char_counts.values()) + len(char_counts) + 1
        self._bits = {c: -math.log2((n + 1) / total) for c, n in char_counts.items()}
        self._unseen_bits = -math.log2(1 / total / NUM_CODEPOINTS)
        self.q = 1.0 / mean_len

    @classmethod
    def fit(cls, train_text: str, examples: Sequence[str]) -> "SpellingModel":
        lengths = [len(w) for w in examples if w]
        return cls(Counter(train_text), (sum(lengths) / len(lengths)) if lengths else 5.0)

    def bits(self, s: str) -> float:
        if not s:
            raise ValueRangeError("cannot spell an empty string")
        length = -math.log2(self.q) - (len(s) - 1) * math.log2(1 - self.q) if self.q < 1 else 0.0
        get, unseen = self._bits.get, self._unseen_bits
        return length + sum(get(c, unseen) for c in s)


@dataclasses.dataclass
class TokenizerScore:
    name: str
    vocab_size: int
    train_tokens: int
    eval_tokens: int
    eval_chars: int
    chars_per_token: float
    bits_per_token: float        # LM bits per token (the <unk> token at its LM probability)
    unk_tokens: int
    unk_spelling_bits: float     # extra bits to spell the unknown pieces
    bits_per_char: float         # (LM bits + spelling bits) / characters
    seconds: float               # tokenizing both texts + fitting + scoring


def unknown_pieces(tokenizer, text: str) -> list[str]:
    """The substrings of ``text`` that ``tokenizer`` maps to its unknown token (none for BPE)."""
    oov = getattr(tokenizer, "oov", None)
    return oov(text) if oov is not None else []


def score(name: str, tokenizer, train_text: str, eval_text: str, *, order: int = 3,
          method: str = "modified_kneser_ney", spelling: SpellingModel | None = None,
          rare_examples: Sequence[str] = ()) -> TokenizerScore:
    """Fit an n-gram LM on ``tokenizer.encode(train_text)`` and score ``eval_text``."""
    from jax_ar import ngram
    if not eval_text:
        raise ValueRangeError("empty evaluation text: nothing to score")
    t0 = time.perf_counter()
    train_ids = np.asarray(tokenizer.encode(train_text), dtype=np.int32)
    eval_ids = np.asarray(tokenizer.encode(eval_text), dtype=np.int32)
    lm = ngram.fit(train_ids, tokenizer.vocab_size, order=order, method=method)
    lm_bits = -float(np.sum(lm.log_probs(eval_ids))) / LN2
    unk = unknown_pieces(tokenizer, eval_text)
    spell_bits = 0.0
    if unk:
        spelling = spelling or SpellingModel.fit(train_text, rare_examples)
        spell_bits = sum(spelling.bits(w) for w in unk)
    n_tok, n_char = len(eval_ids), len(eval_text)
    return TokenizerScore(name=name, vocab_size=tokenizer.vocab_size, train_tokens=len(train_ids),
                          eval_tokens=n_tok, eval_chars=n_char, chars_per_token=n_char / n_tok,
                          bits_per_token=lm_bits / n_tok, unk_tokens=len(unk),
                          unk_spelling_bits=spell_bits, bits_per_char=(lm_bits + spell_bits) / n_char,
                          seconds=time.perf_counter() - t0)


def markdown_table(scores: Sequence[TokenizerScore]) -> str:
    head = ("| tokenizer | vocab | eval tokens | chars/token | bits/token | unk tokens | "
            "bits/char |\n|---|---:|---:|---:|---:|---:|---:|")
    rows = [f"| {s.name} | {s.vocab_size} | {s.eval_tokens} | {s.chars_per_token:.3f} | "
            f"{s.bits_per_token:.4f} | {s.unk_tokens} | {s.bits_per_char:.4f} |" for s in scores]
    return "\n".join([head, *rows])
