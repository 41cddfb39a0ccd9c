"""Mixture density autoregression (NADE-style MDN) for continuous sequences.

    p(x_t | x_<t) = sum_k pi_k N(x_t; mu_k, s_k^2),   (pi, mu, log s) = f(x_{t-W..t-1})

One MLP ``f`` shared over positions reads a window of the W previous values
(zeros before the start of the sequence, as in :mod:`jax_ar.models.ar_linear`)
and emits K mixture logits (softmax inside the distribution), K means and K
log-scales (exp inside the distribution): ``out[..., 3K]`` for
:class:`jax_ar.distributions.MixtureOfGaussians`, whose NLL is a
log-sum-exp over components.  The means get an extra linear read-out of the
window (``linear_skip``), so the model contains linear AR(W) as a special
case.  Log-scales are softly bounded below by ``min_log_scale``.

``__call__`` builds all windows with right-shifts of the input (one parallel
pass); the cache is the window of the last W values plus the position t, so
sampling under ``lax.scan`` feeds each sample back through ``step``.
"""
from __future__ import annotations

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp

from jax_ar import distributions, errors
from jax_ar.contract import LinenARModel
from jax_ar.models.ar_linear import lagged
from jax_ar.models.registry import register


class MDNNet(nn.Module):
    seq_len: int
    window: int = 16
    hidden: int = 64
    num_layers: int = 2
    num_components: int = 4
    linear_skip: bool = True
    min_log_scale: float = -9.0

    def setup(self):
        self.layers = [nn.Dense(self.hidden, name=f"hidden_{i}") for i in range(self.num_layers)]
        self.head = nn.Dense(3 * self.num_components, name="head",
                             kernel_init=nn.initializers.normal(0.01))
        if self.linear_skip:
            self.skip = nn.Dense(self.num_components, use_bias=False, name="skip",
                                 kernel_init=nn.initializers.zeros)

    def mixture_params(self, win_NxW):
        """Window of past values (most recent first) -> out [..., 3K]."""
        h = win_NxW
        for layer in self.layers:
            h = jnp.tanh(layer(h))
        K = self.num_components
        raw = self.head(h)
        logit_w, mean, raw_ls = raw[..., :K], raw[..., K:2 * K], raw[..., 2 * K:]
        if self.linear_skip:
            mean = mean + self.skip(win_NxW)
        log_scale = self.min_log_scale + jax.nn.softplus(raw_ls - self.min_log_scale)
        return jnp.concatenate([logit_w, mean, log_scale], axis=-1)

    def __call__(self, x_BxD, cond_B=None):
        win_BxDxW = lagged(jnp.asarray(x_BxD, jnp.float32), self.window)
        return self.mixture_params(win_BxDxW)

    def init_cache(self, batch_size, cond_B=None):
        return {"t": jnp.zeros((), jnp.int32), "past_BxW": jnp.zeros((batch_size, self.window), jnp.float32)}

    def step(self, cache, x_prev_B):
        t = cache["t"]
        shifted = jnp.concatenate([jnp.asarray(x_prev_B, jnp.float32)[:, None], cache["past_BxW"][:, :-1]], 1)
        past_BxW = jnp.where(t > 0, shifted, cache["past_BxW"])
        return self.mixture_params(past_BxW), {"t": t + 1, "past_BxW": past_BxW}


@dataclasses.dataclass(frozen=True, eq=False)
class MDNModel(LinenARModel):
    """The contract adapter; the network sees a window of past values, so it runs past seq_len."""
    stationary = True


@register("mdn", tiny={"seq_len": 5, "window": 3, "hidden": 8, "num_layers": 1, "num_components": 2})
def build(seq_len: int = 1000, window: int = 16, hidden: int = 64, num_layers: int = 2,
          num_components: int = 4, linear_skip: bool = True, min_log_scale: float = -9.0) -> LinenARModel:
    for name, v, lo in (("seq_len", seq_len, 1), ("window", window, 1), ("hidden", hidden, 1),
                        ("num_layers", num_layers, 0), ("num_components", num_components, 1)):
        if isinstance(v, bool) or int(v) != v or v < lo:
            raise errors.ConfigError(f"mdn {name} must be an integer >= {lo}, got {v!r}")
    net = MDNNet(seq_len, window, hidden, num_layers, num_components, linear_skip, min_log_scale)
    return MDNModel(net, seq_len, distributions.MixtureOfGaussians(num_components))


def clip_log_probs(model, params, clips: list, *, batch_size: int = 8):
    """Per-element log-densities of variable-length clips, each from zero history.

    Clips are zero-padded at the END to a common length (causality: padding
    after a clip cannot change its outputs) and the padded positions are
    dropped; ``model`` must be built with ``seq_len`` >= the longest clip.
    Returns a list of float64 arrays, one per clip.
    """
    import numpy as np
    L = model.seq_len
    for i, c in enumerate(clips):
        errors.check_finite(np.asarray(c), f"clip {i}")
        if np.ndim(c) != 1 or len(c) > L:
            raise errors.ShapeError(f"clip {i} has shape {np.shape(c)}; need 1-D of length <= {L}")
    fn = jax.jit(lambda p, x: model.dist.log_prob(model.outputs(p, x), x))
    out = []
    for s in range(0, len(clips), batch_size):
        part = clips[s:s + batch_size]
        x = np.zeros((batch_size, L), np.float32)
        for j, c in enumerate(part):
            x[j, :len(c)] = c
        lp = np.asarray(fn(params, jnp.asarray(x)), np.float64)
        out += [lp[j, :len(c)] for j, c in enumerate(part)]
    return out
