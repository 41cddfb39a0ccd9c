"""Batched likelihood evaluation (jit-compiled), written once for every model."""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jax_ar import errors, metrics


@functools.partial(jax.jit, static_argnums=(0,))
def _log_prob_jit(model, params, x, cond):
    return model.log_prob(params, x, cond)


def log_prob_batched(model, params, x, cond=None, *, batch_size: int = 1000,
                     progress: bool = False) -> np.ndarray:
    """Per-example log-likelihoods (nats) of all of ``x_NxD``, in fixed-size jitted batches.

    The input is checked once up front (shape, dtype, range, NaN); the last
    batch is padded so only one shape is ever compiled.
    """
    errors.check_integer(batch_size, "batch_size")
    x = np.asarray(x)
    model.check_input(x, cond)
    n = x.shape[0]
    bs = min(batch_size, n)
    out = np.empty((n,), np.float64)
    it = range(0, n, bs)
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(it, desc="eval", leave=False)
    for i in it:
        xb = x[i:i + bs]
        cb = None if cond is None else np.asarray(cond)[i:i + bs]
        m = xb.shape[0]
        if m < bs:
            xb = np.concatenate([xb, np.repeat(xb[:1], bs - m, 0)])
            if cb is not None:
                cb = np.concatenate([cb, np.repeat(cb[:1], bs - m, 0)])
        lp = _log_prob_jit(model, params, jnp.asarray(xb).astype(model.input_dtype),
                           None if cb is None else jnp.asarray(cb, jnp.int32))
        out[i:i + m] = np.asarray(lp)[:m]
    return out


@functools.partial(jax.jit, static_argnums=(0, 4))
def _log_prob_chunks(model, params, x_NxD, cond_N, chunk):
    """One compiled call over the whole set, ``lax.map`` over chunks of ``chunk`` rows.

    Row chunks keep each chunk's activations cache-resident: for FVSBN on
    10,000 images this is ~1.8x faster on CPU than one 10,000-row pass.
    """
    n = x_NxD.shape[0]
    xc = x_NxD.reshape((n // chunk, chunk) + x_NxD.shape[1:])
    if cond_N is None:
        lp = jax.lax.map(lambda xb: model.log_prob(params, xb), xc)
    else:
        lp = jax.lax.map(lambda a: model.log_prob(params, a[0], a[1]), (xc, cond_N.reshape(n // chunk, chunk)))
    return lp.reshape(n)


def log_prob_all(model, params, x, cond=None, *, chunk: int = 1000, check: bool = True):
    """Per-example log-likelihoods (nats) of all of ``x_NxD`` in ONE jitted call (device array).

    Rows are evaluated ``chunk`` at a time under ``lax.map``; N is padded up
    to a multiple of ``chunk`` and the padding dropped.  ``check=False``
    skips the up-front input validation (for timing loops on checked data).
    """
    if check:
        model.check_input(np.asarray(x), cond)
    x = jnp.asarray(x).astype(model.input_dtype)
    n = x.shape[0]
    chunk = max(1, min(int(chunk), n))
    pad = -n % chunk
    if pad:
        x = jnp.concatenate([x, jnp.repeat(x[:1], pad, 0)])
    c = None
    if cond is not None:
        c = jnp.asarray(cond, jnp.int32)
        c = jnp.concatenate([c, jnp.repeat(c[:1], pad, 0)]) if pad else c
    return _log_prob_chunks(model, params, x, c, chunk)[:n]


def evaluate(model, params, x, cond=None, *, batch_size: int = 1000) -> dict:
    """NLL summary (nats per example, bits per dim, perplexity) of a data set."""
    lp = log_prob_batched(model, params, x, cond, batch_size=batch_size)
    return metrics.summary(lp, model.seq_len)
