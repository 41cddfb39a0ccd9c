"""A long-range dependency task for character LMs: recall the first symbol after ``lag`` noise symbols.

Sequence of length ``lag + 2``: a signal symbol ``s`` in ``[0, K)``, then
``lag`` noise symbols drawn uniformly from ``[K, K + N)``, then ``s`` again.
Only the last position is scored: a model that remembers ``s`` predicts it
with probability ~1 (accuracy 1, loss 0), one that has forgotten can do no
better than chance (accuracy 1/K, loss ln K nats).

The models are the registered char LMs of :mod:`jax_ar.models.rnn`, trained
with Adam on the last-position loss (the whole training run is one jitted
``lax.scan``).
"""
from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jax_ar import errors
from jax_ar.config import at_least
from jax_ar.models import rnn as rnn_models
from jax_ar.rnn.cells import check_cell_type


@dataclasses.dataclass(frozen=True)
class RecallConfig:
    cell: str = "lstm"
    lag: int = 50
    num_signals: int = 4
    num_noise: int = 4
    hidden: int = 32
    embed: int = 8
    steps: int = 1500
    batch_size: int = 32
    lr: float = 3e-3
    clip_norm: float = 1.0
    lstm_forget_bias: float = 1.0   # initial forget-gate bias of LSTM cells (the cell's default is 1)
    seed: int = 0

    def validate(self):
        check_cell_type(self.cell)
        at_least(self, 1, "num_signals num_noise hidden embed steps batch_size")
        at_least(self, 0, "lag")


def recall_batch(key, batch_size: int, lag: int, num_signals: int, num_noise: int):
    """``x_BxD`` with D = lag + 2: signal, lag noise symbols, signal."""
    ks, kn = jax.random.split(key)
    s = jax.random.randint(ks, (batch_size, 1), 0, num_signals)
    noise = jax.random.randint(kn, (batch_size, lag), num_signals, num_signals + num_noise)
    return jnp.concatenate([s, noise, s], axis=1).astype(jnp.int32)


def build_model(cfg: RecallConfig):
    if cfg.lag < 0:
        raise errors.ConfigError(f"lag must be >= 0, got {cfg.lag}")
    for k in ("num_signals", "num_noise", "hidden", "embed", "steps", "batch_size"):
        errors.check_positive(getattr(cfg, k), k)
    return rnn_models.BUILDERS[cfg.cell](vocab_size=cfg.num_signals + cfg.num_noise, seq_len=cfg.lag + 2,
                                         hidden=cfg.hidden, embed=cfg.embed)


def last_position_loss(model, params, x_BxD):
    """Mean NLL (nats) of the final symbol and the accuracy of its argmax prediction."""
    logits = model.outputs(params, x_BxD)[:, -1]
    nll = -model.dist.log_prob(logits, x_BxD[:, -1])
    acc = jnp.mean(jnp.argmax(logits, -1) == x_BxD[:, -1])
    return nll.mean(), acc


def train_recall(cfg: RecallConfig = RecallConfig()) -> dict:
    """Train on fresh random batches; returns losses, accuracies and the final test accuracy."""
    model = build_model(cfg)
    k_init, k_data, k_test = jax.random.split(jax.random.PRNGKey(cfg.seed), 3)
    params = model.init(k_init)
    if cfg.cell == "lstm":
        H = cfg.hidden
        params = jax.tree_util.tree_map(lambda a: a, params)  # a fresh dict tree
        params["cell_0"]["b"] = params["cell_0"]["b"].at[H:2 * H].set(cfg.lstm_forget_bias)
    tx = optax.adam(cfg.lr)
    if cfg.clip_norm > 0:
        tx = optax.chain(optax.clip_by_global_norm(cfg.clip_norm), tx)

    def step(carry, k):
        p, o = carry
        x = recall_batch(k, cfg.batch_size, cfg.lag, cfg.num_signals, cfg.num_noise)
        (loss, acc), g = jax.value_and_grad(lambda q: last_position_loss(model, q, x), has_aux=True)(p)
        u, o = tx.update(g, o, p)
        return (optax.apply_updates(p, u), o), (loss, acc)

    @jax.jit
    def run(p, keys):
        (p, _), (losses, accs) = jax.lax.scan(step, (p, tx.init(p)), keys)
        x = recall_batch(k_test, 1000, cfg.lag, cfg.num_signals, cfg.num_noise)
        return p, losses, accs, last_position_loss(model, p, x)

    params, losses, accs, (test_loss, test_acc) = run(params, jax.random.split(k_data, cfg.steps))
    losses, accs = np.asarray(losses), np.asarray(accs)
    tail = max(1, cfg.steps // 10)
    return {"cell": cfg.cell, "lag": cfg.lag, "test_accuracy": float(test_acc),
            "test_loss_nats": float(test_loss), "chance_accuracy": 1.0 / cfg.num_signals,
            "chance_loss_nats": math.log(cfg.num_signals),
            "final_train_loss": float(losses[-tail:].mean()), "losses": losses, "accuracies": accs,
            "params": int(sum(a.size for a in jax.tree_util.tree_leaves(params)))}
