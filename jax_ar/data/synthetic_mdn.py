"""A non-linear, multimodal AR(2) process whose conditional density is known exactly.

    x_t = a sin(b x_{t-1}) + d x_{t-2} + eps_t,
    eps_t ~ w N(+m, s^2) + (1 - w) N(-m, s^2)       (i.i.d., bimodal)

with x_t = 0 for t < 0 (the same zero history that the contract models
:mod:`jax_ar.models.mdn` and :mod:`jax_ar.models.ar_linear` assume).  Every
conditional p(x_t | x_<t) is the noise density shifted by the non-linear
mean, so its entropy does not depend on the past and the entropy rate is
exactly the noise entropy H(eps) (one-dimensional integral, computed to
~1e-10 on a fine grid): a model's NLL per step minus this number is the gap
(KL rate) to the truth.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from jax_ar.errors import ConfigError


def _normal_logpdf(x, mean, scale):
    z = (x - mean) / scale
    return -0.5 * z * z - math.log(scale) - 0.5 * math.log(2 * math.pi)


@dataclasses.dataclass(frozen=True)
class BimodalSineAR:
    a: float = 1.5
    b: float = 1.5
    d: float = -0.3
    m: float = 1.0
    s: float = 0.3
    w: float = 0.7

    def __post_init__(self):
        if not (0.0 < self.w < 1.0) or self.s <= 0 or abs(self.d) >= 1.0:
            raise ConfigError(f"need 0 < w < 1, s > 0 and |d| < 1 for a stationary bimodal process, got {self}")

    def mean(self, x1, x2):
        """Conditional location a sin(b x_{t-1}) + d x_{t-2}."""
        return self.a * np.sin(self.b * x1) + self.d * x2

    def noise_log_prob(self, e):
        l1 = math.log(self.w) + _normal_logpdf(e, self.m, self.s)
        l2 = math.log1p(-self.w) + _normal_logpdf(e, -self.m, self.s)
        return np.logaddexp(l1, l2)

    def entropy_rate(self) -> float:
        """H(eps) in nats per step (trapezoid rule on a 400k-point grid over +-(m + 15 s))."""
        lim = self.m + 15 * self.s
        e = np.linspace(-lim, lim, 400_001)
        lp = self.noise_log_prob(e)
        f = -np.exp(lp) * lp
        return float(np.sum((f[1:] + f[:-1]) * 0.5) * (e[1] - e[0]))

    def sample(self, num: int, length: int, seed: int = 0) -> np.ndarray:
        """``num`` sequences of ``length`` started from zero history, float32 [num, length]."""
        if num < 1 or length < 1:
            raise ConfigError(f"need num >= 1 and length >= 1, got {num}, {length}")
        rng = np.random.default_rng(seed)
        comp = rng.random((num, length)) < self.w
        eps = np.where(comp, self.m, -self.m) + self.s * rng.standard_normal((num, length))
        x = np.zeros((num, length + 2))
        for t in range(length):  # vectorised over the batch
            x[:, t + 2] = self.mean(x[:, t + 1], x[:, t]) + eps[:, t]
        return x[:, 2:].astype(np.float32)

    def log_prob(self, x_NxD) -> np.ndarray:
        """Exact log p(x) of each sequence (nats), zero history before the start."""
        x = np.asarray(x_NxD, np.float64)
        xp = np.pad(x, ((0, 0), (2, 0)))
        mu = self.mean(xp[:, 1:-1], xp[:, :-2])
        return self.noise_log_prob(x - mu).sum(axis=1)
