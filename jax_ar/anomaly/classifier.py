"""A small Flax MLP classifier, and k-means pseudo-labels for unlabelled images.

The binarized MNIST files carry no digit labels, so :func:`kmeans_labels`
clusters the training images into ``k`` groups (which largely follow digit
identity) and the classifier learns those cluster ids.  The attack in
:mod:`jax_ar.anomaly.attack` only needs *a* differentiable classifier.
"""
from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jax_ar.errors import ConfigError, ShapeError, ValueRangeError


class MLP(nn.Module):
    hidden: tuple = (256,)
    num_classes: int = 10

    @nn.compact
    def __call__(self, x_BxD):
        h = x_BxD.astype(jnp.float32)
        for n in self.hidden:
            h = nn.relu(nn.Dense(n)(h))
        return nn.Dense(self.num_classes)(h)          # logits_BxC


def kmeans_labels(x_NxD, k: int = 10, iters: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(labels_N, centres_KxD) of Lloyd's k-means with k-means++ seeding."""
    x = np.asarray(x_NxD, np.float32)
    if x.ndim != 2 or x.shape[0] < k:
        raise ShapeError(f"k-means needs [N >= {k}, D] data, got shape {x.shape}")
    rng = np.random.default_rng(seed)
    c = [x[rng.integers(x.shape[0])]]
    sq = (x * x).sum(1)
    for _ in range(1, k):
        d = np.min(np.stack([sq - 2 * x @ ci + ci @ ci for ci in c]), 0).clip(0)
        c.append(x[rng.choice(x.shape[0], p=d / d.sum()) if d.sum() > 0 else rng.integers(x.shape[0])])
    c = np.stack(c)
    assign = jax.jit(lambda x, c: jnp.argmin(-2 * x @ c.T + (c * c).sum(1), axis=1))
    for _ in range(iters):
        lab = np.asarray(assign(x, c))
        for j in range(k):
            m = lab == j
            if m.any():
                c[j] = x[m].mean(0)
    return np.asarray(assign(x, c)), c


def init(key, dim: int, hidden=(256,), num_classes: int = 10):
    net = MLP(tuple(hidden), num_classes)
    return net, net.init(key, jnp.zeros((1, dim)))["params"]


def train(x_NxD, labels_N, *, hidden=(256,), num_classes: int = 10, steps: int = 1000,
          batch_size: int = 128, lr: float = 1e-3, seed: int = 0):
    """(net, params) of an MLP trained with Adam on cross-entropy."""
    x = np.asarray(x_NxD, np.float32)
    y = np.asarray(labels_N)
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise ShapeError(f"need x [N, D] and labels [N], got {x.shape} and {y.shape}")
    if y.min() < 0 or y.max() >= num_classes:
        raise ValueRangeError(f"labels must lie in [0, {num_classes - 1}], got [{y.min()}, {y.max()}]")
    if steps < 1 or batch_size < 1:
        raise ConfigError(f"steps and batch_size must be >= 1, got {steps}, {batch_size}")
    net, params = init(jax.random.PRNGKey(seed), x.shape[1], hidden, num_classes)
    opt = optax.adam(lr)
    state = opt.init(params)

    @jax.jit
    def step(params, state, xb, yb):
        loss, g = jax.value_and_grad(lambda p: cross_entropy(net, p, xb, yb).mean())(params)
        upd, state = opt.update(g, state, params)
        return optax.apply_updates(params, upd), state, loss

    rng = np.random.default_rng(seed)
    bs = min(batch_size, x.shape[0])
    for _ in range(steps):
        idx = rng.integers(0, x.shape[0], bs)
        params, state, _ = step(params, state, x[idx], y[idx])
    return net, params


def cross_entropy(net, params, x_BxD, y_B):
    logits = net.apply({"params": params}, x_BxD)
    return optax.softmax_cross_entropy_with_integer_labels(logits, y_B)


@functools.partial(jax.jit, static_argnums=0)
def _predict(net, params, x):
    return jnp.argmax(net.apply({"params": params}, x), -1)


def predict(net, params, x_NxD) -> np.ndarray:
    return np.asarray(_predict(net, params, jnp.asarray(x_NxD, jnp.float32)))


def accuracy(net, params, x_NxD, labels_N) -> float:
    return float(np.mean(predict(net, params, x_NxD) == np.asarray(labels_N)))
