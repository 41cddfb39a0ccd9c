"""The one contract that every autoregressive model in jax_ar meets.

A model factorises p(x) = prod_t p(x_t | x_<t) over a sequence of ``seq_len``
elements (images are flattened in raster order).  It exposes:

* ``init(key) -> params``
* ``outputs(params, x_BxD, cond_B=None) -> out_BxDxP``: the distribution
  parameters at every position, from ONE parallel teacher-forced pass;
* ``log_prob(params, x_BxD, cond_B=None) -> lp_B``: log-likelihood in nats;
* ``init_cache(params, batch_size, cond_B=None) -> cache`` (a pytree);
* ``step(params, cache, x_prev_B) -> (out_BxP, cache)``: the distribution of
  the next element given the previous one (``x_prev`` is ignored at t = 0).

``dist`` (see :mod:`jax_ar.distributions`) turns ``out`` into log-probs and
samples.  Generic code (sampler, evaluator, trainer, universal tests) is
written once against this contract.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Protocol, runtime_checkable

import jax
import jax.numpy as jnp
import flax.linen as nn
import numpy as np

from jax_ar import errors

Params = Any
Cache = Any


@runtime_checkable
class ARModel(Protocol):
    seq_len: int
    dist: Any
    num_classes: int

    def init(self, key) -> Params: ...
    def outputs(self, params, x, cond=None): ...
    def log_prob(self, params, x, cond=None): ...
    def init_cache(self, params, batch_size: int, cond=None) -> Cache: ...
    def step(self, params, cache, x_prev): ...


class ARModelBase:
    """Shared behaviour: input checks and ``log_prob`` from ``outputs``.

    Subclasses set ``seq_len``, ``dist``, ``num_classes`` and implement
    ``init``, ``outputs``, ``init_cache`` and ``step``.
    """
    seq_len: int
    dist: Any
    num_classes: int = 0
    # True for models whose step has no per-position parameters (RNNs, n-grams, AR(p), the
    # windowed MDN, WaveNet): they can run past ``seq_len``.  The others (FVSBN, NADE, MADE,
    # PixelCNN, Transformer, ...) have one set of parameters per position and cannot.
    stationary = False
    prefixes = False    # True: ``outputs`` also takes the first T <= seq_len elements (causal Transformer)

    def __post_init__(self):           # the dataclass models' __init__ calls it
        errors.check_integer(self.seq_len, "seq_len")

    @property
    def max_steps(self):
        """Most elements one sampling pass can produce (None: unbounded)."""
        return None if self.stationary else self.seq_len

    @property
    def kind(self) -> str:
        return self.dist.kind

    @property
    def input_dtype(self):
        return jnp.float32 if self.dist.kind == "continuous" else jnp.int32

    def check_input(self, x, cond=None) -> None:
        """Raise a clear :class:`jax_ar.errors.JaxArError` for bad concrete input."""
        self._check(x, cond, self.seq_len)

    def check_outputs_input(self, x, cond=None) -> None:
        """``check_input`` for ``outputs``: a stationary model takes sequences of any length, a
        ``prefixes`` model the first 1 .. seq_len elements."""
        length = self.seq_len
        if jnp.ndim(x) == 2 and (self.stationary or (self.prefixes and 1 <= jnp.shape(x)[1] <= self.seq_len)):
            length = jnp.shape(x)[1]
        self._check(x, cond, length)

    def _check(self, x, cond, length) -> None:
        errors.check_sequences(x, seq_len=length, kind=self.dist.kind,
                               vocab_size=getattr(self.dist, "vocab_size", None))
        if self.num_classes or cond is not None:
            errors.check_labels(cond, num_classes=self.num_classes, batch=jnp.shape(x)[0])

    def check_step_input(self, x_prev) -> None:
        """``x_prev`` of ``step``: one element per sequence, shape [B], in the event's range."""
        if jnp.ndim(x_prev) != 1:
            raise errors.ShapeError(f"x_prev must have shape [batch] (one element per sequence), "
                                    f"got {tuple(jnp.shape(x_prev))}")
        if errors.is_traced(x_prev):
            return
        a = np.asarray(x_prev)
        errors.check_sequences(a[:, None], seq_len=1, kind=self.dist.kind,
                               vocab_size=getattr(self.dist, "vocab_size", None), name="x_prev")

    def check_cache_request(self, batch_size, cond=None) -> None:
        errors.check_integer(batch_size, "batch_size")
        if self.num_classes or cond is not None:
            errors.check_labels(cond, num_classes=self.num_classes, batch=batch_size)

    def log_prob(self, params, x, cond=None):
        """Per-example log-likelihood in nats, shape [B], by one teacher-forced pass."""
        self.check_input(x, cond)
        x = jnp.asarray(x).astype(self.input_dtype)
        out = self.outputs(params, x, cond)
        return jnp.sum(self.dist.log_prob(out, x), axis=-1)

    def dummy_input(self, batch_size: int = 1):
        x = jnp.zeros((batch_size, self.seq_len), self.input_dtype)
        cond = jnp.zeros((batch_size,), jnp.int32) if self.num_classes else None
        return x, cond


@dataclasses.dataclass(frozen=True, eq=False)
class LinenARModel(ARModelBase):
    """Adapter for a Flax Linen module that implements the sequence methods.

    The module must define ``__call__(x_BxD, cond_B) -> out_BxDxP``,
    ``init_cache(batch_size, cond_B) -> cache`` and
    ``step(cache, x_prev_B) -> (out_BxP, cache)``.  All are applied
    functionally with ``module.apply({'params': params}, ...)``: no mutable
    collections, the cache is an explicit pytree passed in and out.
    """
    module: nn.Module
    seq_len: int
    dist: Any
    num_classes: int = 0

    def init(self, key) -> Params:
        x, cond = self.dummy_input(1)
        return self.module.init(key, x, cond)["params"]

    def outputs(self, params, x, cond=None):
        self.check_outputs_input(x, cond)
        return self.module.apply({"params": params}, x, cond)

    def init_cache(self, params, batch_size: int, cond=None) -> Cache:
        self.check_cache_request(batch_size, cond)
        return self.module.apply({"params": params}, batch_size, cond, method="init_cache")

    def step(self, params, cache, x_prev):
        self.check_step_input(x_prev)
        return self.module.apply({"params": params}, cache, x_prev, method="step")


def param_count(params) -> int:
    return int(sum(x.size for x in jax.tree_util.tree_leaves(params)))
