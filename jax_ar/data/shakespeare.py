"""Tiny Shakespeare (char-rnn), 1,115,394 characters.

``split(text, scheme)``: "tfds" = first 90% / next 5% / last 5% (TFDS
``tiny_shakespeare``); "nanogpt" = first 90% train / last 10% validation
(nanoGPT ``shakespeare_char``; its test split is empty).
"""
from __future__ import annotations

import os

import numpy as np

from jax_ar.data.files import corrupt, require_file
from jax_ar.errors import ConfigError

RELPATH = "tiny_shakespeare/input.txt"
NUM_CHARS = 1115394
ALLOW_OTHER_TEXT = "JAX_AR_ALLOW_OTHER_TEXT"   # "1": accept a text of another length in its place


def load_text(data_dir=None) -> str:
    p = require_file(data_dir, RELPATH)
    try:
        text = p.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise corrupt(p, RELPATH, f"not UTF-8 text ({e})") from None
    if not text:
        raise corrupt(p, RELPATH, "the file is empty")
    if len(text) != NUM_CHARS and os.environ.get(ALLOW_OTHER_TEXT) != "1":
        # a truncated or edited file would move every split and every figure, silently
        raise corrupt(p, RELPATH, f"{len(text):,} characters, Tiny Shakespeare has {NUM_CHARS:,} (to train on "
                                  f"another text on purpose, set {ALLOW_OTHER_TEXT}=1)")
    return text


def split(text: str, scheme: str = "tfds") -> dict[str, str]:
    n = len(text)
    if scheme == "tfds":
        a, b = int(n * 0.9), int(n * 0.95)
        return {"train": text[:a], "validation": text[a:b], "test": text[b:]}
    if scheme == "nanogpt":
        a = int(n * 0.9)
        return {"train": text[:a], "validation": text[a:], "test": ""}
    raise ConfigError(f"unknown split scheme {scheme!r}; choose 'tfds' (90/5/5) or 'nanogpt' (90/10)")


def char_vocab(text: str) -> list[str]:
    return sorted(set(text))


def encode_chars(text: str, vocab: list[str]) -> np.ndarray:
    table = {c: i for i, c in enumerate(vocab)}
    try:
        return np.fromiter((table[c] for c in text), np.int32, len(text))
    except KeyError as e:
        raise ConfigError(f"character {e.args[0]!r} is not in the vocabulary") from None
