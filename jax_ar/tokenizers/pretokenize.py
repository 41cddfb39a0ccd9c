"""Pre-tokenisation: the GPT-2 splitting pattern and the GPT-2 byte<->unicode table.

BPE never merges across pre-token boundaries, so the pattern decides what a
token can span.  The GPT-2 pattern needs Unicode classes (``\\p{L}``, ``\\p{N}``)
that only the third-party ``regex`` module understands.  When ``regex`` is not
installed we fall back to an equivalent pattern for Python's ``re``:

* ``\\p{L}``  ->  ``[^\\W\\d_]``  (word characters that are neither decimal digits nor ``_``)
* ``\\p{N}``  ->  ``\\d``         (decimal digits)
* other      ->  ``[^\\s\\w]|_``

The two agree on ASCII text (so on Tiny Shakespeare exactly, see the tests);
on exotic scripts they may split differently (e.g. ``re`` counts superscript
digits and letter-like numerals as letters).  Both patterns cover every
character of every string, so encode/decode round-trips either way.
"""
from __future__ import annotations

import functools
import re as _re

try:  # optional, faster and exact Unicode classes
    import regex as _regex
except ImportError:  # pragma: no cover - depends on the environment
    _regex = None

GPT2_PATTERN = (r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")
GPT2_PATTERN_RE = (r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+""")

HAVE_REGEX = _regex is not None


@functools.lru_cache(maxsize=32)
def compile_pattern(pattern: str):
    """Compile a pre-tokenisation pattern with ``regex`` if present, else ``re``.

    The GPT-2 pattern is swapped for its ``re`` equivalent when ``regex`` is
    missing; any other pattern is handed to whichever engine is available.
    """
    if _regex is not None:
        return _regex.compile(pattern)
    if pattern == GPT2_PATTERN:
        pattern = GPT2_PATTERN_RE
    return _re.compile(pattern)


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
