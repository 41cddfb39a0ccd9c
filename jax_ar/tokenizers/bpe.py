"""Byte-level (or character-level) byte-pair-encoding tokenizer.

Vocabulary layout (``mode="byte"``): ids 0..255 are the raw bytes, id
``256 + i`` is merge ``i``, and the special tokens come last.  In
``mode="char"`` the base alphabet is a sorted list of characters instead of
bytes (text outside it cannot be encoded).

Encoding: the text is split at special tokens, then into pre-tokens with the
GPT-2 pattern; each distinct pre-token is BPE-encoded once (cached) by
repeatedly merging its lowest-rank pair.  Decoding concatenates token bytes.
``decode_bytes(encode_bytes(b)) == b`` for any bytes (invalid UTF-8 included)
and ``decode(encode(s)) == s`` for any string.
"""
from __future__ import annotations

import numbers
import os
import re
from collections import Counter
from itertools import chain, repeat
from typing import Iterable, Mapping, Sequence

import numpy as np

from jax_ar.errors import ConfigError, DataFileError, ValueRangeError
from jax_ar.tokenizers import serialization as ser
from jax_ar.tokenizers.bpe_train import learn_merges
from jax_ar.tokenizers.pretokenize import GPT2_PATTERN, byte_token_str, bytes_to_unicode, compile_pattern

_INF = float("inf")
_CACHE_MAX = 1 << 20


def _hf_byte_order() -> list[int]:
    """Tie-break key of each byte: its rank in GPT-2 byte->unicode codepoint order (as HF orders)."""
    table = bytes_to_unicode()
    order = sorted(range(256), key=lambda b: ord(table[b]))
    key = [0] * 256
    for rank, b in enumerate(order):
        key[b] = rank
    return key


def check_text(text) -> None:
    """``encode`` takes a str: a clear error for None, bytes, numbers, ..."""
    if not isinstance(text, str):
        hint = " (decode the bytes first, or use a byte-level BPE tokenizer's encode_bytes)" if isinstance(
            text, (bytes, bytearray)) else ""
        raise ConfigError(f"encode takes a str, got {type(text).__name__}{hint}")


def check_ids(ids, vocab_size: int) -> list[int]:
    """Return ``ids`` (a list, numpy or jax array of integers) as a list of ints, or raise
    ValueRangeError for non-integer ids or ids outside the vocabulary (checked vectorised)."""
    if isinstance(ids, (str, bytes)):
        raise ValueRangeError(f"token ids must be a sequence of integers, got {type(ids).__name__}")
    try:
        a = np.asarray(ids)
    except (TypeError, ValueError) as e:
        raise ValueRangeError(f"token ids must be a 1-D sequence of integers ({e})") from None
    if a.size == 0:
        return []
    if a.ndim != 1 or not np.issubdtype(a.dtype, np.integer):
        raise ValueRangeError(f"token ids must be a 1-D sequence of integers, got shape {a.shape} dtype {a.dtype}")
    lo, hi = int(a.min()), int(a.max())
    if lo < 0 or hi >= vocab_size:
        raise ValueRangeError(f"token id {lo if lo < 0 else hi} is outside the vocabulary [0, {vocab_size - 1}]")
    return a.tolist()


def corpus_texts(corpus, what: str) -> list[str]:
    """A training corpus (a str or an iterable of str) as a list of texts, or a ConfigError naming it."""
    if isinstance(corpus, (bytes, bytearray)) or not isinstance(corpus, (str, Iterable)):
        hint = " (decode the bytes first)" if isinstance(corpus, (bytes, bytearray)) else ""
        raise ConfigError(f"{what} must be a string or an iterable of strings, got {type(corpus).__name__}{hint}")
    texts = [corpus] if isinstance(corpus, str) else list(corpus)
    bad = next((t for t in texts if not isinstance(t, str)), None)
    if bad is not None:
        raise ConfigError(f"{what} must be a string or an iterable of strings, but it holds an item of "
                          f"type {type(bad).__name__}")
    return texts


def check_special_tokens(special_tokens) -> list[str]:
    """``special_tokens`` as a list: a list or tuple of distinct non-empty strings (a bare str
    would otherwise be split into one special token per character)."""
    if isinstance(special_tokens, (str, bytes)):
        raise ConfigError(f"special_tokens must be a list of strings, got the {type(special_tokens).__name__} "
                          f"{special_tokens!r}; wrap it in a list: special_tokens=[{special_tokens!r}]")
    if not isinstance(special_tokens, (list, tuple)):
        raise ConfigError(f"special_tokens must be a list or tuple of strings, got "
                          f"{type(special_tokens).__name__}")
    specials = list(special_tokens)
    if (not all(isinstance(s, str) and s for s in specials)
            or len(set(specials)) != len(specials)):
        raise ConfigError("special tokens must be distinct non-empty strings")
    return specials


