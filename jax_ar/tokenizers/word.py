"""Word tokenizer: a capped vocabulary of whole pre-tokens plus an unknown token.

Text is split with a pre-tokenisation pattern -- by default the GPT-2 pattern,
so a word keeps its leading space (" the") and runs of whitespace/punctuation
are tokens too.  Then ``"".join`` of the pieces is the text again, and decoding
reproduces the input exactly unless it contained out-of-vocabulary words (they
decode to ``unk_token``).  Seen this way a word tokenizer is the limit of BPE
with unlimited merges.

Vocabulary: id 0 is ``unk_token``, then the words by decreasing count (ties in
code-point order), capped at ``max_size`` ids in all and at ``min_count``.
"""
from __future__ import annotations

import os
from collections import Counter
from typing import Iterable, Sequence

import numpy as np

from jax_ar.errors import ConfigError, DataFileError, ValueRangeError, check_integer, is_integer
from jax_ar.tokenizers import serialization as ser
from jax_ar.tokenizers.bpe import check_ids, check_text, corpus_texts
from jax_ar.tokenizers.pretokenize import GPT2_PATTERN, compile_pattern


class WordTokenizer:
    def __init__(self, words: Sequence[str], *, unk_token: str = "<unk>", pattern: str = GPT2_PATTERN):
        words = list(words)
        if not isinstance(unk_token, str) or not unk_token:
            raise ConfigError("unk_token must be a non-empty string")
        if len(set(words)) != len(words) or unk_token in words or "" in words:
            raise ConfigError("words must be distinct non-empty strings different from unk_token")
        self.words = words
        self.unk_token = unk_token
        self.unk_id = 0
        self.pattern = pattern
        self._pat = compile_pattern(pattern)
        self._pieces = [unk_token] + words
        self._ids = {w: i + 1 for i, w in enumerate(words)}

    @classmethod
    def fit(cls, corpus: str | Iterable[str], *, max_size: int | None = None, min_count: int = 1,
            unk_token: str = "<unk>", pattern: str = GPT2_PATTERN) -> "WordTokenizer":
        """Keep the ``max_size - 1`` most frequent words seen at least ``min_count`` times."""
        if max_size is not None and not is_integer(max_size):
            raise ConfigError(f"max_size must be an integer or None, got {max_size!r}")
        if max_size is not None and max_size < 1:
            raise ConfigError(f"max_size must be >= 1 (room for the unknown token), got {max_size}")
        check_integer(min_count, "min_count")
        texts = corpus_texts(corpus, "the word tokenizer corpus")
        pat = compile_pattern(pattern)
        counts: Counter = Counter()
        for t in texts:
            counts.update(pat.findall(t))
        if not counts:
            raise ValueRangeError("empty corpus: a word tokenizer needs at least one word of text")
        counts.pop(unk_token, None)
        ranked = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
        if max_size is not None:
            ranked = ranked[:max_size - 1]
        return cls(ranked, unk_token=unk_token, pattern=pattern)

    @property
    def vocab_size(self) -> int:
        return len(self._pieces)

    def tokenize(self, text: str) -> list[str]:
        return self._pat.findall(text)

    def encode(self, text: str) -> list[int]:
        check_text(text)
        get = self._ids.get
        return [get(w, 0) for w in self._pat.findall(text)]

    def oov(self, text: str) -> list[str]:
        """The words of ``text`` that encode to the unknown token, in order."""
        ids = self._ids
        return [w for w in self._pat.findall(text) if w not in ids]

    def encode_array(self, text: str) -> np.ndarray:
        return np.asarray(self.encode(text), dtype=np.int32)

    def decode(self, ids) -> str:
        pieces = self._pieces
        return "".join([pieces[i] for i in check_ids(ids, self.vocab_size)])

    def save(self, path: str | os.PathLike) -> None:
        ser.write_json(path, {"type": "word", "pattern": self.pattern, "unk_token": self.unk_token,
                              "words": self.words})

    @classmethod
    def load(cls, path: str | os.PathLike) -> "WordTokenizer":
        path = os.fspath(path)
        obj = ser.read_json(path, "word")
        words = ser.string_list(obj, "words", path)
        unk = ser.field(obj, "unk_token", str, path)
        pattern = ser.field(obj, "pattern", str, path)
        try:
            return cls(words, unk_token=unk, pattern=pattern)
        except (ConfigError, ValueRangeError) as e:
            raise DataFileError(f"tokenizer file {path!r} is damaged: {e}") from e

    def __repr__(self) -> str:
        return f"WordTokenizer(vocab_size={self.vocab_size}, unk_token={self.unk_token!r})"
