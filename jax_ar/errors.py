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
import jax.numpy as jnp
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
    if jnp.issubdtype(a.dtype, jnp.floating) and not np.all(np.isfinite(a)):
        bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
        raise ValueRangeError(f"{name} holds {bad} NaN/Inf value(s); inputs must be finite")


def check_sequences(x: Any, *, seq_len: int, kind: str, vocab_size: int | None = None,
                    name: str = "x") -> None:
    """Check a batch of sequences ``x_BxD`` against a model's event spec.

    kind: "binary" (values in {0,1}), "categorical" (integer ids in
    [0, vocab_size)), or "continuous" (finite floats).  Shape and dtype are
    checked on traced arrays too (they are static under jit/vmap); values
    only on concrete ones.
    """
    traced = is_traced(x)
    a = x if traced else np.asarray(x)
    where = (" (if this runs inside jax.vmap: map over an axis in front of [batch, length], not over the batch)"
             if traced else "")
    if a.ndim != 2:
        raise ShapeError(f"{name} must have shape [batch, {seq_len}] but has shape {tuple(a.shape)}{where}")
    if a.shape[0] == 0:
        raise ShapeError(f"{name} holds no sequences (shape {tuple(a.shape)}); pass at least one")
    if a.shape[1] != seq_len:
        raise ShapeError(f"{name} has sequence length {a.shape[1]} but this model is built for "
                         f"length {seq_len} (shape must be [batch, {seq_len}], got {tuple(a.shape)})")
    if a.dtype == np.bool_:
        if traced:
            return
        a = a.astype(np.int32)
    # jnp.issubdtype knows bfloat16 (and the other ml_dtypes) as floating
    if not jnp.issubdtype(a.dtype, jnp.number) or jnp.issubdtype(a.dtype, jnp.complexfloating):
        raise ShapeError(f"{name} has dtype {a.dtype}; expected a real numeric array")
    if traced:
        return
    if kind == "continuous":
        check_finite(a, name)
        return
    if jnp.issubdtype(a.dtype, jnp.floating):
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
    if cond is None:
        if num_classes > 0:
            raise ValueRangeError(f"this model is conditional on {num_classes} classes: "
                                  f"pass {name}s (integers in [0, {num_classes - 1}])")
        return
    if num_classes == 0:
        raise ValueRangeError(f"this model is unconditional but {name}s were given")
    traced = is_traced(cond)
    a = cond if traced else np.asarray(cond)
    if a.ndim != 1 or (batch is not None and a.shape[0] != batch):
        raise ShapeError(f"{name}s must have shape [{batch if batch is not None else 'batch'}], "
                         f"got {tuple(a.shape)}")
    if not jnp.issubdtype(a.dtype, jnp.integer):
        raise ShapeError(f"{name}s must be integers, got dtype {a.dtype}")
    if traced:
        return
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


def check_key(key: Any, name: str = "key") -> None:
    """A PRNG key (``jax.random.PRNGKey(seed)`` or ``jax.random.key(seed)``), not a bare seed."""
    if is_traced(key):
        return
    dtype = getattr(key, "dtype", None)
    if dtype is not None and (jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key)
                              or (dtype == np.uint32 and np.shape(key)[-1:] == (2,))):
        return
    got = f"{key!r}" if np.size(key) <= 4 else f"of shape {np.shape(key)}"
    raise ConfigError(f"{name} must be a PRNG key such as jax.random.PRNGKey(0), "
                      f"got {type(key).__name__} {got}")


def check_positive(value: float, name: str, *, allow_zero: bool = False) -> None:
    ok = value >= 0 if allow_zero else value > 0
    if not ok or (isinstance(value, float) and math.isnan(value)):
        raise ConfigError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")
