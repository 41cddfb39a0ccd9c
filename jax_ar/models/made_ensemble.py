"""Order/connectivity-agnostic MADE training and the test-time mask ensemble.

Training (Germain et al. 2015, sec. 4): for every minibatch a mask index
``k ~ Uniform{0..K-1}`` is drawn inside the jitted step (from the step's PRNG
key) and the loss is the NLL of the raster images under mask k.  The K masks
share all weights; only the degrees (hence the masks and the ordering) differ.

Ensemble: the mixture ``p(x) = (1/K) sum_k p_k(x)`` is a normalised
distribution whose log-likelihood is the log-mean-exp of the K per-mask
log-likelihoods.  (It is not itself one autoregressive model with a single
ordering, so it has no ``step``; sample from one mask via ``with_mask``.)
"""
from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from jax_ar import errors


def mask_sampling_loss(model):
    """``loss_fn(params, x, cond, key)`` for :func:`jax_ar.train.fit`: mean NLL per pixel under a random mask."""
    K = model.num_masks

    def loss_fn(params, x_BxD, cond, key):
        k = jax.random.randint(key, (), 0, K)
        return -jnp.mean(model.log_prob_image(params, x_BxD, k)) / model.seq_len

    return loss_fn


@functools.partial(jax.jit, static_argnums=(0,), static_argnames=("num_masks",))
def _per_mask_jit(model, params, x_BxD, *, num_masks):
    return jax.lax.map(lambda k: model.log_prob_image(params, x_BxD, k), jnp.arange(num_masks))


def per_mask_log_prob(model, params, x_img_NxD, *, num_masks: int | None = None,
                      batch_size: int = 1000) -> np.ndarray:
    """log p_k(x) in nats for the first ``num_masks`` masks of the pool, shape ``[K, N]``.

    Compiled once (the last batch is padded); the masks run one after
    another inside the jitted function (``lax.map``).
    """
    K = model.num_masks if num_masks is None else num_masks
    if not 1 <= K <= model.num_masks:
        raise errors.ConfigError(f"num_masks must be in [1, {model.num_masks}] (the pool size), got {K}")
    x = np.asarray(x_img_NxD)
    model.check_input(x)
    n = x.shape[0]
    bs = min(batch_size, n)
    out = np.empty((K, n), np.float64)
    for i in range(0, n, bs):
        xb = x[i:i + bs]
        m = xb.shape[0]
        if m < bs:
            xb = np.concatenate([xb, np.repeat(xb[:1], bs - m, 0)])
        lp = _per_mask_jit(model, params, jnp.asarray(xb).astype(model.input_dtype), num_masks=K)
        out[:, i:i + m] = np.asarray(lp)[:, :m]
    return out


def log_mean_exp(lp_KxN) -> np.ndarray:
    """``log (1/K) sum_k exp(lp_k)`` over axis 0, stably."""
    lp = np.asarray(lp_KxN, np.float64)
    mx = lp.max(axis=0)
    return mx + np.log(np.mean(np.exp(lp - mx), axis=0))


def ensemble_log_prob(model, params, x_img_NxD, *, num_masks: int | None = None,
                      batch_size: int = 1000) -> np.ndarray:
    """log of the K-mask ensemble probability ``(1/K) sum_k p_k(x)``, shape ``[N]`` (nats)."""
    return log_mean_exp(per_mask_log_prob(model, params, x_img_NxD, num_masks=num_masks,
                                          batch_size=batch_size))


def ensemble_summary(lp_KxN) -> dict:
    """NLLs (nats/image) of mask 0 alone, the mean single mask, and the ensemble of 1..K masks."""
    lp = np.asarray(lp_KxN, np.float64)
    K = lp.shape[0]
    sizes = sorted({1, *[2 ** i for i in range(1, int(math.log2(K)) + 1)], K})
    return {"mask0_nll": float(-lp[0].mean()),
            "mean_single_mask_nll": float(-lp.mean()),
            "ensemble_nll": {int(k): float(-log_mean_exp(lp[:k]).mean()) for k in sizes}}
