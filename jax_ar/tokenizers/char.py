"""Character tokenizer: one id per character of a fixed alphabet (optionally an unknown token)."""
from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from jax_ar.errors import ConfigError, DataFileError, ValueRangeError
from jax_ar.tokenizers import serialization as ser
from jax_ar.tokenizers.bpe import check_ids, check_text


class CharTokenizer:
    """ids 0..len(chars)-1 are ``chars`` in the order given; ``unk_token`` (if any) is the last id.

    Without ``unk_token`` a character outside the alphabet is an error; with it,
    such characters map to the unknown id (and decode to ``unk_token``).
    """

    def __init__(self, chars: Sequence[str], unk_token: str | None = None):
        chars = list(chars)
        if not chars:
            raise ValueRangeError("empty corpus: a character tokenizer needs at least one character")
        if any(not isinstance(c, str) or len(c) != 1 for c in chars) or len(set(chars)) != len(chars):
            raise ConfigError("chars must be distinct single characters")
        if unk_token is not None:
            if not isinstance(unk_token, str) or not unk_token:
                raise ConfigError(f"unk_token must be a non-empty string or None, got {unk_token!r}")
            if unk_token in chars:
                raise ConfigError(f"unk_token {unk_token!r} is already in the alphabet: it must differ "
                                  f"from every character (it would decode ambiguously)")
        self.chars = chars
        self.unk_token = unk_token
        self._ids = {c: i for i, c in enumerate(chars)}
        self._pieces = chars + ([unk_token] if unk_token is not None else [])
        self.unk_id = len(chars) if unk_token is not None else None

    @classmethod
    def fit(cls, text: str, unk_token: str | None = None) -> "CharTokenizer":
        """Alphabet = the sorted distinct characters of ``text``."""
        if not isinstance(text, str):
            raise ConfigError(f"fit takes a str, got {type(text).__name__}")
        if not text:
            raise ValueRangeError("empty corpus: cannot build a character vocabulary from ''")
        chars = set(text)
        if isinstance(unk_token, str) and len(unk_token) == 1 and unk_token in chars:
            # as WordTokenizer.fit drops unk_token from its words: the unknown character
            # stands for itself and every character outside the alphabet
            chars.discard(unk_token)
            if not chars:
                raise ValueRangeError(f"empty corpus: the text holds only the unk_token {unk_token!r}")
        return cls(sorted(chars), unk_token)

    @property
    def vocab_size(self) -> int:
        return len(self._pieces)

    def encode(self, text: str) -> list[int]:
        check_text(text)
        ids = self._ids
        if self.unk_id is None:
            try:
                return [ids[c] for c in text]
            except KeyError as e:
                raise ValueRangeError(f"character {e.args[0]!r} is not in the vocabulary of "
                                      f"{len(self.chars)} characters (build with unk_token= to map "
                                      f"unknown characters)") from None
        unk = self.unk_id
        return [ids.get(c, unk) for c in text]

    def oov(self, text: str) -> list[str]:
        """The characters of ``text`` outside the alphabet, in order."""
        ids = self._ids
        return [c for c in text if c not in ids]

    def encode_array(self, text: str) -> np.ndarray:
        return np.asarray(self.encode(text), dtype=np.int32)

    def decode(self, ids) -> str:
        pieces = self._pieces
        return "".join([pieces[i] for i in check_ids(ids, self.vocab_size)])

    def save(self, path: str | os.PathLike) -> None:
        ser.write_json(path, {"type": "char", "chars": self.chars, "unk_token": self.unk_token})

    @classmethod
    def load(cls, path: str | os.PathLike) -> "CharTokenizer":
        path = os.fspath(path)
        obj = ser.read_json(path, "char")
        chars = ser.string_list(obj, "chars", path)
        unk = obj.get("unk_token")
        if unk is not None and not isinstance(unk, str):
            raise DataFileError(f"tokenizer file {path!r} is damaged: 'unk_token' must be a string or null")
        try:
            return cls(chars, unk)
        except (ConfigError, ValueRangeError) as e:
            raise DataFileError(f"tokenizer file {path!r} is damaged: {e}") from e

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size}, unk_token={self.unk_token!r})"
