"""Fully-visible sigmoid belief net (FVSBN): logistic regression on all previous pixels.

    p(x_d = 1 | x_<d) = sigmoid(b_d + sum_{j<d} W[d, j] x_j)

One weight per ordered pixel pair, kept in a full ``W_DxD`` matrix multiplied
by the explicit strict-causal mask from :func:`jax_ar.masks.strict_causal_mask`.
``log_prob`` is one masked matmul for all positions; ``step`` keeps running
pre-activations for every position in the cache, so each step is O(D).
"""
from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jax_ar import distributions, errors, masks
from jax_ar.contract import LinenARModel
from jax_ar.models.registry import register


class FVSBNNet(nn.Module):
    seq_len: int

    def setup(self):
        D = self.seq_len
        self.W = self.param("W", nn.initializers.zeros, (D, D))
        self.b = self.param("b", nn.initializers.zeros, (D,))
        self.mask_DxD = masks.strict_causal_mask(D)

    def masked_weight(self):
        return jnp.where(self.mask_DxD, self.W, 0.0)

    def __call__(self, x_BxD, cond_B=None):
        logits_BxD = x_BxD.astype(jnp.float32) @ self.masked_weight().T + self.b
        return logits_BxD[..., None]

    def init_cache(self, batch_size, cond_B=None):
        # running pre-activation of every position: a_BxD = b + W_masked @ x_seen
        return {"t": jnp.zeros((), jnp.int32),
                "act_BxD": jnp.broadcast_to(self.b, (batch_size, self.seq_len))}

    def step(self, cache, x_prev_B):
        t = cache["t"]
        # add x_{t-1}'s contribution to every later position (column t-1 of W)
        col_D = jnp.where(self.mask_DxD[:, jnp.maximum(t - 1, 0)], self.W[:, jnp.maximum(t - 1, 0)], 0.0)
        contrib = jnp.where(t > 0, x_prev_B.astype(jnp.float32)[:, None] * col_D[None, :], 0.0)
        act = cache["act_BxD"] + contrib
        out_Bx1 = jax.lax.dynamic_index_in_dim(act, t, axis=1, keepdims=True)
        return out_Bx1, {"t": t + 1, "act_BxD": act}


def pixel_distances(image_shape) -> np.ndarray:
    """Euclidean distance between every pair of raster positions of an image, ``[D, D]``."""
    rows, cols = np.divmod(np.arange(int(np.prod(image_shape))), image_shape[-1])
    return np.hypot(rows[:, None] - rows[None], cols[:, None] - cols[None])


def weight_penalty(W_DxD, *, l1: float = 0.0, l2: float = 0.0, radius: float = 0.0, log_scale: float = 0.0,
                   image_shape=None):
    """Elastic-net penalty on the used (strictly lower-triangular) weights.

        l1 * sum_{j<d} c_dj r(W_dj) + l2 / 2 * sum_{j<d} W_dj^2,   c_dj = 1 + dist(d, j) / radius

    ``r(w) = |w|`` (L1) or, with ``log_scale = s > 0``, ``r(w) = s log(1 + |w| / s)``:
    the same slope at zero (as sparse) but a cost that grows only
    logarithmically, so the few large weights (near neighbours) are shrunk
    much less than by L1.  With ``radius > 0`` (needs ``image_shape``) the
    sparsity cost grows with the distance between the two pixels: a prior
    that near pixels matter more.  ``radius = 0`` weighs every pair alike.
    """
    D = W_DxD.shape[0]
    used = masks.strict_causal_mask(D)
    Wm = jnp.where(used, W_DxD, 0.0)
    pen = 0.5 * l2 * jnp.sum(Wm ** 2)
    if l1:
        if radius > 0:
            if image_shape is None or int(np.prod(image_shape)) != D:
                raise errors.ConfigError(f"a distance-weighted L1 needs the image shape of the {D} pixels, "
                                         f"got {image_shape}")
            cost = jnp.asarray(1.0 + pixel_distances(image_shape) / radius, jnp.float32)
        else:
            cost = 1.0
        a = jnp.abs(Wm)
        r = a if log_scale <= 0 else log_scale * jnp.log1p(a / log_scale)
        pen = pen + l1 * jnp.sum(cost * r)
    return pen


@register("fvsbn", tiny={"seq_len": 6})
def build(seq_len: int = 784) -> LinenARModel:
    return LinenARModel(FVSBNNet(seq_len), seq_len, distributions.Bernoulli())
