"""Masked multi-head self-attention with an explicit causal mask and a KV-cache step.

The causal mask is the boolean array ``masks.causal_mask(T)``; it is applied
with ``jnp.where`` to float32 scores (masked scores become the most negative
float32, so their softmax weight is exactly zero).  The cached step uses row
``t`` of ``masks.causal_mask(S)`` over the fixed-length key/value buffers.
"""
from __future__ import annotations

import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from jax_ar import errors, masks
from jax_ar.layers import flat

NEG_INF = float(jnp.finfo(jnp.float32).min)


def check_heads(width: int, num_heads: int) -> None:
    if num_heads < 1 or width < 1:
        raise errors.ConfigError(f"width and num_heads must be >= 1, got width={width}, num_heads={num_heads}")
    if width % num_heads:
        raise errors.ConfigError(f"num_heads={num_heads} does not divide width={width}: "
                                 f"each head needs width/num_heads features")


def masked_attention(q_BxTxHxK, k_BxSxHxK, v_BxSxHxK, mask_TxS, dropout=None):
    """softmax(q k^T / sqrt(K), masked) v, scores in float32.  Returns ``y_BxTxHxK``."""
    scale = 1.0 / math.sqrt(q_BxTxHxK.shape[-1])
    scores_BxHxTxS = jnp.einsum("bthk,bshk->bhts", q_BxTxHxK, k_BxSxHxK).astype(jnp.float32) * scale
    scores_BxHxTxS = jnp.where(mask_TxS[None, None], scores_BxHxTxS, NEG_INF)
    weights_BxHxTxS = jax.nn.softmax(scores_BxHxTxS, axis=-1)
    if dropout is not None:
        weights_BxHxTxS = dropout(weights_BxHxTxS)
    return jnp.einsum("bhts,bshk->bthk", weights_BxHxTxS.astype(v_BxSxHxK.dtype), v_BxSxHxK)


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention: fused q/k/v projection, output projection."""
    width: int
    num_heads: int
    use_bias: bool = False
    dropout: float = 0.0
    out_init_std: float = 0.02

    def setup(self):
        check_heads(self.width, self.num_heads)
        init = nn.initializers.normal(0.02)
        self.qkv = nn.Dense(3 * self.width, use_bias=self.use_bias, kernel_init=init, name="qkv")
        self.proj = nn.Dense(self.width, use_bias=self.use_bias,
                             kernel_init=nn.initializers.normal(self.out_init_std), name="proj")
        self.attn_drop = nn.Dropout(self.dropout)

    def _qkv(self, x_BxTxW):
        B, T, _ = x_BxTxW.shape
        H = self.num_heads
        qkv_BxTx3xHxK = flat.rows(self.qkv, x_BxTxW).reshape(B, T, 3, H, self.width // H)
        return qkv_BxTx3xHxK[:, :, 0], qkv_BxTx3xHxK[:, :, 1], qkv_BxTx3xHxK[:, :, 2]

    def __call__(self, x_BxTxW, deterministic: bool = True):
        """Parallel causal attention over T positions.  Returns ``(y_BxTxW, (k, v))``."""
        B, T, W = x_BxTxW.shape
        q, k, v = self._qkv(x_BxTxW)
        mask_TxT = masks.causal_mask(T)
        drop = None if deterministic or self.dropout == 0.0 else (
            lambda a: self.attn_drop(a, deterministic=False))
        y_BxTxHxK = masked_attention(q, k, v, mask_TxT, drop)
        return flat.rows(self.proj, y_BxTxHxK.reshape(B, T, W)), (k, v)

    def step(self, x_BxW, k_BxSxHxK, v_BxSxHxK, t):
        """One position ``t``: write its key/value into the buffers, attend to positions <= t."""
        B, W = x_BxW.shape
        S = k_BxSxHxK.shape[1]
        q, k, v = self._qkv(x_BxW[:, None, :])
        k_BxSxHxK = jax.lax.dynamic_update_slice(k_BxSxHxK, k.astype(k_BxSxHxK.dtype), (0, t, 0, 0))
        v_BxSxHxK = jax.lax.dynamic_update_slice(v_BxSxHxK, v.astype(v_BxSxHxK.dtype), (0, t, 0, 0))
        mask_1xS = jax.lax.dynamic_slice_in_dim(masks.causal_mask(S), t, 1, axis=0)
        y_Bx1xHxK = masked_attention(q, k_BxSxHxK, v_BxSxHxK, mask_1xS)
        return self.proj(y_Bx1xHxK.reshape(B, W)), k_BxSxHxK, v_BxSxHxK
