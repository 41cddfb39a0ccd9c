"""Locating data files and failing clearly when they are missing or corrupt.

The data directory is, in order: the ``data_dir`` argument (``--data_dir``),
the environment variable ``JAX_AR_DATA_DIR``, then the default
``../shared/data`` next to the repository (checked relative to the current
directory and to the installed package).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from jax_ar.errors import DataFileError

ENV_VAR = "JAX_AR_DATA_DIR"

# sha256 of the files the TFDS builders download (TFDS 4.9.10 checksums.tsv)
SHA256 = {
    "binarized_mnist/binarized_mnist_train.amat": "ad693b29f94c14277b095f5238ddefbbdaaae0939789dd2f4f0205278cee3e4d",
    "binarized_mnist/binarized_mnist_valid.amat": "1de3d397c40fe8eeb33dafd4099a1f665ec01e96d9be234aaeeac8a34930e2e2",
    "binarized_mnist/binarized_mnist_test.amat": "e6687bfea3f820c174f33b7865140b2a2dd2930ef786f35d45795fc193b5ab2c",
    "tiny_shakespeare/input.txt": "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
}


def _default_candidates() -> list[Path]:
    pkg_root = Path(__file__).resolve().parents[2]
    return [Path.cwd() / ".." / "shared" / "data", pkg_root / ".." / "shared" / "data"]


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The data directory from the argument, ``$JAX_AR_DATA_DIR``, or the default ``../shared/data``."""
    if data_dir:
        p = Path(data_dir).expanduser()
        if not p.is_dir():
            raise DataFileError(f"data directory {str(p)!r} (from --data_dir) does not exist")
        return p.resolve()
    env = os.environ.get(ENV_VAR)
    if env:
        p = Path(env).expanduser()
        if not p.is_dir():
            raise DataFileError(f"data directory {str(p)!r} (from ${ENV_VAR}) does not exist")
        return p.resolve()
    for c in _default_candidates():
        if c.is_dir():
            return c.resolve()
    raise DataFileError("no data directory found: pass --data_dir=DIR or set "
                        f"${ENV_VAR}; looked for the default in "
                        + ", ".join(str(c.resolve()) for c in _default_candidates()))


def data_available(data_dir=None) -> bool:
    try:
        resolve_data_dir(data_dir)
        return True
    except DataFileError:
        return False


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def require_file(data_dir, relpath: str, *, verify: bool = False) -> Path:
    """Path of ``relpath`` inside the data directory, or a DataFileError naming it.

    With ``verify``, the file's sha256 must match the known sum.
    """
    root = resolve_data_dir(data_dir)
    p = root / relpath
    expect = SHA256.get(relpath)
    hint = f" (expected sha256 {expect})" if expect else ""
    if not p.is_file():
        raise DataFileError(f"missing data file {relpath!r}: looked for {str(p)!r}{hint}")
    if verify and expect and sha256_of(p) != expect:
        raise DataFileError(f"corrupt data file {str(p)!r}: sha256 {sha256_of(p)} differs from the "
                            f"expected {expect}")
    return p


def corrupt(p: Path, relpath: str, why: str) -> DataFileError:
    expect = SHA256.get(relpath)
    hint = f"; expected sha256 {expect}" if expect else ""
    return DataFileError(f"corrupt data file {str(p)!r}: {why}{hint}")
