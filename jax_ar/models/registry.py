"""Name -> model constructor, so generic code and tests can iterate over all models.

Each model file registers itself with :func:`register`, giving a builder
(``build(**kwargs) -> model``) and a tiny configuration for the universal
tests: small enough that every sequence can be enumerated (binary models:
at most ~10 elements; categorical: V**D at most a few hundred).
"""
from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re
from typing import Any, Callable

from jax_ar import errors


@dataclasses.dataclass(frozen=True)
class Entry:
    name: str
    build: Callable[..., Any]
    tiny: dict
    trainable: bool = True
    # build kwargs whose default changed: {key: (current default, value a run saved without the key meant,
    # or a function of its saved kwargs giving that value)}
    changed_defaults: dict = dataclasses.field(default_factory=dict)


_REGISTRY: dict[str, Entry] = {}
_LOADED = False
IMPORT_ERRORS: dict[str, str] = {}  # module -> error; a broken file fails one test, not all


def register(name: str, *, tiny: dict, trainable: bool = True, changed_defaults: dict | None = None):
    """Decorator for a builder function ``build(**kwargs) -> ARModel``.

    ``changed_defaults = {key: (current, legacy)}`` names build arguments whose
    default changed: new runs record the current default explicitly
    (:func:`record_kwargs`), and a saved run that lacks the key is rebuilt
    with the value it was trained under (:func:`saved_kwargs`).  ``legacy`` may
    be a function of the saved kwargs (when the old value depends on them).
    """
    def deco(fn):
        if name in _REGISTRY and _REGISTRY[name].build is not fn:
            raise ValueError(f"model name {name!r} registered twice")
        _REGISTRY[name] = Entry(name, fn, dict(tiny), trainable, dict(changed_defaults or {}))
        return fn
    return deco


def _load_all():
    global _LOADED
    if _LOADED:
        return
    import jax_ar.models as pkg
    for m in pkgutil.iter_modules(pkg.__path__):
        if m.name != "registry" and not m.name.startswith("_"):
            try:
                importlib.import_module(f"jax_ar.models.{m.name}")
            except Exception as e:  # reported by tests/test_registry.py
                IMPORT_ERRORS[m.name] = f"{type(e).__name__}: {e}"
    _LOADED = True


def names() -> list[str]:
    _load_all()
    return sorted(_REGISTRY)


def entry(name: str) -> Entry:
    _load_all()
    if name not in _REGISTRY:
        raise errors.ConfigError(f"unknown model {name!r}; registered models: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


class UnknownOptionError(errors.ConfigError):
    """A model builder was given a keyword it does not take."""


def _accepted(fn) -> list[str]:
    """Keyword names ``fn`` takes (following ``**kw`` wrappers to the builder they call is not
    possible in general: then only the named ones)."""
    return [p.name for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def build(name: str, **kwargs):
    e = entry(name)
    try:
        return e.build(**kwargs)
    except TypeError as err:
        m = re.search(r"unexpected keyword argument '(\w+)'", str(err))
        if m is None or m.group(1) not in kwargs:       # a bug inside a builder stays a TypeError
            raise
        known = _accepted(e.build)
        hint = f"; it takes {', '.join(known)}" if known else ""
        raise UnknownOptionError(f"model {name!r} has no option {m.group(1)!r}{hint}") from None


def _fill(name: str, kwargs: dict, which: int) -> dict:
    if name not in _REGISTRY:        # import every model file only when the caller has not
        _load_all()
    e = _REGISTRY.get(name)
    extra = {k: v[which](kwargs) if callable(v[which]) else v[which]
             for k, v in (e.changed_defaults if e else {}).items() if k not in kwargs}
    return {**kwargs, **extra}


def record_kwargs(name: str, kwargs: dict) -> dict:
    """``kwargs`` as a new run records them: changed defaults written out explicitly."""
    return _fill(name, kwargs, 0)


def saved_kwargs(name: str, kwargs: dict) -> dict:
    """The build kwargs of a saved run: a changed default it lacks takes its pre-change value."""
    return _fill(name, kwargs, 1)


def build_tiny(name: str):
    e = entry(name)
    return e.build(**e.tiny)
