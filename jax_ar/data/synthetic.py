"""Synthetic sources with exactly known entropy: the embedded default data.

Each source reports its true entropy (rate), so a model's NLL can be stated
as a gap to the optimum: ``gap = model_nll - true_entropy >= 0`` in
expectation (the KL divergence from the source to the model).
"""
from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np

from jax_ar.errors import ConfigError


# --------------------------------------------------------------- Markov text
@dataclasses.dataclass(frozen=True)
class MarkovChain:
    """A random first-order Markov chain over ``vocab_size`` symbols."""
    transition_VxV: np.ndarray
    stationary_V: np.ndarray

    @property
    def vocab_size(self) -> int:
        return self.transition_VxV.shape[0]

    def entropy_rate(self) -> float:
        """H = -sum_i pi_i sum_j P_ij ln P_ij  (nats per symbol)."""
        P = self.transition_VxV
        logP = np.log(np.where(P > 0, P, 1.0))
        return float(-np.sum(self.stationary_V[:, None] * P * logP))

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        """A stream of ``n`` symbols started from the stationary distribution."""
        rng = np.random.default_rng(seed)
        cum = np.cumsum(self.transition_VxV, axis=1)
        u = rng.random(n)
        out = np.empty(n, np.int32)
        s = rng.choice(self.vocab_size, p=self.stationary_V)
        for t in range(n):  # n is modest for the embedded default data
            out[t] = s
            s = min(int(np.searchsorted(cum[s], u[t], side="right")), self.vocab_size - 1)
        return out

    def sequence_log_prob(self, x_BxT: np.ndarray) -> np.ndarray:
        """Exact log p(x) of sequences whose first symbol is drawn from the stationary law."""
        x = np.asarray(x_BxT)
        lp = np.log(self.stationary_V[x[:, 0]])
        lp += np.log(self.transition_VxV[x[:, :-1], x[:, 1:]]).sum(axis=1)
        return lp


def markov_chain(vocab_size: int = 8, concentration: float = 0.3, seed: int = 0) -> MarkovChain:
    """Rows drawn from Dirichlet(concentration): small values give low-entropy, text-like chains."""
    if vocab_size < 2:
        raise ConfigError(f"vocab_size must be >= 2, got {vocab_size}")
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.full(vocab_size, concentration), size=vocab_size)
    P = np.maximum(P, 1e-6)
    P /= P.sum(1, keepdims=True)
    return MarkovChain(P, stationary(P))


def stationary(P_VxV: np.ndarray) -> np.ndarray:
    """The stationary distribution pi = pi P of an irreducible transition matrix."""
    w, v = np.linalg.eig(np.asarray(P_VxV).T)
    pi = np.abs(np.real(v[:, np.argmin(np.abs(w - 1.0))]))
    return pi / pi.sum()


# -------------------------------------------------------- Gaussian AR(p)
@dataclasses.dataclass(frozen=True)
class GaussianAR:
    """x_t = c + sum_k phi_k x_{t-k} + sigma * eps_t."""
    phi: tuple
    sigma: float = 1.0
    c: float = 0.0

    def check_stationary(self) -> None:
        roots = np.roots(np.r_[1.0, -np.asarray(self.phi)])
        if np.any(np.abs(roots) >= 1.0):
            raise ConfigError(f"AR coefficients {self.phi} are not stationary")

    def entropy_rate(self) -> float:
        """0.5 ln(2 pi e sigma^2) nats per step (the innovation entropy)."""
        return 0.5 * math.log(2 * math.pi * math.e * self.sigma ** 2)

    def sample(self, num_series: int, length: int, seed: int = 0, burn_in: int = 200) -> np.ndarray:
        self.check_stationary()
        rng = np.random.default_rng(seed)
        p = len(self.phi)
        phi = np.asarray(self.phi)[::-1]
        x = np.zeros((num_series, length + burn_in + p))
        eps = rng.standard_normal(x.shape) * self.sigma
        for t in range(p, x.shape[1]):
            x[:, t] = self.c + x[:, t - p:t] @ phi + eps[:, t]
        return x[:, p + burn_in:].astype(np.float32)


# --------------------------------------------------- bars and stripes images
MAX_BAS_N = 16   # the family is enumerated: 2^17 - 2 = 131,070 images of 256 pixels, ~2 s; n = 28 would never end


def check_bas_n(n: int, name: str = "n") -> None:
    if not 1 <= n <= MAX_BAS_N:
        raise ConfigError(f"{name} (bars-and-stripes image side) must be in [1, {MAX_BAS_N}], got {n!r}: "
                          f"the 2^(n+1) - 2 images are enumerated")


def bars_and_stripes(n: int = 4) -> np.ndarray:
    """All distinct n x n bars-and-stripes images, uint8 [2^(n+1) - 2, n*n], for 1 <= n <= MAX_BAS_N.

    Each image has every row constant (stripes) or every column constant
    (bars); the all-0 and all-1 images belong to both and appear once.
    """
    check_bas_n(n)
    imgs = set()
    for bits in itertools.product((0, 1), repeat=n):
        col = np.array(bits, np.uint8)
        imgs.add(np.repeat(col[:, None], n, 1).tobytes())  # stripes
        imgs.add(np.repeat(col[None, :], n, 0).tobytes())  # bars
    return np.stack([np.frombuffer(b, np.uint8) for b in sorted(imgs)])


def bars_and_stripes_entropy(n: int = 4) -> float:
    """Entropy (nats per image) of the uniform distribution over the distinct images."""
    check_bas_n(n)
    return math.log(2 ** (n + 1) - 2)


def bars_and_stripes_dataset(n: int, num: int, seed: int = 0) -> np.ndarray:
    """``num`` images drawn uniformly from the bars-and-stripes family."""
    family = bars_and_stripes(n)
    rng = np.random.default_rng(seed)
    return family[rng.integers(0, family.shape[0], num)]
