"""Tokenizers: character, word (capped, with an unknown token) and byte-level BPE.

All three share ``encode(text) -> list[int]``, ``decode(ids) -> str``,
``vocab_size``, ``save(path)`` and ``Cls.load(path)``; :func:`load` reads any
jax_ar tokenizer file.
"""
from __future__ import annotations

import os

from jax_ar.tokenizers.bpe import BPETokenizer
from jax_ar.tokenizers.char import CharTokenizer
from jax_ar.tokenizers.pretokenize import GPT2_PATTERN
from jax_ar.tokenizers.serialization import read_json
from jax_ar.tokenizers.word import WordTokenizer

__all__ = ["BPETokenizer", "CharTokenizer", "WordTokenizer", "GPT2_PATTERN", "load"]

_TYPES = {"bpe": BPETokenizer, "char": CharTokenizer, "word": WordTokenizer}


def load(path: str | os.PathLike):
    """Load a tokenizer of whichever type the file holds."""
    from jax_ar.errors import DataFileError
    kind = read_json(path).get("type")
    if not isinstance(kind, str) or kind not in _TYPES:
        raise DataFileError(f"tokenizer file {os.fspath(path)!r} has unknown type {kind!r}; "
                            f"expected one of {sorted(_TYPES)}")
    return _TYPES[kind].load(path)
