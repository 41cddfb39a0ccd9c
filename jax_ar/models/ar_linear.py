"""Linear Gaussian AR(p) as a contract model over fixed-length sequences x_BxD.

    p(x_t | x_<t) = N(c + sum_{k=1..p} phi_k x_{t-k},  sigma^2)

First p elements: the history before the sequence is taken to be ZERO
(x_t = 0 for t < 0), so x_0 ~ N(c, sigma^2), x_1 ~ N(c + phi_1 x_0, sigma^2),
and so on.  This makes ``log_prob`` a proper density of all D elements and
``outputs``/``step`` identical; the matching closed-form fit is
``jax_ar.linear_ar.fit(x, p, pad=True)`` (the statsmodels convention,
conditioning on the first p values instead, is ``pad=False``).

Params: ``{"c": [], "phi_P": [p], "log_sigma": []}``.  ``outputs`` is a
causal convolution with the lag weights (the input shifted right by k for
lag k, zeros shifted in), O(p D); ``step`` keeps the last p values in the
cache.  No network, so this subclasses :class:`ARModelBase` directly.
"""
from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np

from jax_ar import distributions, errors
from jax_ar.contract import ARModelBase
from jax_ar.models.registry import register


def lagged(x_BxD, p: int):
    """lags_BxDxP[:, t, k-1] = x_{t-k} (zero for t-k < 0)."""
    D = x_BxD.shape[1]
    xpad = jnp.pad(x_BxD, ((0, 0), (p, 0)))
    return jnp.stack([xpad[:, p - k:p - k + D] for k in range(1, p + 1)], axis=-1)


@dataclasses.dataclass(frozen=True, eq=False)
class ARLinear(ARModelBase):
    stationary = True   # the same phi at every t: forecasts run past seq_len
    seq_len: int
    order: int
    dist: distributions.Gaussian = distributions.Gaussian()
    num_classes: int = 0

    def __post_init__(self):
        super().__post_init__()
        if isinstance(self.order, bool) or int(self.order) != self.order or self.order < 1:
            raise errors.ConfigError(f"AR order p must be an integer >= 1, got {self.order!r}")
        if self.order >= self.seq_len:
            raise errors.ConfigError(f"AR order p={self.order} must be smaller than the series length "
                                     f"{self.seq_len}")

    def init(self, key):
        del key  # deterministic: white noise N(0, 1)
        return {"c": jnp.zeros(()), "phi_P": jnp.zeros((self.order,)), "log_sigma": jnp.zeros(())}

    def outputs(self, params, x_BxD, cond_B=None):
        self.check_outputs_input(x_BxD, cond_B)
        x_BxD = jnp.asarray(x_BxD, jnp.float32)
        mean_BxD = params["c"] + lagged(x_BxD, self.order) @ params["phi_P"]
        log_sigma_BxD = jnp.broadcast_to(params["log_sigma"], mean_BxD.shape)
        return jnp.stack([mean_BxD, log_sigma_BxD], axis=-1)

    def init_cache(self, params, batch_size: int, cond_B=None):
        self.check_cache_request(batch_size, cond_B)
        return {"t": jnp.zeros((), jnp.int32), "hist_BxP": jnp.zeros((batch_size, self.order), jnp.float32)}

    def step(self, params, cache, x_prev_B):
        self.check_step_input(x_prev_B)
        t = cache["t"]
        shifted = jnp.concatenate([jnp.asarray(x_prev_B, jnp.float32)[:, None], cache["hist_BxP"][:, :-1]], 1)
        hist_BxP = jnp.where(t > 0, shifted, cache["hist_BxP"])
        mean_B = params["c"] + hist_BxP @ params["phi_P"]
        out_Bx2 = jnp.stack([mean_B, jnp.broadcast_to(params["log_sigma"], mean_B.shape)], -1)
        return out_Bx2, {"t": t + 1, "hist_BxP": hist_BxP}


def params_from_fit(fit) -> dict:
    """Contract-model params from a :class:`jax_ar.linear_ar.ARFit` (one series' fit)."""
    if np.ndim(fit.phi) != 1:
        raise errors.ShapeError(f"params_from_fit takes one fitted model (phi [p]), got {np.shape(fit.phi)}")
    return {"c": jnp.float32(fit.c), "phi_P": jnp.asarray(fit.phi, jnp.float32),
            "log_sigma": jnp.float32(0.5 * np.log(fit.sigma2))}


@register("ar_linear", tiny={"seq_len": 5, "order": 2}, trainable=True)
def build(seq_len: int = 1000, order: int = 2) -> ARLinear:
    return ARLinear(seq_len, order)
