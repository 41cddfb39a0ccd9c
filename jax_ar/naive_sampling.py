"""Reference ("naive") sampler: one full parallel forward pass per generated element.

For element t it runs ``model.outputs`` over the whole buffer (elements
>= t are still zeros, and causality makes them invisible), reads position t
and draws from it.  That is O(T) network work per element instead of the
O(1) of a cached ``step``: the baseline that the Fast WaveNet queues and every
other cache are checked and timed against.  It uses the same key schedule and
``pick`` as :func:`jax_ar.sampling.scan_sample`, so for the same key a correct
cache gives exactly the same samples.  Models must accept any buffer length
``num_steps`` in ``outputs`` (true for convolutional and recurrent models).
"""
from __future__ import annotations

import functools
from typing import Optional

import jax
import jax.numpy as jnp

from jax_ar import errors
from jax_ar.sampling import Pick


@functools.partial(jax.jit, static_argnums=(0,), static_argnames=("batch_size", "num_steps", "pick"))
def _naive_jit(model, params, key, cond, *, batch_size, num_steps, pick):
    pick = pick or model.dist.sample
    buf_BxT = jnp.zeros((batch_size, num_steps), model.input_dtype)

    def body(buf_BxT, inp):
        t, k = inp
        out_BxTxP = model.outputs(params, buf_BxT, cond)
        out_BxP = jax.lax.dynamic_index_in_dim(out_BxTxP, t, axis=1, keepdims=False)
        x_t = pick(k, out_BxP).astype(buf_BxT.dtype)
        lp = model.dist.log_prob(out_BxP, x_t)
        return jax.lax.dynamic_update_index_in_dim(buf_BxT, x_t, t, axis=1), lp

    keys = jax.random.split(key, num_steps)
    buf_BxT, lps = jax.lax.scan(body, buf_BxT, (jnp.arange(num_steps), keys))
    return buf_BxT, lps.sum(0)


def naive_sample(model, params, key, batch_size: int, *, cond=None, num_steps: Optional[int] = None,
                 pick: Optional[Pick] = None):
    """Draw ``batch_size`` sequences by full recomputation; returns ``(x_BxT, log_prob_B)``."""
    if batch_size < 1:
        raise errors.ConfigError(f"batch_size must be >= 1, got {batch_size}")
    num_steps = model.seq_len if num_steps is None else num_steps
    if num_steps < 1:
        raise errors.ConfigError(f"num_steps must be >= 1, got {num_steps}")
    if model.num_classes or cond is not None:
        errors.check_labels(cond, num_classes=model.num_classes, batch=batch_size)
        cond = jnp.asarray(cond, jnp.int32)
    return _naive_jit(model, params, key, cond, batch_size=batch_size, num_steps=num_steps, pick=pick)
