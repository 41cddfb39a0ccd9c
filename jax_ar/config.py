"""Frozen-dataclass configs with typed ``--key=value`` overrides.

Nested dataclass fields are addressed with dots (``--train.lr=3e-4``).  An
unknown key, or a value that does not parse as the field's type, is a
:class:`jax_ar.errors.ConfigError` that lists the valid keys.
"""
from __future__ import annotations

import dataclasses
import json
import types
import typing
from typing import Any

from jax_ar.errors import ConfigError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def flat_keys(cfg_or_cls, prefix: str = "") -> dict[str, Any]:
    """Map of dotted key -> type for every (nested) field."""
    cls = cfg_or_cls if isinstance(cfg_or_cls, type) else type(cfg_or_cls)
    hints = typing.get_type_hints(cls)
    out = {}
    for f in dataclasses.fields(cls):
        t = hints[f.name]
        if dataclasses.is_dataclass(t):
            out.update(flat_keys(t, prefix + f.name + "."))
        else:
            out[prefix + f.name] = t
    return out


def _coerce(key: str, text: str, t):
    origin = typing.get_origin(t)
    args = typing.get_args(t)
    if origin in (typing.Union, types.UnionType):
        if text.lower() in ("none", "null", "") and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(key, text, inner[0])
    if origin is typing.Literal:
        if text not in args:
            raise ConfigError(f"--{key}={text!r}: choose one of {', '.join(map(str, args))}")
        return text
    if origin in (tuple, list):
        parts = [p for p in text.strip("()[]").split(",") if p.strip()]
        elt = args[0] if args else str
        vals = [_coerce(key, p.strip(), elt) for p in parts]
        return tuple(vals) if origin is tuple else vals
    try:
        if t is bool:
            if text.lower() in _TRUE:
                return True
            if text.lower() in _FALSE:
                return False
            raise ValueError
        if t is int:
            f = float(text)
            if not f.is_integer():   # also inf and nan
                raise ValueError
            return int(f)
        if t is float:
            return float(text)
        if t is str:
            return text
    except ValueError:
        raise ConfigError(f"--{key}={text!r} is not a valid {getattr(t, '__name__', t)}") from None
    raise ConfigError(f"--{key}: unsupported field type {t}")


def _replace_dotted(cfg, key: str, value):
    head, _, rest = key.partition(".")
    if rest:
        return dataclasses.replace(cfg, **{head: _replace_dotted(getattr(cfg, head), rest, value)})
    return dataclasses.replace(cfg, **{head: value})


def apply_overrides(cfg, overrides: dict[str, str]):
    """Return ``cfg`` with string overrides parsed to each field's type."""
    keys = flat_keys(cfg)
    for k, text in overrides.items():
        if k not in keys:
            raise ConfigError(f"unknown config key {k!r}; valid keys: {', '.join(sorted(keys))}")
        cfg = _replace_dotted(cfg, k, _coerce(k, text, keys[k]))
    validate(cfg)
    return cfg


# ------------------------------------------------ field checks for a config's validate()
def check(cfg, keys: str, ok, want: str) -> None:
    """ConfigError for the first of the space-separated ``keys`` whose value (each element of a tuple) fails ``ok``."""
    for k in keys.split():
        v = getattr(cfg, k)
        if not all(ok(x) for x in (v if isinstance(v, tuple) else (v,))):
            raise ConfigError(f"{k} must be {want}, got {v!r}")


def at_least(cfg, lo, keys: str) -> None:
    check(cfg, keys, lambda v: v >= lo, f">= {lo}")


def positive(cfg, keys: str) -> None:
    check(cfg, keys, lambda v: v > 0, "> 0")


def within(cfg, keys: str, lo, hi) -> None:
    check(cfg, keys, lambda v: lo <= v <= hi, f"in [{lo}, {hi}]")


def one_of(cfg, keys: str, choices) -> None:
    check(cfg, keys, lambda v: v in choices, "one of " + ", ".join(map(str, choices)))


def nonempty(cfg, keys: str) -> None:
    for k in keys.split():
        if not getattr(cfg, k):
            raise ConfigError(f"{k} must not be empty")


def validate(cfg) -> None:
    """Call ``validate()`` on the config and every nested config that defines one."""
    for f in dataclasses.fields(cfg):
        v = getattr(cfg, f.name)
        if dataclasses.is_dataclass(v):
            validate(v)
    if hasattr(cfg, "validate"):
        cfg.validate()


def to_dict(cfg) -> dict:
    return dataclasses.asdict(cfg)


def from_dict(cls, d: dict):
    """Rebuild a (nested) config dataclass from :func:`to_dict` output; unknown keys are errors."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    extra = set(d) - names
    if extra:
        raise ConfigError(f"unknown config key(s) {sorted(extra)} for {cls.__name__}; valid: {sorted(names)}")
    kw = {}
    for k, v in d.items():
        t = hints[k]
        if dataclasses.is_dataclass(t):
            v = from_dict(t, v)
        elif isinstance(v, list):
            v = tuple(v)
        kw[k] = v
    return cls(**kw)


def dumps(cfg) -> str:
    return json.dumps(to_dict(cfg), indent=2, sort_keys=True)
