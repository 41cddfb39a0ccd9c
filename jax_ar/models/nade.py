"""NADE: the neural autoregressive distribution estimator (Larochelle & Murray, 2011).

For binary x in raster order, with ONE input-to-hidden matrix ``W_HxD`` tied
across all positions::

    a_d = c + sum_{j<d} W[:, j] x_j          (running pre-activation, [H])
    h_d = sigmoid(a_d)
    p(x_d = 1 | x_<d) = sigmoid(b_d + V[d] . h_d)

Because ``a_{d+1} = a_d + W[:, d] x_d``, all D pre-activations are one
exclusive cumulative sum over the position axis: O(D H) work per image, one
parallel pass, no Python loop over pixels (``__call__``).  Sampling keeps the
running pre-activation ``a_BxH`` in the cache, so each ``step`` costs O(H)
for the update plus O(H) for the output: the whole image is O(D H) too.
"""
from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from jax_ar import distributions, errors, masks
from jax_ar.contract import LinenARModel
from jax_ar.models import bernoulli
from jax_ar.models.registry import register

ACTIVATIONS = {"sigmoid": jax.nn.sigmoid, "relu": jax.nn.relu, "tanh": jnp.tanh}


class NADENet(nn.Module):
    """Tied-weight NADE for binary sequences of length ``seq_len``."""
    seq_len: int
    hidden_size: int
    activation: str = "sigmoid"
    prefix: str = "cumsum"       # "cumsum" | "blocked" (same values; blocked is matmul-friendly on CPU)

    def setup(self):
        D, H = self.seq_len, self.hidden_size
        init = nn.initializers.normal(stddev=0.01)
        self.W = self.param("W", init, (H, D))          # input -> hidden, shared by every position
        self.c = self.param("c", nn.initializers.zeros, (H,))
        self.V = self.param("V", init, (D, H))          # hidden -> output, one row per position
        self.b = self.param("b", nn.initializers.zeros, (D,))
        self.act = ACTIVATIONS[self.activation]

    def preactivations(self, x_BxD):
        """``a_BxDxH[:, d] = c + sum_{j<d} W[:, j] x_j``: an exclusive cumsum over positions."""
        if self.prefix == "blocked":
            return self.preactivations_blocked(x_BxD)
        contrib_BxDxH = x_BxD.astype(jnp.float32)[:, :, None] * self.W.T[None]
        zeros_Bx1xH = jnp.zeros_like(contrib_BxDxH[:, :1])
        running_BxDxH = jnp.cumsum(jnp.concatenate([zeros_Bx1xH, contrib_BxDxH[:, :-1]], axis=1), axis=1)
        return running_BxDxH + self.c

    def preactivations_blocked(self, x_BxD):
        """The same running sum in two levels: positions are cut into ``N`` blocks of ``L``;
        inside a block the exclusive prefix is a strictly-lower-triangular ``L x L`` matmul,
        across blocks an exclusive cumsum of the block totals.  O(D H L) multiply-adds, but all
        in matmuls, and no [B, D, H] contribution tensor is materialised before the sum."""
        B, D = x_BxD.shape
        L = block_size(D)
        x_BxNxL = x_BxD.astype(jnp.float32).reshape(B, D // L, L)
        W_NxLxH = self.W.T.reshape(D // L, L, self.hidden_size)
        tri_LxL = masks.strict_causal_mask(L).astype(jnp.float32)
        within_BxNxLxH = jnp.einsum("bnj,ij,njh->bnih", x_BxNxL, tri_LxL, W_NxLxH)
        total_BxNxH = jnp.einsum("bnj,njh->bnh", x_BxNxL, W_NxLxH)
        offset_BxNxH = jnp.cumsum(total_BxNxH, axis=1) - total_BxNxH
        return (within_BxNxLxH + offset_BxNxH[:, :, None]).reshape(B, D, self.hidden_size) + self.c

    def __call__(self, x_BxD, cond_B=None):
        h_BxDxH = self.act(self.preactivations(x_BxD))
        logits_BxD = jnp.einsum("bdh,dh->bd", h_BxDxH, self.V) + self.b
        return logits_BxD[..., None]

    def init_cache(self, batch_size, cond_B=None):
        # the running pre-activation a_t (before x_{t-1} is added) and the step index
        return {"t": jnp.zeros((), jnp.int32),
                "a_BxH": jnp.broadcast_to(self.c, (batch_size, self.hidden_size))}

    def step(self, cache, x_prev_B):
        t = cache["t"]
        w_prev_H = jax.lax.dynamic_index_in_dim(self.W, jnp.maximum(t - 1, 0), axis=1, keepdims=False)
        add_BxH = x_prev_B.astype(jnp.float32)[:, None] * w_prev_H[None, :]
        a_BxH = cache["a_BxH"] + jnp.where(t > 0, add_BxH, 0.0)
        v_H = jax.lax.dynamic_index_in_dim(self.V, t, axis=0, keepdims=False)
        b = jax.lax.dynamic_index_in_dim(self.b, t, axis=0, keepdims=False)
        logit_B = self.act(a_BxH) @ v_H + b
        return logit_B[:, None], {"t": t + 1, "a_BxH": a_BxH}


def block_size(D: int, max_block: int = 32) -> int:
    """Largest divisor of ``D`` that is at most ``max_block`` (28 for 784)."""
    return max(L for L in range(1, min(D, max_block) + 1) if D % L == 0)


def init_from_data(model, key, x_NxD, smoothing: float = 1.0):
    """``model.init(key)`` with the output biases set to the logit of each pixel's (smoothed) mean in ``x``.

    With the small initial weights, the model then starts as the independent-Bernoulli fit.
    """
    b = bernoulli.smoothed_logits(x_NxD, smoothing, name="smoothing", seq_len=model.seq_len)
    return {**model.init(key), "b": b}


def flops_per_image(seq_len: int, hidden_size: int) -> int:
    """Floating-point operations of one ``log_prob`` (multiply-adds count 2), activations excluded."""
    D, H = seq_len, hidden_size
    return D * H * (1 + 1 + 2)  # x_d * W[:, d], running sum, V[d] . h_d


@register("nade", tiny={"seq_len": 6, "hidden_size": 5})
def build(seq_len: int = 784, hidden_size: int = 500, activation: str = "sigmoid",
          prefix: str = "cumsum") -> LinenARModel:
    if seq_len < 1:
        raise errors.ConfigError(f"seq_len must be >= 1, got {seq_len}")
    if hidden_size < 1:
        raise errors.ConfigError(f"hidden_size must be >= 1, got {hidden_size}")
    if activation not in ACTIVATIONS:
        raise errors.ConfigError(f"unknown activation {activation!r}; choose one of {sorted(ACTIVATIONS)}")
    if prefix not in ("cumsum", "blocked"):
        raise errors.ConfigError(f"prefix must be 'cumsum' or 'blocked', got {prefix!r}")
    return LinenARModel(NADENet(seq_len, hidden_size, activation, prefix), seq_len, distributions.Bernoulli())
