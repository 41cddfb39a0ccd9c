"""PixelDefend-style purification of binary images: climb the model's likelihood within a flip budget.

Song et al. (2018) move an input to the most likely image within an
epsilon-ball, under a PixelCNN.  For binary images the ball is a budget of
``budget`` changed pixels.  Each round ranks pixels by the first-order gain of
the relaxed log-likelihood ``g_d * (1 - 2 x_d)`` (g = d log p / dx with x
relaxed to [0, 1]; pixels already changed may be changed back), flips the
top ``per_round`` of them, and keeps the new image only where the *exact*
log-likelihood rose.  Works for any Bernoulli model of the contract whose
``outputs`` accepts float inputs (MADE, NADE, FVSBN, PixelCNN).
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jax_ar import evaluate
from jax_ar.anomaly.attack import flip_gain
from jax_ar.errors import ConfigError


def relaxed_log_prob(model, params, x_BxD):
    """sum_d [x log sigmoid(l) + (1 - x) log sigmoid(-l)] with x real-valued (exact on binary x)."""
    if model.dist.kind != "binary":
        raise ConfigError(f"purification works on binary (Bernoulli) models, not {model.dist.kind!r}")
    logit = model.outputs(params, x_BxD)[..., 0]
    return jnp.sum(x_BxD * jax.nn.log_sigmoid(logit) + (1.0 - x_BxD) * jax.nn.log_sigmoid(-logit), -1)


@functools.partial(jax.jit, static_argnums=0)
def _lp_grad(model, params, x_BxD):
    return jax.grad(lambda x: relaxed_log_prob(model, params, x).sum())(x_BxD)


def purify(model, params, x_NxD, *, budget: int, per_round: int = 1, max_rounds: int | None = None,
           batch_size: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """(purified uint8 images, their log p) with at most ``budget`` pixels changed per image."""
    if budget < 0 or per_round < 1:
        raise ConfigError(f"budget must be >= 0 and per_round >= 1, got {budget}, {per_round}")
    x0 = np.asarray(x_NxD).astype(np.float32)
    x = x0.copy()
    lp = evaluate.log_prob_batched(model, params, x0.astype(np.int32), batch_size=batch_size)
    active = np.ones(x.shape[0], bool)
    rows = np.arange(x.shape[0])[:, None]
    max_rounds = max_rounds if max_rounds is not None else 2 * budget // per_round + 1
    for _ in range(max_rounds):
        if not active.any() or budget == 0:
            break
        g = np.concatenate([np.asarray(_lp_grad(model, params, jnp.asarray(x[i:i + batch_size])))
                            for i in range(0, x.shape[0], batch_size)])
        changed = x != x0
        room = budget - changed.sum(1, keepdims=True)
        gain = flip_gain(g, x)
        # a new change needs room in the budget; undoing an earlier change is always allowed
        gain = np.where(changed | (room > 0), gain, -np.inf)
        idx = np.argsort(-gain, axis=1)[:, :per_round]
        ok_flip = np.take_along_axis(gain, idx, 1) > 0
        cand = x.copy()
        cur = cand[rows, idx]
        cand[rows, idx] = np.where(ok_flip, 1.0 - cur, cur)
        over = (cand != x0).sum(1) > budget
        lp_new = evaluate.log_prob_batched(model, params, cand.astype(np.int32), batch_size=batch_size)
        accept = active & (lp_new > lp) & ~over & ok_flip.any(1)
        x[accept], lp[accept] = cand[accept], lp_new[accept]
        active &= accept
    return x.astype(np.uint8), lp
