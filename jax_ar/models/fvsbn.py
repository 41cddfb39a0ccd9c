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

from jax_ar import distributions, masks
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


@register("fvsbn", tiny={"seq_len": 6})
def build(seq_len: int = 784) -> LinenARModel:
    return LinenARModel(FVSBNNet(seq_len), seq_len, distributions.Bernoulli())