def _check_merges(merges) -> list[tuple[int, int]]:
    """``merges`` as a list of (left_id, right_id) int pairs, or a ConfigError naming the bad entry."""
    if isinstance(merges, (str, bytes)) or not isinstance(merges, Iterable):
        raise ConfigError(f"merges must be a list of (left_id, right_id) integer pairs, got "
                          f"{type(merges).__name__}")
    out = []
    for i, m in enumerate(merges):
        if (isinstance(m, (str, bytes)) or not isinstance(m, Sequence) and not isinstance(m, np.ndarray)
                or len(m) != 2 or not all(isinstance(x, numbers.Integral) and not isinstance(x, bool)
                                          for x in m)):
            raise ConfigError(f"merge {i} must be a (left_id, right_id) pair of integers, got {m!r}")
        out.append((int(m[0]), int(m[1])))
    return out


class BPETokenizer:
    """A trained BPE tokenizer.  Build with :meth:`train` or :meth:`load`."""

    def __init__(self, merges: Sequence[tuple[int, int]], *, mode: str = "byte",
                 alphabet: Sequence[str] | None = None, pattern: str = GPT2_PATTERN,
                 special_tokens: Sequence[str] = ()):
        if mode not in ("byte", "char"):
            raise ConfigError(f"BPE mode must be 'byte' or 'char', got {mode!r}")
        if mode == "char":
            if alphabet is None:
                raise ConfigError("a char-mode BPE tokenizer needs its alphabet")
            alphabet = list(alphabet)
            if any(len(c) != 1 for c in alphabet) or len(set(alphabet)) != len(alphabet):
                raise ConfigError("the alphabet must be distinct single characters")
            base: list = alphabet
        else:
            base = [bytes([b]) for b in range(256)]
        self.mode = mode
        self.alphabet = alphabet if mode == "char" else None
        self.pattern = pattern
        self.special_tokens = check_special_tokens(special_tokens)
        self.num_base = len(base)
        self.merges = _check_merges(merges)
        pieces = list(base)  # bytes (byte mode) or str (char mode) of every token
        for i, (a, b) in enumerate(self.merges):
            n = len(pieces)
            if not (0 <= a < n and 0 <= b < n):
                raise ValueRangeError(f"merge {i} = ({a}, {b}) refers to a token not yet defined "
                                      f"(ids must be < {n})")
            pieces.append(pieces[a] + pieces[b])
        self.special_ids = {s: len(pieces) + i for i, s in enumerate(self.special_tokens)}
        for s in self.special_tokens:
            pieces.append(s.encode("utf-8") if mode == "byte" else s)
        self._pieces = pieces
        # merges as 2-char strings chr(left) + chr(right), see _merge
        self._merge_strs = [chr(a) + chr(b) for a, b in self.merges]
        self._ranks = {p: i for i, p in enumerate(self._merge_strs)}
        if len(self._ranks) != len(self.merges):
            raise ValueRangeError("the merge list holds the same pair twice")
        self._char_ids = {c: chr(i) for i, c in enumerate(base)} if mode == "char" else None
        self._pat = compile_pattern(pattern)
        self._special_re = (re.compile("(" + "|".join(re.escape(s) for s in sorted(
            self.special_tokens, key=len, reverse=True)) + ")") if self.special_tokens else None)
        self._cache: dict[str, list[int]] = {}
        self._bcache: dict[str, list[int]] = {}

    # ------------------------------------------------------------------ training
    @classmethod
    def train(cls, corpus: str | Iterable[str], vocab_size: int, *, mode: str = "byte",
              pattern: str = GPT2_PATTERN, special_tokens: Sequence[str] = (),
              min_count: int = 1) -> "BPETokenizer":
        """Train on a string (or an iterable of strings) up to ``vocab_size`` tokens in all.

        ``vocab_size`` counts the base alphabet (256 bytes, or the corpus's
        characters in char mode), the merges and the special tokens.  Special
        tokens in the corpus are cut out before counting.
        """
        texts = corpus_texts(corpus, "the BPE training corpus")
        special_tokens = check_special_tokens(special_tokens)
        if sum(len(t) for t in texts) == 0:
            raise ValueRangeError("empty corpus: BPE training needs at least one character of text")
        split = (re.compile("|".join(re.escape(s) for s in sorted(special_tokens, key=len, reverse=True)))
                 if special_tokens else None)
        pat = compile_pattern(pattern)
        counts: Counter = Counter()
        for t in texts:
            for part in (split.split(t) if split else (t,)):
                counts.update(pat.findall(part))
        return cls.train_from_word_counts(counts, vocab_size, mode=mode, pattern=pattern,
                                          special_tokens=special_tokens, min_count=min_count)

    @classmethod
    def train_from_word_counts(cls, word_counts: Mapping[str, int], vocab_size: int, *,
                               mode: str = "byte", pattern: str = GPT2_PATTERN,
                               special_tokens: Sequence[str] = (), min_count: int = 1
                               ) -> "BPETokenizer":
        """Train from pre-token counts, e.g. ``{"hug": 10, "pug": 5, ...}`` (the lecture example)."""
        if mode not in ("byte", "char"):
            raise ConfigError(f"BPE mode must be 'byte' or 'char', got {mode!r}")
        special_tokens = check_special_tokens(special_tokens)
        if not isinstance(word_counts, Mapping):
            raise ConfigError(f"word_counts must be a mapping of pre-token -> count, got "
                              f"{type(word_counts).__name__}")
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, numbers.Integral):
            raise ConfigError(f"BPE vocab_size must be an integer, got {vocab_size!r}")
        if isinstance(min_count, bool) or not isinstance(min_count, numbers.Integral) or min_count < 1:
            raise ConfigError(f"min_count must be an integer >= 1, got {min_count!r}")
        items = [(w, int(c)) for w, c in word_counts.items() if w and c > 0]
        if not items:
            raise ValueRangeError("empty corpus: no pre-token with a positive count to train BPE on")
        if mode == "byte":
            alphabet = None
            words = [list(w.encode("utf-8", "surrogatepass")) for w, _ in items]
            key = _hf_byte_order()
        else:
            alphabet = sorted({c for w, _ in items for c in w})
            ids = {c: i for i, c in enumerate(alphabet)}
            words = [[ids[c] for c in w] for w, _ in items]
            key = list(range(len(alphabet)))
        base = len(key)
        num_merges = int(vocab_size) - base - len(special_tokens)
        if num_merges < 0:
            what = "256 bytes" if mode == "byte" else f"{base} characters"
            raise ConfigError(f"BPE vocab_size={vocab_size} is below the base alphabet: it must be at "
                              f"least {base + len(special_tokens)} = {what} + "
                              f"{len(special_tokens)} special token(s)")
        merges = learn_merges(words, [c for _, c in items], num_merges, key, min_count=min_count)
        return cls(merges, mode=mode, alphabet=alphabet, pattern=pattern, special_tokens=special_tokens)

    # ------------------------------------------------------------------ vocabulary
    @property
    def vocab_size(self) -> int:
        return len(self._pieces)

    def token_bytes(self, token_id: int) -> bytes:
        """The bytes a token stands for (UTF-8 of its text in char mode)."""
        p = self._pieces[check_ids([token_id], self.vocab_size)[0]]
        return p.encode("utf-8") if isinstance(p, str) else p

    def token_str(self, token_id: int) -> str:
        """Readable form: GPT-2 style ('Ġthe') in byte mode, the text itself in char mode."""
        p = self._pieces[check_ids([token_id], self.vocab_size)[0]]
        if isinstance(p, str):
            return p
        if token_id in self.special_ids.values():
            return p.decode("utf-8")
        return byte_token_str(p)

    def merge_strings(self) -> list[tuple[str, str]]:
        """The merges as pairs of readable token strings (like GPT-2's merges.txt)."""
        return [(self.token_str(a), self.token_str(b)) for a, b in self.merges]

    # ------------------------------------------------------------------ encoding
    def _merge(self, s: str) -> list[int]:
        """BPE of one pre-token held as a str of chr(base id): merge the lowest-rank
        pair everywhere (str.replace is left to right, non-overlapping) until none is left."""
        rget, pairs, base = self._ranks.get, self._merge_strs, self.num_base
        while len(s) > 1:
            r = min(map(rget, map(str.__add__, s, s[1:]), repeat(_INF)))
            if r == _INF:
                break
            s = s.replace(pairs[r], chr(base + r))
        return list(map(ord, s))

    def _char_base_str(self, tok: str) -> str:
        try:
            return "".join([self._char_ids[c] for c in tok])
        except KeyError as e:
            raise ValueRangeError(f"character {e.args[0]!r} is not in this char-mode BPE alphabet "
                                  f"({self.num_base} characters); use mode='byte' for open text") from None

    def _encode_ordinary(self, text: str, errors: str, cache: dict) -> list[int]:
        toks = self._pat.findall(text)
        got = list(map(cache.get, toks))
        if None in got:  # BPE each new distinct pre-token once, then look everything up again
            char_mode = self.mode == "char"
            for tok in {t for t, g in zip(toks, got) if g is None}:
                base = (self._char_base_str(tok) if char_mode
                        else tok.encode("utf-8", errors).decode("latin-1"))
                cache[tok] = self._merge(base)
            got = list(map(cache.get, toks))
            if len(cache) > _CACHE_MAX:
                cache.clear()
        return list(chain.from_iterable(got))

    def _encode(self, text: str, errors: str, cache: dict, allow_special: bool) -> list[int]:
        if not (allow_special and self._special_re is not None):
            return self._encode_ordinary(text, errors, cache)
        out: list[int] = []
        for i, part in enumerate(self._special_re.split(text)):
            if i % 2:
                out.append(self.special_ids[part])
            elif part:
                out.extend(self._encode_ordinary(part, errors, cache))
        return out

    def encode(self, text: str, *, allow_special: bool = True) -> list[int]:
        """Token ids of ``text``.  Special-token strings become their ids when ``allow_special``."""
        check_text(text)
        return self._encode(text, "surrogatepass", self._cache, allow_special)

    def encode_array(self, text: str, *, allow_special: bool = True) -> np.ndarray:
        """:meth:`encode` as an int32 array (a token stream for the models)."""
        return np.asarray(self.encode(text, allow_special=allow_special), dtype=np.int32)

    def encode_bytes(self, data: bytes, *, allow_special: bool = True) -> list[int]:
        """Token ids of arbitrary bytes (byte mode only); invalid UTF-8 is kept byte-exact."""
        if self.mode != "byte":
            raise ConfigError("encode_bytes needs a byte-mode BPE tokenizer")
        if not isinstance(data, (bytes, bytearray, memoryview)):
            hint = " (use encode for text)" if isinstance(data, str) else ""
            raise ConfigError(f"encode_bytes takes bytes, bytearray or memoryview, got "
                              f"{type(data).__name__}{hint}")
        if isinstance(data, memoryview) and data.itemsize != 1:
            raise ConfigError(f"encode_bytes takes a memoryview of bytes, got one of {data.itemsize}-byte "
                              f"items (format {data.format!r}); cast it with .cast('B') if you mean its raw bytes")
        text = bytes(data).decode("utf-8", "surrogateescape")
        return self._encode(text, "surrogateescape", self._bcache, allow_special)

    # ------------------------------------------------------------------ decoding
    def decode_bytes(self, ids) -> bytes:
        """The exact bytes the ids stand for."""
        ids = check_ids(ids, self.vocab_size)
        pieces = self._pieces
        if self.mode == "char":
            return "".join([pieces[i] for i in ids]).encode("utf-8", "surrogatepass")
        return b"".join([pieces[i] for i in ids])

    def decode(self, ids, errors: str = "replace") -> str:
        """Text of the ids.  ``errors`` handles byte sequences that are not valid UTF-8
        (use "surrogatepass" to get back strings holding lone surrogates)."""
        ids = check_ids(ids, self.vocab_size)
        if self.mode == "char":
            return "".join([self._pieces[i] for i in ids])
        return b"".join([self._pieces[i] for i in ids]).decode("utf-8", errors)

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike) -> None:
        """Write a JSON file with the merges, pre-tokenisation pattern and special tokens."""
        obj = {"type": "bpe", "mode": self.mode, "pattern": self.pattern,
               "special_tokens": self.special_tokens,
               "merges": [list(m) for m in self.merges],
               "merge_strings": [list(m) for m in self.merge_strings()]}
        if self.mode == "char":
            obj["alphabet"] = self.alphabet
        ser.write_json(path, obj)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "BPETokenizer":
        path = os.fspath(path)
        obj = ser.read_json(path, "bpe")
        mode = ser.field(obj, "mode", str, path)
        pattern = ser.field(obj, "pattern", str, path)
        specials = ser.string_list(obj, "special_tokens", path)
        merges = ser.field(obj, "merges", list, path)
        if not all(isinstance(m, list) and len(m) == 2 and all(type(x) is int for x in m)
                   for m in merges):
            raise DataFileError(f"tokenizer file {path!r} is damaged: 'merges' must be a list of "
                                f"[left_id, right_id] integer pairs")
        alphabet = ser.string_list(obj, "alphabet", path) if mode == "char" else None
        try:
            tok = cls(merges, mode=mode, alphabet=alphabet, pattern=pattern, special_tokens=specials)
        except (ConfigError, ValueRangeError) as e:
            raise DataFileError(f"tokenizer file {path!r} is damaged: {e}") from e
        if "merge_strings" in obj and obj["merge_strings"] != [list(m) for m in tok.merge_strings()]:
            raise DataFileError(f"tokenizer file {path!r} is damaged: 'merge_strings' disagree with "
                                f"'merges'")
        return tok

    def __repr__(self) -> str:
        return (f"BPETokenizer(mode={self.mode!r}, vocab_size={self.vocab_size}, "
                f"merges={len(self.merges)}, special_tokens={self.special_tokens})")
