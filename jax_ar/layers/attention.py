"""Masked multi-head self-attention with an explicit causal mask and a KV-cache step.

The causal mask is the boolean array ``masks.causal_mask(T)``; it is applied
with ``jnp.where`` to float32 scores (masked scores become the most negative
float32, so their softmax weight is exactly zero).  The cached step uses row
``t`` of that mask, ``masks.causal_mask_row(S, t)``, over key/value buffers of
S slots, stored ``[B * H, S, K]`` (batch and heads folded into one leading
axis: at batch 1 XLA:CPU otherwise squeezes the unit batch axis of the
just-updated buffer and copies the whole cache every step).
"""
from __future__ import annotations

import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from jax_ar import errors, masks
from jax_ar.layers import flat, mixed

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


class QKVProjection(nn.Module):
    """The q/k/v projection: ``nn.Dense``'s parameters (``kernel`` [F, 3W], optional ``bias`` [3W]).

    ``split=True`` (the parallel pass) applies it as three products against
    column slices of the kernel, ``split=False`` (a decoding step) as one.  Same
    arithmetic; the split form spares XLA:CPU reassembling the three gradients
    into one [N, 3W] array in the backward pass (a 5-D transpose), which cost
    a third or more of the attention sub-layer's training time.
    """
    width: int
    use_bias: bool = False
    kernel_init: nn.initializers.Initializer = nn.initializers.normal(0.02)
    matmul_dtype: str = "float32"

    @nn.compact
    def __call__(self, x_NxF, split: bool):
        W = self.width
        kernel_Fx3W = self.param("kernel", self.kernel_init, (x_NxF.shape[-1], 3 * W))
        bias_3W = self.param("bias", nn.initializers.zeros_init(), (3 * W,)) if self.use_bias else None
        mm = mixed.matmul_fn(self.matmul_dtype)
        if split:
            parts = [mm(x_NxF, kernel_Fx3W[:, i * W:(i + 1) * W]) for i in range(3)]
        else:
            y_Nx3W = mm(x_NxF, kernel_Fx3W)
            parts = [y_Nx3W[:, i * W:(i + 1) * W] for i in range(3)]
        if bias_3W is not None:
            parts = [a + bias_3W[i * W:(i + 1) * W] for i, a in enumerate(parts)]
        return parts


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention: q/k/v projection, output projection."""
    width: int
    num_heads: int
    use_bias: bool = False
    dropout: float = 0.0
    out_init_std: float = 0.02
    matmul_dtype: str = "float32"     # projections' operands: float32 | bfloat16 (see layers.mixed)

    def setup(self):
        check_heads(self.width, self.num_heads)
        self.qkv = QKVProjection(self.width, self.use_bias, nn.initializers.normal(0.02), self.matmul_dtype,
                                 name="qkv")
        self.proj = nn.Dense(self.width, use_bias=self.use_bias, kernel_init=nn.initializers.normal(self.out_init_std),
                             dot_general=mixed.dense_dot_general(self.matmul_dtype), name="proj")
        self.attn_drop = nn.Dropout(self.dropout)

    def _qkv(self, x_BxTxW, split: bool = True):
        """Projections q, k, v, each ``[B, H, T, K]``."""
        B, T, _ = x_BxTxW.shape
        H = self.num_heads
        parts = self.qkv(x_BxTxW.reshape(B * T, -1), split)
        return tuple(a.reshape(B, T, H, self.width // H).transpose(0, 2, 1, 3) for a in parts)

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

    def step(self, x_BxW, k_NxSxK, v_NxSxK, t):
        """One position ``t``: write its key/value into slot ``t`` of the buffers, attend to slots <= t.

        The buffers are ``[N, S, K]`` with ``N = B * H`` (row ``b * H + h``); S is whatever length they have."""
        B, H = x_BxW.shape[0], self.num_heads
        K = self.width // H
        S = k_NxSxK.shape[1]
        q, k, v = (a.reshape(B * H, 1, K) for a in self._qkv(x_BxW[:, None, :], split=False))
        k_NxSxK = jax.lax.dynamic_update_slice(k_NxSxK, k.astype(k_NxSxK.dtype), (0, t, 0))
        v_NxSxK = jax.lax.dynamic_update_slice(v_NxSxK, v.astype(v_NxSxK.dtype), (0, t, 0))
        y_Nx1xK = masked_attention(q[None], k_NxSxK[None], v_NxSxK[None], masks.causal_mask_row(S, t))[0]
        return self._out(y_Nx1xK.reshape(B, H, 1, K))[:, 0], k_NxSxK, v_NxSxK
