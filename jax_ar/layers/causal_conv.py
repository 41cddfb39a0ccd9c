"""Causal dilated 1-D convolution with a queue-based single-step form (Fast WaveNet).

Parallel form, for input ``h_BxTxC`` (``h_s = 0`` for ``s < 0``)::

    y_t = b + sum_{k=0}^{K-1} h_{t - (K-1-k) d} @ W[k]

so ``y_t`` sees ``h_t`` and ``K - 1`` earlier inputs spaced ``d`` apart, never
a later one.  Step form: the layer keeps the last ``L = (K-1) d`` inputs in a
circular queue ``q_BxLxC`` (slot ``s mod L`` holds ``h_s``); one step reads the
``K - 1`` taps it needs from the queue, then writes ``h_t`` into slot
``t mod L``.  Each step costs O(K C^2) whatever the dilation: this is the
per-layer cache of the Fast WaveNet algorithm (Paine et al., 2016).  A queue
starts as zeros, which is exactly the zero left padding of the parallel form.
"""
from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from jax_ar import errors


def receptive_field(dilations, kernel_size: int = 2) -> int:
    """Number of consecutive inputs ``h_{t-R+1..t}`` a stack of these convolutions sees."""
    return 1 + (kernel_size - 1) * int(sum(dilations))


class CausalConv1D(nn.Module):
    in_features: int
    features: int
    kernel_size: int = 2
    dilation: int = 1
    use_bias: bool = True

    def setup(self):
        if self.kernel_size < 1 or self.dilation < 1:
            raise errors.ConfigError(f"CausalConv1D needs kernel_size >= 1 and dilation >= 1, got "
                                     f"kernel_size={self.kernel_size}, dilation={self.dilation}")
        self.kernel_KxCxF = self.param("kernel", nn.initializers.lecun_normal(in_axis=(0, 1), out_axis=2),
                                       (self.kernel_size, self.in_features, self.features))
        self.bias_F = (self.param("bias", nn.initializers.zeros, (self.features,))
                       if self.use_bias else jnp.zeros((self.features,)))

    @property
    def queue_len(self) -> int:
        return (self.kernel_size - 1) * self.dilation

    def __call__(self, h_BxTxC):
        K, d, L = self.kernel_size, self.dilation, self.queue_len
        T = h_BxTxC.shape[1]
        padded_Bx_T_plus_L_xC = jnp.pad(h_BxTxC, ((0, 0), (L, 0), (0, 0)))
        y_BxTxF = self.bias_F
        for k in range(K):  # tap k reads h_{t - (K-1-k) d}
            tap_BxTxC = padded_Bx_T_plus_L_xC[:, k * d:k * d + T]
            y_BxTxF = y_BxTxF + tap_BxTxC @ self.kernel_KxCxF[k]
        return y_BxTxF

    def init_queue(self, batch_size: int, dtype=jnp.float32):
        """Zero queue ``q_BxLxC`` (the zero left padding of the parallel form)."""
        return jnp.zeros((batch_size, self.queue_len, self.in_features), dtype)

    def step(self, queue_BxLxC, h_BxC, t):
        """Output at time ``t`` from the current input and the queue; returns ``(y_BxF, queue)``."""
        K, d, L = self.kernel_size, self.dilation, self.queue_len
        y_BxF = self.bias_F
        for k in range(K - 1):
            slot = jnp.mod(t - (K - 1 - k) * d, L)  # slots not yet written hold zeros
            tap_BxC = jax.lax.dynamic_index_in_dim(queue_BxLxC, slot, axis=1, keepdims=False)
            y_BxF = y_BxF + tap_BxC @ self.kernel_KxCxF[k]
        y_BxF = y_BxF + h_BxC @ self.kernel_KxCxF[K - 1]
        if L:
            queue_BxLxC = jax.lax.dynamic_update_index_in_dim(
                queue_BxLxC, h_BxC.astype(queue_BxLxC.dtype), jnp.mod(t, L), axis=1)
        return y_BxF, queue_BxLxC
