"""Discrete gradient attack on a classifier of binary images (an iterated, pixel-flip FGSM).

Images stay binary, so a "gradient step" is a set of pixel flips.  Relaxing
x to [0, 1], flipping pixel d changes the loss by about
``g_d * (1 - 2 x_d)`` (g = dLoss/dx); each round flips the pixels with the
largest predicted increase among those not flipped yet, then recomputes the
gradient.  ``k`` flips in total per image.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jax_ar.anomaly.classifier import cross_entropy
from jax_ar.errors import ConfigError, ShapeError


@functools.partial(jax.jit, static_argnums=0)
def _loss_grad(net, params, x_BxD, y_B):
    return jax.grad(lambda x: cross_entropy(net, params, x, y_B).sum())(x_BxD)


def flip_gain(grad_BxD, x_BxD):
    """First-order change of the objective when each pixel is flipped: g * (1 - 2x)."""
    return grad_BxD * (1.0 - 2.0 * x_BxD)


def flip_attack(net, params, x_NxD, y_N, k: int, *, rounds: int | None = None) -> np.ndarray:
    """Flip ``k`` pixels per image to raise the classifier's loss on labels ``y`` (uint8 result)."""
    x = np.asarray(x_NxD).astype(np.float32)
    y = np.asarray(y_N)
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise ShapeError(f"need x [N, D] and labels [N], got {x.shape} and {y.shape}")
    if not 0 <= k <= x.shape[1]:
        raise ConfigError(f"k (pixels to flip) must be in [0, {x.shape[1]}], got {k}")
    rounds = max(1, min(rounds or k, k)) if k else 0
    flipped = np.zeros(x.shape, bool)
    rows = np.arange(x.shape[0])[:, None]
    done = 0
    for r in range(rounds):
        m = (k - done) // (rounds - r)
        g = np.asarray(_loss_grad(net, params, jnp.asarray(x), jnp.asarray(y)))
        gain = np.where(flipped, -np.inf, flip_gain(g, x))
        idx = np.argsort(-gain, axis=1)[:, :m]
        x[rows, idx] = 1.0 - x[rows, idx]
        flipped[rows, idx] = True
        done += m
    return x.astype(np.uint8)
