"""One ``lax.scan`` sampler over the model contract's ``step``.

``pick(key, out) -> x_t`` chooses the next element from the distribution
parameters ``out``; the default draws from ``model.dist``.  Decoding
strategies (greedy, top-k, top-p, ...) are other ``pick`` functions.
The cache is an explicit pytree threaded through the scan carry.
"""
from __future__ import annotations

import functools
from typing import Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np

from jax_ar import decoding, errors

Pick = Callable[[jax.Array, jax.Array], jax.Array]


def scan_sample(model, params, key, cache, *, num_steps: int, batch_size: int,
                pick: Optional[Pick] = None, prompt=None, first_input=None):
    """Run ``num_steps`` steps of ``model.step`` under ``lax.scan`` from ``cache``.

    prompt: optional ``[B, P]`` array; for t < P the prompt element is fed
    instead of a sample (teacher forcing inside the same scan).
    Returns ``(x_BxT, log_prob_B, cache)`` where ``log_prob_B`` is the model's
    log-probability of the generated (non-prompt) elements.
    """
    pick = decoding.for_model(pick, model.dist) if pick is not None else model.dist.sample
    x0 = first_input if first_input is not None else jnp.zeros((batch_size,), model.input_dtype)
    P = 0 if prompt is None else prompt.shape[1]

    def body(carry, inp):
        cache, x_prev = carry
        t, k = inp
        out, cache = model.step(params, cache, x_prev)
        x_t = pick(k, out).astype(x0.dtype)
        lp = model.dist.log_prob(out, x_t)
        if P:
            forced = t < P
            x_t = jnp.where(forced, prompt[:, jnp.minimum(t, P - 1)].astype(x0.dtype), x_t)
            lp = jnp.where(forced, 0.0, lp)
        return (cache, x_t), (x_t, lp)

    keys = jax.random.split(key, num_steps)
    (cache, _), (xs, lps) = jax.lax.scan(body, (cache, x0), (jnp.arange(num_steps), keys))
    return xs.T, lps.sum(0), cache


@functools.partial(jax.jit, static_argnums=(0,), static_argnames=("batch_size", "num_steps", "pick"))
def _sample_jit(model, params, key, cond, prompt, *, batch_size, num_steps, pick):
    cache = model.init_cache(params, batch_size, cond)
    x, lp, _ = scan_sample(model, params, key, cache, num_steps=num_steps, batch_size=batch_size,
                           pick=pick, prompt=prompt)
    return x, lp


def sample(model, params, key, batch_size: int, *, cond=None, prompt=None,
           num_steps: Optional[int] = None, pick: Optional[Pick] = None):
    """Draw ``batch_size`` sequences; returns ``(x_BxT, log_prob_B)``.

    Compiled once per (model, batch_size, num_steps, pick): the whole
    sequence is one ``lax.scan``, no Python loop per element.
    """
    batch_size = errors.check_integer(batch_size, "batch_size")
    num_steps = errors.check_integer(model.seq_len if num_steps is None else num_steps, "num_steps")
    limit = getattr(model, "max_steps", None)
    if limit is not None and num_steps > limit:
        raise errors.ConfigError(f"num_steps {num_steps} exceeds what this model's cache holds ({limit} "
                                 f"positions); generate at most {limit} in one pass")
    if pick is not None:
        pick = decoding.for_model(pick, model.dist)   # strategies read logits: a clear error if there are none
    if model.num_classes or cond is not None:
        errors.check_labels(cond, num_classes=model.num_classes, batch=batch_size)
        cond = jnp.asarray(cond, jnp.int32)
    if prompt is not None:
        p = np.asarray(prompt)
        if p.ndim != 2 or p.shape[0] != batch_size:
            raise errors.ShapeError(f"prompt must have shape [{batch_size}, P], got {p.shape}")
        if p.shape[1] > num_steps:
            raise errors.ShapeError(f"prompt length {p.shape[1]} exceeds num_steps {num_steps}")
        errors.check_sequences(p, seq_len=p.shape[1], kind=model.dist.kind,
                               vocab_size=getattr(model.dist, "vocab_size", None), name="prompt")
        prompt = jnp.asarray(p).astype(model.input_dtype)
    errors.check_key(key)
    return _sample_jit(model, params, key, cond, prompt, batch_size=batch_size,
                       num_steps=num_steps, pick=pick)


def step_outputs(model, params, x, cond=None):
    """Distribution parameters from running ``step`` over a given sequence (teacher forced).

    Returns ``out_BxDxP``; the cache-consistency test compares it with the
    parallel ``model.outputs``.
    """
    x = jnp.asarray(x).astype(model.input_dtype)
    cache = model.init_cache(params, x.shape[0], cond)
    x_prev = jnp.concatenate([jnp.zeros_like(x[:, :1]), x[:, :-1]], axis=1)

    def body(cache, x_prev_B):
        out, cache = model.step(params, cache, x_prev_B)
        return cache, out

    _, outs = jax.lax.scan(body, cache, x_prev.T)
    return jnp.moveaxis(outs, 0, 1)
