"""Decoding strategies: small frozen dataclasses ``pick(key, logits_BxV) -> tokens_B``.

Each is a pure, hashable value usable as ``pick=`` in :func:`jax_ar.sampling.sample`
and :func:`jax_ar.generation.generate` (inside ``lax.scan``; equal settings share
one compilation).  All work on logits of a categorical distribution, in float32.

* ``Greedy()``             argmax (the temperature -> 0 limit of sampling).
* ``Sample(temperature)``  softmax(logits / T); T = 1 is pure (ancestral) sampling.
* ``TopK(k, temperature)`` sample among the k most likely tokens, renormalised.
* ``TopP(p, temperature)`` nucleus: the smallest set of most likely tokens whose
  probability reaches p, renormalised; p = 1 keeps every token.

The sampling strategies draw by the Gumbel-max trick, split in two so the
random numbers can be drawn before a generation loop: ``noise(key, shape)``
gives the Gumbel noise a step needs (for logits of ``shape``) and
``with_noise(g, logits)`` picks with it; ``pick(key, logits)`` is the two in
turn.  :func:`jax_ar.generation.generate` draws every step's noise in one
vectorised call before its ``lax.scan`` (identical values: each step keeps its
own key), because on CPU each random draw inside the loop is itself a small
rolled loop.

The strategies read logits over token ids.  A model whose ``out`` is something
else (a Bernoulli logit, a discretized logistic mixture's parameters) is decoded
through :func:`for_model`, which turns ``out`` into log-probabilities over its
values first; :func:`jax_ar.sampling.sample`, :func:`jax_ar.generation.generate`
and :func:`jax_ar.beam_search.beam_search` do this themselves.  Continuous
models have no tokens to pick: they raise :class:`jax_ar.errors.ConfigError`.

Temperature must be a finite number > 0: T = 0 is *not* accepted as a
sampling temperature (dividing by 0); use ``Greedy()``, which is its limit.
Bad settings raise :class:`jax_ar.errors.ConfigError` when the strategy is
built (k, p, T) or first traced (k larger than the vocabulary).
"""
from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Any

import jax
import jax.numpy as jnp

from jax_ar import distributions, errors


def _check_temperature(t) -> float:
    try:
        t = float(t)
    except (TypeError, ValueError):
        raise errors.ConfigError(f"temperature must be a number > 0, got {t!r}") from None
    if not math.isfinite(t) or t <= 0:
        raise errors.ConfigError(
            f"temperature must be finite and > 0, got {t!r}; temperature 0 means greedy decoding: "
            f"use decoding.Greedy()")
    return t


def scaled(logits, temperature: float):
    return logits.astype(jnp.float32) / temperature


def gumbel(key, shape):
    """Standard Gumbel noise, float32: ``argmax(z + gumbel)`` samples from ``softmax(z)``."""
    return jax.random.gumbel(key, shape, jnp.float32)


class _GumbelMax:
    """The two halves of a sampling strategy's draw; subclasses define ``with_noise(g, logits)``."""

    def noise(self, key, shape):
        """The noise one step needs for logits of ``shape``."""
        return gumbel(key, shape)

    def __call__(self, key, logits):
        return self.with_noise(self.noise(key, logits.shape), logits)


@dataclasses.dataclass(frozen=True)
class Greedy:
    """The most likely token (ties: the lowest id)."""

    def __call__(self, key, logits):
        return jnp.argmax(logits.astype(jnp.float32), axis=-1).astype(jnp.int32)


@dataclasses.dataclass(frozen=True)
class Sample(_GumbelMax):
    """Sample from softmax(logits / temperature)."""
    temperature: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "temperature", _check_temperature(self.temperature))

    def with_noise(self, g, logits):
        return jnp.argmax(scaled(logits, self.temperature) + g, axis=-1).astype(jnp.int32)


@dataclasses.dataclass(frozen=True)
class TopK(_GumbelMax):
    """Sample among the ``k`` largest logits (after temperature), renormalised."""
    k: int
    temperature: float = 1.0

    def __post_init__(self):
        if isinstance(self.k, bool) or not isinstance(self.k, numbers.Integral) or self.k < 1:
            raise errors.ConfigError(f"top-k needs an integer k >= 1, got {self.k!r}")
        object.__setattr__(self, "k", int(self.k))
        object.__setattr__(self, "temperature", _check_temperature(self.temperature))

    def filter(self, logits):
        """Logits with everything outside the top k set to -inf (same shape).

        Exactly k survive, the candidates ``with_noise`` draws from (``lax.top_k``:
        among tied logits the lowest ids)."""
        V = logits.shape[-1]
        if self.k > V:
            raise errors.ConfigError(f"top-k k={self.k} exceeds the vocabulary size {V}")
        z = scaled(logits, self.temperature)
        z_NxV = z.reshape(-1, V)
        idx_NxK = jax.lax.top_k(z_NxV, self.k)[1]
        keep = jnp.zeros(z_NxV.shape, bool).at[jnp.arange(z_NxV.shape[0])[:, None], idx_NxK].set(True)
        return jnp.where(keep.reshape(z.shape), z, -jnp.inf)

    def noise(self, key, shape):
        return gumbel(key, tuple(shape[:-1]) + (self.k,))            # one per candidate

    def with_noise(self, g, logits):
        V = logits.shape[-1]
        if self.k > V:
            raise errors.ConfigError(f"top-k k={self.k} exceeds the vocabulary size {V}")
        vals, idx = jax.lax.top_k(scaled(logits, self.temperature), self.k)   # exactly k candidates
        j = jnp.argmax(vals + g, axis=-1)
        return jnp.take_along_axis(idx, j[..., None], axis=-1)[..., 0].astype(jnp.int32)


