"""Exception types and input checks shared by the whole library.

Every user-facing check raises a subclass of :class:`JaxArError` (itself a
``ValueError``) with a message that names the offending value and the allowed
range.  Checks run on concrete (host) arrays at public entry points; inside
``jit`` they are skipped, because values are not known at trace time.
"""
from __future__ import annotations

import math
from typing import Any

import jax
import numpy as np


class JaxArError(ValueError):
    """Base class of every error jax_ar raises on bad input."""


class ShapeError(JaxArError):
    """An array has the wrong shape or dtype."""


class ValueRangeError(JaxArError):
    """Values lie outside the allowed set (token ids, binary pixels, labels, NaN)."""


class ConfigError(JaxArError):
    """A configuration key, value or budget is invalid."""


class DataFileError(JaxArError, FileNotFoundError):
    """A data file is missing, unreadable or corrupt."""


class CheckpointError(JaxArError):
    """A run directory or checkpoint cannot be used."""


def is_traced(x: Any) -> bool:
    """True when ``x`` is an abstract value inside a jax transformation."""
    return isinstance(x, jax.core.Tracer)


def check_finite(x: Any, name: str = "input") -> None:
    """Raise :class:`ValueRangeError` if a concrete float array holds NaN or Inf."""
    if is_traced(x):
        return
    a = np.asarray(x)
    if np.issubdtype(a.dtype, np.floating) and not np.all(np.isfinite(a)):
        bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
        raise ValueRangeError(f"{name} holds {bad} NaN/Inf value(s); inputs must be finite")


def check_sequences(x: Any, *, seq_len: int, kind: str, vocab_size: int | None = None,
                    name: str = "x") -> None:
    """Check a batch of sequences ``x_BxD`` against a model's event spec.

    kind: "binary" (values in {0,1}), "categorical" (integer ids in
    [0, vocab_size)), or "continuous" (finite floats).
    """
    if is_traced(x):
        return
    a = np.asarray(x)
    if a.ndim != 2:
        raise ShapeError(f"{name} must have shape [batch, {seq_len}] but has shape {a.shape}")
    if a.shape[0] == 0:
        raise ShapeError(f"{name} holds no sequences (shape {a.shape}); pass at least one")
    if a.shape[1] != seq_len:
        raise ShapeError(f"{name} has sequence length {a.shape[1]} but this model is built for "
                         f"length {seq_len} (shape must be [batch, {seq_len}], got {a.shape})")
    if a.dtype == np.bool_:
        a = a.astype(np.int32)
    if not (np.issubdtype(a.dtype, np.number)):
        raise ShapeError(f"{name} has dtype {a.dtype}; expected a numeric array")
    if kind == "continuous":
        check_finite(a, name)
        return
    if np.issubdtype(a.dtype, np.floating):
        check_finite(a, name)
        if not np.all(a == np.round(a)):
            raise ValueRangeError(f"{name} holds non-integer values for a {kind} model")
    if kind == "binary":
        bad = (a != 0) & (a != 1)
        if bad.any():
            v = a[bad].flat[0].item()
            raise ValueRangeError(f"{name} holds value {v!r} but a Bernoulli (binary) model accepts "
                                  f"only 0 and 1 ({int(bad.sum())} bad entries)")
    elif kind == "categorical":
        assert vocab_size is not None
        bad = (a < 0) | (a >= vocab_size)
        if bad.any():
            v = a[bad].flat[0].item()
            raise ValueRangeError(f"{name} holds token id {v!r} outside the vocabulary "
                                  f"[0, {vocab_size - 1}] ({int(bad.sum())} bad entries)")
    else:
        raise ConfigError(f"unknown event kind {kind!r}")


def check_labels(cond: Any, *, num_classes: int, batch: int | None = None,
                 name: str = "label") -> None:
    """Check class labels for a conditional model (``num_classes`` > 0)."""
    if cond is None or is_traced(cond):
        if cond is None and num_classes > 0:
            raise ValueRangeError(f"this model is conditional on {num_classes} classes: "
                                  f"pass {name}s (integers in [0, {num_classes - 1}])")
        return
    if num_classes == 0:
        raise ValueRangeError(f"this model is unconditional but {name}s were given")
    a = np.asarray(cond)
    if a.ndim != 1 or (batch is not None and a.shape[0] != batch):
        raise ShapeError(f"{name}s must have shape [{batch if batch is not None else 'batch'}], "
                         f"got {a.shape}")
    if not np.issubdtype(a.dtype, np.integer):
        raise ShapeError(f"{name}s must be integers, got dtype {a.dtype}")
    bad = (a < 0) | (a >= num_classes)
    if bad.any():
        raise ValueRangeError(f"{name} {a[bad].flat[0].item()} is outside the range [0, {num_classes - 1}]")


def is_integer(value: Any) -> bool:
    """A Python or NumPy integer (a bool is not)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check_integer(value: Any, name: str, *, lo: int = 1, hint: str = "") -> int:
    """``value`` as an int, or a ConfigError ``"<name> must be an integer >= <lo><hint>, got <value>"``."""
    if not is_integer(value) or value < lo:
        raise ConfigError(f"{name} must be an integer >= {lo}{hint}, got {value!r}")
    return int(value)


def check_positive(value: float, name: str, *, allow_zero: bool = False) -> None:
    ok = value >= 0 if allow_zero else value > 0
    if not ok or (isinstance(value, float) and math.isnan(value)):
        raise ConfigError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")
