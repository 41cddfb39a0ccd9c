"""Binarized MNIST with the fixed binarization of Larochelle & Murray (2011).

Reads the ``.amat`` files directly (one image a line, 784 space-separated
0/1 digits): ``load("train"|"valid"|"test", data_dir) -> uint8 [N, 784]``.
"""
from __future__ import annotations

import numpy as np

from jax_ar.data.files import corrupt, require_file

SPLITS = {"train": 50000, "valid": 10000, "validation": 10000, "test": 10000}
SHAPE = (28, 28)
D = 784


def relpath(split: str) -> str:
    name = "valid" if split == "validation" else split
    return f"binarized_mnist/binarized_mnist_{name}.amat"


def parse_amat(raw: bytes, *, where: str = "<bytes>", relpath_: str = "") -> np.ndarray:
    """Parse the ``.amat`` text format into uint8 [N, 784]; raise a DataFileError if malformed."""
    from pathlib import Path
    raw = raw.replace(b"\r\n", b"\n")
    if not raw.endswith(b"\n"):
        raw += b"\n"
    line = 2 * D
    if len(raw) % line != 0:
        raise corrupt(Path(where), relpath_, f"size {len(raw)} bytes is not a whole number of "
                      f"784-pixel lines ({line} bytes each)")
    a = np.frombuffer(raw, np.uint8).reshape(-1, line)
    seps = a[:, 1::2]
    if not (np.all(seps[:, :-1] == ord(" ")) and np.all(seps[:, -1] == ord("\n"))):
        raise corrupt(Path(where), relpath_, "expected 784 space-separated digits per line")
    x = a[:, ::2] - ord("0")
    if x.max(initial=0) > 1:
        raise corrupt(Path(where), relpath_, "pixel values other than 0 and 1")
    return np.ascontiguousarray(x)


def load(split: str, data_dir=None) -> np.ndarray:
    """uint8 [N, 784] images of one split ("train", "valid"/"validation", "test")."""
    from jax_ar.errors import ConfigError
    if split not in SPLITS:
        raise ConfigError(f"unknown binarized MNIST split {split!r}; choose from train, valid, test")
    rp = relpath(split)
    p = require_file(data_dir, rp)
    x = parse_amat(p.read_bytes(), where=str(p), relpath_=rp)
    if x.shape[0] != SPLITS[split]:
        raise corrupt(p, rp, f"{x.shape[0]} images, expected {SPLITS[split]}")
    return x
