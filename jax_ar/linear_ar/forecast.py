"""Simulation (``lax.scan`` sampling) and h-step forecasting of a fitted AR(p).

Forecast mean: iterate the recursion with future innovations set to zero.
Forecast variance: sigma^2 * sum_{j<h} psi_j^2 where psi are the MA(inf)
weights (psi_0 = 1, psi_j = sum_{k=1..min(j,p)} phi_k psi_{j-k}).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jax_ar import errors
from jax_ar.linear_ar.fit import ARFit, check_series


def _recursion(c, phi_P, hist_P, noise_H):
    """hist_P[k-1] = x_{t-k}; returns x_t for each noise value (one per step)."""
    def body(hist, e):
        x = c + hist @ phi_P + e
        return jnp.concatenate([x[None], hist[:-1]]), x
    _, xs = jax.lax.scan(body, hist_P, noise_H)
    return xs


@jax.jit
def _simulate(c, phi, sigma, key, burn_noise):
    """burn_noise: [B, burn + T] standard normals (shape only used with key)."""
    p = phi.shape[0]
    eps = sigma * jax.random.normal(key, burn_noise.shape, phi.dtype)
    run = lambda e: _recursion(c, phi, jnp.zeros((p,), phi.dtype), e)
    return jax.vmap(run)(eps)


def simulate(params: ARFit, key, num_series: int, length: int, *, burn_in: int = 500) -> np.ndarray:
    """Sample ``num_series`` paths of ``length`` from one AR(p) (float32 [B, T]).

    Starts from zeros and discards ``burn_in`` steps, so for a stationary
    model the paths are (approximately) draws from the stationary process.
    """
    if np.ndim(params.phi) != 1:
        raise errors.ShapeError(f"simulate takes one AR model (phi of shape [p]), got {np.shape(params.phi)}")
    if num_series < 1 or length < 1 or burn_in < 0:
        raise errors.ConfigError(f"need num_series >= 1, length >= 1, burn_in >= 0; got "
                                 f"{num_series}, {length}, {burn_in}")
    phi = jnp.asarray(params.phi, jnp.float32)
    shape = jnp.zeros((num_series, burn_in + length), jnp.float32)
    xs = _simulate(jnp.float32(params.c), phi, jnp.float32(np.sqrt(params.sigma2)), key, shape)
    return np.asarray(xs[:, burn_in:])


def psi_weights(phi, h: int) -> np.ndarray:
    """The first h MA(inf) weights psi_0..psi_{h-1} of an AR(p)."""
    phi = np.asarray(phi, np.float64)
    psi = np.zeros(h)
    psi[0] = 1.0
    for j in range(1, h):
        k = min(j, phi.shape[0])
        psi[j] = phi[:k] @ psi[j - k:j][::-1]
    return psi


def forecast(params: ARFit, history, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of x_{T+1..T+steps} given the observed ``history`` x_{1..T}.

    Returns float64 ``(mean[steps], var[steps])``; matches statsmodels
    ``AutoRegResults.forecast``.
    """
    a = check_series(history, name="history")
    p = np.shape(params.phi)[-1]
    if np.ndim(params.phi) != 1:
        raise errors.ShapeError(f"forecast takes one AR model (phi of shape [p]), got {np.shape(params.phi)}")
    if a.shape[0] < p:
        raise errors.ConfigError(f"forecasting an AR({p}) needs at least {p} past values, got {a.shape[0]}")
    if steps < 1:
        raise errors.ConfigError(f"steps must be >= 1, got {steps}")
    with jax.enable_x64(True):
        hist = jnp.asarray(a[::-1][:p].copy())
        mean = _recursion(jnp.float64(params.c), jnp.asarray(params.phi, jnp.float64), hist, jnp.zeros(steps))
        mean = np.asarray(mean)
    var = float(params.sigma2) * np.cumsum(psi_weights(params.phi, steps) ** 2)
    return mean, var
