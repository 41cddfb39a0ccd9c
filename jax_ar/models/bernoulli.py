"""Independent-Bernoulli baseline: p(x) = prod_d Bernoulli(x_d; sigmoid(b_d)).

It is the trivial member of the family (no dependence on the past), fitted
exactly by counting (:func:`fit_mle`, add-alpha smoothing).
"""
from __future__ import annotations

import numbers

import flax.linen as nn
import jax.numpy as jnp
import numpy as np

from jax_ar import distributions, errors
from jax_ar.contract import LinenARModel
from jax_ar.models.registry import register


class IndependentBernoulliNet(nn.Module):
    seq_len: int

    def setup(self):
        self.bias = self.param("bias", nn.initializers.zeros, (self.seq_len,))

    def __call__(self, x_BxD, cond_B=None):
        return jnp.broadcast_to(self.bias, x_BxD.shape)[..., None]

    def init_cache(self, batch_size, cond_B=None):
        return {"t": jnp.zeros((), jnp.int32), "batch": jnp.zeros((batch_size,), jnp.int32)}

    def step(self, cache, x_prev_B):
        t = cache["t"]
        out_Bx1 = jnp.broadcast_to(self.bias[t], x_prev_B.shape)[:, None]
        return out_Bx1, {"t": t + 1, "batch": cache["batch"]}


@register("bernoulli", tiny={"seq_len": 6})
def build(seq_len: int = 784) -> LinenARModel:
    return LinenARModel(IndependentBernoulliNet(seq_len), seq_len, distributions.Bernoulli())


def smoothed_logits(x_NxD, alpha: float = 1.0, *, name: str = "alpha", seq_len=None) -> jnp.ndarray:
    """logit of (count + alpha) / (N + 2 alpha) per pixel of binary ``x_NxD``, after checking both."""
    if (isinstance(alpha, bool) or not isinstance(alpha, numbers.Real)
            or not np.isfinite(alpha) or alpha <= 0):
        raise errors.ConfigError(f"{name} must be a finite number > 0 (add-{name} smoothing; {name} <= 0 gives "
                                 f"infinite or NaN logits for pixels that are constant in the data), got {alpha!r}")
    x = np.asarray(x_NxD)
    if x.ndim != 2:
        raise errors.ShapeError(f"binary data x_NxD must have shape [N, D], got shape {x.shape}")
    errors.check_sequences(x, seq_len=x.shape[-1] if seq_len is None else seq_len, kind="binary", name="x_NxD")
    p = (x.sum(0, dtype=np.float64) + alpha) / (x.shape[0] + 2.0 * alpha)
    return jnp.asarray(np.log(p) - np.log1p(-p), jnp.float32)


def fit_mle(x_NxD, alpha: float = 1.0) -> dict:
    """Exact (smoothed) maximum-likelihood params: logit of (count + alpha) / (N + 2 alpha)."""
    return {"bias": smoothed_logits(x_NxD, alpha)}
