"""Keeping every write inside the run directory.

A run directory handed over by someone else may hold symbolic links.  Before
writing, :func:`guard` refuses any of the run directory's fixed names that is
a symlink or resolves outside the directory, so no config, checkpoint or
metrics file is ever written elsewhere through it.
"""
from __future__ import annotations

from pathlib import Path

from jax_ar.errors import CheckpointError

FIXED_NAMES = ("config.json", "run.json", "result.json", "metrics.jsonl", "ckpt", "best", "corrupt")


def guard(workdir) -> Path:
    d = Path(workdir)
    if d.is_symlink():
        raise CheckpointError(f"--workdir {str(d)!r} is a symbolic link; give the real directory")
    root = d.resolve()
    for name in FIXED_NAMES:
        p = d / name
        if p.is_symlink():
            raise CheckpointError(f"{str(p)!r} is a symbolic link; jax_ar writes only inside the run "
                                  f"directory and will not follow it")
        if p.exists() and root not in p.resolve().parents:
            raise CheckpointError(f"{str(p)!r} resolves outside the run directory {str(root)!r}")
    return d
