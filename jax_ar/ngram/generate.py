"""Sampling text from a fitted n-gram model with a temperature.

Runs the generic ``lax.scan`` sampler (:func:`jax_ar.sampling.sample`) over
the contract wrapper, so the whole sequence is one compiled scan.
temperature 1 samples the model; below 1 sharpens, above 1 flattens;
0 is greedy (argmax).
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jax_ar import errors, sampling
from jax_ar.ngram.basic import _as_float
from jax_ar.ngram.lm import NGramLM


def _pick(temperature: float):
    if temperature == 0:
        return lambda key, out: jnp.argmax(out, axis=-1).astype(jnp.int32)
    return lambda key, out: jax.random.categorical(key, out / temperature, axis=-1).astype(jnp.int32)


@functools.lru_cache(maxsize=8)
def _cached_pick(temperature: float):
    return _pick(temperature)


def sample(lm: NGramLM, key, num_tokens: int, *, temperature: float = 1.0, batch_size: int = 1,
           prompt=None) -> np.ndarray:
    """Token ids ``[batch_size, num_tokens]`` (a given ``prompt [B, P]`` is copied as the first P)."""
    from jax_ar.models.ngram import as_ar_model
    t = _as_float(temperature)
    if t is None or not np.isfinite(t) or t < 0:
        raise errors.ConfigError(f"temperature must be a finite number >= 0, got {temperature!r}")
    num_tokens = errors.check_integer(num_tokens, "num_tokens")
    model = as_ar_model(lm, num_tokens)
    params = model.init()
    x, _ = sampling.sample(model, params, key, batch_size, prompt=prompt, num_steps=num_tokens,
                           pick=_cached_pick(t))
    return np.asarray(x)