@dataclasses.dataclass(frozen=True)
class TopP(_GumbelMax):
    """Nucleus sampling: keep the smallest top set with probability >= p, renormalise."""
    p: float
    temperature: float = 1.0

    def __post_init__(self):
        try:
            p = float(self.p)
        except (TypeError, ValueError):
            raise errors.ConfigError(f"top-p needs p in (0, 1], got {self.p!r}") from None
        if not (0.0 < p <= 1.0):
            raise errors.ConfigError(f"top-p needs p in (0, 1], got {self.p!r}")
        object.__setattr__(self, "p", p)
        object.__setattr__(self, "temperature", _check_temperature(self.temperature))

    def filter(self, logits):
        """Logits with tokens outside the nucleus set to -inf (same shape, original order)."""
        z = scaled(logits, self.temperature)
        if self.p >= 1.0:
            return z                                          # every token; no rounding at the tail
        order = jnp.argsort(-z, axis=-1)
        probs_sorted = jnp.take_along_axis(jax.nn.softmax(z, axis=-1), order, axis=-1)
        mass_before = jnp.cumsum(probs_sorted, axis=-1) - probs_sorted
        keep_sorted = mass_before < self.p                    # always keeps the top token
        keep = jnp.take_along_axis(keep_sorted, jnp.argsort(order, axis=-1), axis=-1)  # unsort
        return jnp.where(keep, z, -jnp.inf)

    def with_noise(self, g, logits):
        return jnp.argmax(self.filter(logits) + g, axis=-1).astype(jnp.int32)


STRATEGIES = (Greedy, Sample, TopK, TopP)


def check_discrete(dist) -> None:
    """Raise :class:`ConfigError` unless ``dist`` is over token ids (categorical or binary)."""
    if dist.kind == "continuous" or not hasattr(dist, "log_probs"):
        raise errors.ConfigError(
            f"decoding strategies pick token ids, but this model's events are {dist.kind} "
            f"({type(dist).__name__}); sample it with its own distribution (pick=None)")


def token_logits(dist, out):
    """Logits [..., V] over a discrete event's values from a model's ``out`` (a categorical
    model's ``out`` already is; others give their log-probabilities)."""
    check_discrete(dist)
    return out if isinstance(dist, distributions.Categorical) else dist.log_probs(out)


@dataclasses.dataclass(frozen=True)
class OnOutputs:
    """A strategy applied to a model's ``out``: ``strategy(key, token_logits(dist, out))``."""
    strategy: Any
    dist: Any

    def __call__(self, key, out):
        return self.strategy(key, token_logits(self.dist, out))

    def noise(self, key, shape):                 # the strategy's noise, drawn before a loop
        return self.strategy.noise(key, shape)

    def with_noise(self, g, out):
        return self.strategy.with_noise(g, token_logits(self.dist, out))


def for_model(pick, dist):
    """``pick`` made to read ``dist``'s ``out``: a strategy is wrapped unless ``out`` already holds
    logits; any other ``pick`` (``dist.sample``, a custom function) is returned as is."""
    if isinstance(pick, type):
        raise errors.ConfigError(f"pick must be a strategy instance such as {pick.__name__}(...), "
                                 f"got the class {pick.__name__}")
    if not callable(pick):
        raise errors.ConfigError(f"pick must be a decoding strategy (e.g. decoding.TopK(40); "
                                 f"decoding.from_name builds one from a name) or a function "
                                 f"pick(key, out), got {pick!r}")
    if not isinstance(pick, STRATEGIES):
        return pick
    check_discrete(dist)
    return pick if isinstance(dist, distributions.Categorical) else OnOutputs(pick, dist)


def truncated_probs(strategy, logits):
    """The distribution a strategy samples from, as probabilities [..., V] (for tests and tables)."""
    if isinstance(strategy, Greedy):
        return jax.nn.one_hot(strategy(None, logits), logits.shape[-1])
    if isinstance(strategy, (TopK, TopP)):
        return jax.nn.softmax(strategy.filter(logits), axis=-1)
    if isinstance(strategy, Sample):
        return jax.nn.softmax(scaled(logits, strategy.temperature), axis=-1)
    raise errors.ConfigError(f"unknown decoding strategy {strategy!r}")


def from_name(name: str, **kw):
    """``"greedy" | "sample" | "top_k" | "top_p"`` -> strategy (for configs)."""
    table = {"greedy": Greedy, "sample": Sample, "top_k": TopK, "top_p": TopP}
    if name not in table:
        raise errors.ConfigError(f"unknown decoding strategy {name!r}; choose one of {sorted(table)}")
    return table[name](**kw)
