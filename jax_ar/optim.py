"""Optimizer factory: Adam/AdamW/SGD, warm-up + schedule, gradient clipping."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from jax_ar.errors import ConfigError


def schedule(lr: float, steps: int, *, kind: str = "constant", warmup_steps: int = 0,
             min_lr_ratio: float = 0.1) -> optax.Schedule:
    """Linear warm-up to ``lr`` over ``warmup_steps``, then constant / cosine / linear decay
    to ``lr * min_lr_ratio`` at ``steps``."""
    decay_steps = max(steps - warmup_steps, 1)
    end = lr * min_lr_ratio
    if kind == "constant":
        main = optax.constant_schedule(lr)
    elif kind == "cosine":
        main = optax.cosine_decay_schedule(lr, decay_steps, alpha=min_lr_ratio)
    elif kind == "linear":
        main = optax.linear_schedule(lr, end, decay_steps)
    else:
        raise ConfigError(f"unknown schedule {kind!r}; choose constant, cosine or linear")
    if warmup_steps <= 0:
        return main
    warm = optax.linear_schedule(0.0, lr, warmup_steps)
    return optax.join_schedules([warm, main], [warmup_steps])


def decay_mask(kind: str):
    """Which parameters AdamW decays: ``all``, or ``matrices`` (arrays with >= 2 dims:
    weights and embeddings, not biases or LayerNorm scales - nanoGPT's rule)."""
    if kind == "all":
        return None
    if kind == "matrices":
        return lambda params: jax.tree_util.tree_map(lambda a: jnp.ndim(a) >= 2, params)
    raise ConfigError(f"unknown decay {kind!r}; choose all or matrices")


def make_optimizer(cfg) -> tuple[optax.GradientTransformation, optax.Schedule]:
    """Build the optimizer described by a :class:`jax_ar.train.TrainConfig`."""
    sched = schedule(cfg.lr, cfg.steps, kind=cfg.schedule, warmup_steps=cfg.warmup_steps,
                     min_lr_ratio=cfg.min_lr_ratio)
    if cfg.optimizer == "adam":
        opt = optax.adam(sched, b1=cfg.b1, b2=cfg.b2)
    elif cfg.optimizer == "adamw":
        opt = optax.adamw(sched, b1=cfg.b1, b2=cfg.b2, weight_decay=cfg.weight_decay,
                          mask=decay_mask(getattr(cfg, "decay", "all")))
    elif cfg.optimizer == "sgd":
        opt = optax.sgd(sched, momentum=cfg.b1 or None)
    else:
        raise ConfigError(f"unknown optimizer {cfg.optimizer!r}; choose adam, adamw or sgd")
    if cfg.clip_norm > 0:
        opt = optax.chain(optax.clip_by_global_norm(cfg.clip_norm), opt)
    return opt, sched
