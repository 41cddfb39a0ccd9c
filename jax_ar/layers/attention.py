"""Masked multi-head self-attention with an explicit causal mask and a KV-cache step.

The causal mask is the boolean array ``masks.causal_mask(T)``; it is applied
with ``jnp.where`` to float32 scores (masked scores become the most negative
float32, so their softmax weight is exactly zero).  The cached step uses row
``t`` of that mask, ``masks.causal_mask_row(S, t)``, over the fixed-length
key/value buffers.
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


def masked_attention(q_BxHxTxK, k_BxHxSxK, v_BxHxSxK, mask_TxS, dropout=None):
    """softmax(q k^T / sqrt(K), masked) v, scores in float32.  Returns ``y_BxHxTxK``.

    Heads-major layout [B, H, T, K]: both products are plain batched matmuls
    over (B, H), so the (cached) keys and values are never transposed.
    """
    scale = 1.0 / math.sqrt(q_BxHxTxK.shape[-1])
    scores_BxHxTxS = jnp.einsum("bhtk,bhsk->bhts", q_BxHxTxK, k_BxHxSxK).astype(jnp.float32) * scale
    scores_BxHxTxS = jnp.where(mask_TxS[None, None], scores_BxHxTxS, NEG_INF)
    weights_BxHxTxS = jax.nn.softmax(scores_BxHxTxS, axis=-1)
    if dropout is not None:
        weights_BxHxTxS = dropout(weights_BxHxTxS)
    return jnp.einsum("bhts,bhsk->bhtk", weights_BxHxTxS.astype(v_BxHxSxK.dtype), v_BxHxSxK)


def _decode_block(S: int):
    """Block length for :func:`prefix_attention` over an ``S``-slot cache (None: too short to split)."""
    for blk in (128, 64):
        if S % blk == 0 and S > blk:
            return blk
    return None


def prefix_attention(q_BxHx1xK, k_BxHxSxK, v_BxHxSxK, t, block: int):
    """One query at position ``t`` attending over cache slots 0..t only, ``block`` slots at a time.

    The same value as ``masked_attention(q, k, v, causal_mask_row(S, t))`` (each
    block's mask is a slice of that row) computed by an online softmax over the
    ``t // block + 1`` blocks that hold filled slots, so the empty tail of the
    cache is never read.  On XLA:CPU this is ~1.8x faster than the full-cache
    product at batch 1 and slower from batch 2 on (``experiments.bench_transformer``),
    which is why :meth:`CausalSelfAttention.step` uses it for batch 1 only.
    """
    B, H, S, K = k_BxHxSxK.shape
    scale = 1.0 / math.sqrt(K)
    row_1xS = masks.causal_mask_row(S, t)

    def body(i, carry):
        m_BxHx1x1, l_BxHx1x1, acc_BxHx1xK = carry
        k_blk = jax.lax.dynamic_slice_in_dim(k_BxHxSxK, i * block, block, axis=2)
        v_blk = jax.lax.dynamic_slice_in_dim(v_BxHxSxK, i * block, block, axis=2)
        mask_1xb = jax.lax.dynamic_slice_in_dim(row_1xS, i * block, block, axis=1)
        s = jnp.einsum("bhtk,bhsk->bhts", q_BxHx1xK, k_blk).astype(jnp.float32) * scale
        s = jnp.where(mask_1xb[None, None], s, NEG_INF)
        m_new = jnp.maximum(m_BxHx1x1, s.max(-1, keepdims=True))
        p = jnp.exp(s - m_new)
        corr = jnp.exp(m_BxHx1x1 - m_new)
        l_new = l_BxHx1x1 * corr + p.sum(-1, keepdims=True)
        acc_new = acc_BxHx1xK * corr + jnp.einsum("bhts,bhsk->bhtk", p, v_blk.astype(jnp.float32))
        return m_new, l_new, acc_new

    n_blocks = jnp.minimum(t // block + 1, S // block)
    init = (jnp.full((B, H, 1, 1), NEG_INF, jnp.float32), jnp.zeros((B, H, 1, 1), jnp.float32),
            jnp.zeros((B, H, 1, K), jnp.float32))
    _, l, acc = jax.lax.fori_loop(0, n_blocks, body, init)
    return (acc / l).astype(q_BxHx1xK.dtype)


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
        """Projections q, k, v, each ``[B, H, T, K]``."""
        B, T, _ = x_BxTxW.shape
        H = self.num_heads
        qkv_BxTx3xHxK = flat.rows(self.qkv, x_BxTxW).reshape(B, T, 3, H, self.width // H)
        qkv_3xBxHxTxK = qkv_BxTx3xHxK.transpose(2, 0, 3, 1, 4)
        return qkv_3xBxHxTxK[0], qkv_3xBxHxTxK[1], qkv_3xBxHxTxK[2]

    def _out(self, y_BxHxTxK):
        B, H, T, K = y_BxHxTxK.shape
        return flat.rows(self.proj, y_BxHxTxK.transpose(0, 2, 1, 3).reshape(B, T, H * K))

    def __call__(self, x_BxTxW, deterministic: bool = True):
        """Parallel causal attention over T positions.  Returns ``(y_BxTxW, (k, v))``, k/v ``[B, H, T, K]``."""
        T = x_BxTxW.shape[1]
        q, k, v = self._qkv(x_BxTxW)
        mask_TxT = masks.causal_mask(T)
        drop = None if deterministic or self.dropout == 0.0 else (
            lambda a: self.attn_drop(a, deterministic=False))
        return self._out(masked_attention(q, k, v, mask_TxT, drop)), (k, v)

    def step(self, x_BxW, k_BxHxSxK, v_BxHxSxK, t):
        """One position ``t``: write its key/value into the buffers, attend to positions <= t."""
        S = k_BxHxSxK.shape[2]
        q, k, v = self._qkv(x_BxW[:, None, :])
        k_BxHxSxK = jax.lax.dynamic_update_slice(k_BxHxSxK, k.astype(k_BxHxSxK.dtype), (0, 0, t, 0))
        v_BxHxSxK = jax.lax.dynamic_update_slice(v_BxHxSxK, v.astype(v_BxHxSxK.dtype), (0, 0, t, 0))
        block = _decode_block(S)
        if k_BxHxSxK.shape[0] == 1 and block is not None:    # batch 1: read only the filled prefix
            y_BxHx1xK = prefix_attention(q, k_BxHxSxK, v_BxHxSxK, t, block)
        else:
            y_BxHx1xK = masked_attention(q, k_BxHxSxK, v_BxHxSxK, masks.causal_mask_row(S, t))
        return self._out(y_BxHx1xK)[:, 0], k_BxHxSxK, v_BxHxSxK
