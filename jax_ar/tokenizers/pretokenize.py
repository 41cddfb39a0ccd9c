"""Pre-tokenisation: the GPT-2 splitting pattern and the GPT-2 byte<->unicode table.

BPE never merges across pre-token boundaries, so the pattern decides what a
token can span.  The GPT-2 pattern needs Unicode classes (``\\p{L}``, ``\\p{N}``)
that only the third-party ``regex`` module understands.  ``GPT2_PATTERN_RE`` is
an equivalent pattern for Python's built-in ``re``:

* letters  ``\\p{L}`` -> ``[^\\W\\d_²³¹¼½¾]``
* numbers  ``\\p{N}`` -> ``[\\d²³¹¼½¾]``
* spaces   ``\\s``    -> ``[^\\S\\x1c-\\x1f]`` (``re`` counts U+001C..U+001F as space, ``regex`` does not)
* other    everything else

The two patterns classify every character below U+0100 identically (checked
exhaustively in the tests), so they split any Latin-1 text -- Tiny Shakespeare
included -- the same way.  ``re`` is several times faster there, so
:class:`Pretokenizer` uses it for Latin-1 text and ``regex`` (when installed)
for anything else.  Without ``regex``, ``re`` is used throughout; it then may
split exotic scripts differently from GPT-2 (e.g. letter-like numerals), but
both patterns cover every character, so encode/decode round-trips either way.
"""
from __future__ import annotations

import functools
import re as _re

from jax_ar.errors import ConfigError

try:  # optional, faster and exact Unicode classes
    import regex as _regex
except ImportError:  # pragma: no cover - depends on the environment
    _regex = None

GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""

_RE_L = r"[^\W\d_\xb2\xb3\xb9\xbc-\xbe]"
_RE_N = r"[\d\xb2\xb3\xb9\xbc-\xbe]"
_RE_S = r"[^\S\x1c-\x1f]"
_RE_O = r"(?:[^\s\w]|[_\x1c-\x1f])"
GPT2_PATTERN_RE = (r"'s|'t|'re|'ve|'m|'ll|'d"
                   rf"| ?{_RE_L}+| ?{_RE_N}+| ?{_RE_O}+|{_RE_S}+(?![\S\x1c-\x1f])|{_RE_S}+")

HAVE_REGEX = _regex is not None


class Pretokenizer:
    """Splitter for one pattern; picks the fastest exact engine for each text."""

    def __init__(self, pattern: str):
        self.pattern = pattern
        if pattern == GPT2_PATTERN:
            self._latin1 = _re.compile(GPT2_PATTERN_RE)
            self._other = _regex.compile(pattern) if _regex is not None else self._latin1
        else:
            self._other = (_regex or _re).compile(pattern)
            self._latin1 = self._other

    def findall(self, text: str) -> list[str]:
        if self._latin1 is not self._other and (text.isascii() or max(text) <= "\xff"):
            return self._latin1.findall(text)
        return self._other.findall(text)


@functools.lru_cache(maxsize=32)
def compile_pattern(pattern: str) -> Pretokenizer:
    """A (cached) :class:`Pretokenizer` for ``pattern``; a clear error for an invalid one."""
    if not isinstance(pattern, str):
        raise ConfigError(f"the pre-tokenizer pattern must be a str, got {type(pattern).__name__}")
    try:
        return Pretokenizer(pattern)
    except Exception as e:                      # re.error / regex.error
        raise ConfigError(f"invalid pre-tokenizer pattern {pattern!r}: {e}") from None


def engine_name() -> str:
    return "regex" if _regex is not None else "re"


def pretokenize(text: str, pattern: str = GPT2_PATTERN) -> list[str]:
    """Split ``text`` into pre-tokens; ``"".join(result) == text`` for the GPT-2 pattern."""
    return compile_pattern(pattern).findall(text)


@functools.lru_cache(maxsize=1)
def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from the 256 byte values to printable characters.

    Printable Latin-1 bytes map to themselves; the rest (control bytes, space,
    ...) map to U+0100 onwards.  Used to show byte-level tokens readably and to
    order the base alphabet the way Hugging Face ``tokenizers`` does.
    """
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
          + list(range(ord("®"), ord("ÿ") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def byte_token_str(data: bytes) -> str:
    """Readable GPT-2 style string of a byte token (e.g. b' the' -> 'Ġthe')."""
    table = bytes_to_unicode()
    return "".join(table[b] for b in data)
