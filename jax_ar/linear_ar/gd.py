"""The same AR(p) fitted by gradient descent on the Gaussian NLL with optax.

The parameters are (c, phi, log sigma); the loss is the mean conditional
negative log-likelihood, so its minimiser is exactly the closed-form OLS/MLE
of :func:`jax_ar.linear_ar.fit` - the test checks they agree.  The series
is standardised first ((x - m) / s, a fixed affine reparametrisation that
leaves the optimum unchanged after mapping back), which makes the problem
well conditioned for any optimiser.  The loop is one ``lax.scan``.
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jax_ar import errors
from jax_ar.linear_ar.fit import ARFit, check_order, check_series


def _lags(z, p):
    T = z.shape[-1]
    X = jnp.stack([z[p - k:T - k] for k in range(1, p + 1)], axis=-1)
    return X, z[p:]


def nll(theta, X, y):
    """Mean Gaussian NLL per regression row; theta = dict(c, phi, log_sigma)."""
    r = y - theta["c"] - X @ theta["phi"]
    ls = theta["log_sigma"]
    return jnp.mean(0.5 * r * r * jnp.exp(-2 * ls) + ls) + 0.5 * math.log(2 * math.pi)


def fit_gd(x, p: int, *, steps: int = 100, optimizer: optax.GradientTransformation | None = None):
    """Fit AR(p) to one series by minimising the NLL with an optax optimiser.

    Default optimiser: L-BFGS (``optax.lbfgs``, zoom line search), which
    reaches the closed form to ~1e-9 in a few dozen steps; any optax optimiser
    works (e.g. ``optax.adam(0.05)`` with a few thousand steps).
    Returns ``(ARFit, loss_history[steps])`` with the loss in nats per row
    (of the standardised series).
    """
    a = check_series(x)
    p = check_order(p, a.shape[0])
    if steps < 1:
        raise errors.ConfigError(f"steps must be >= 1, got {steps}")
    m, s = float(a.mean()), float(a.std())
    if s == 0.0:
        raise errors.ValueRangeError("series is constant; AR(p) has no unique fit (zero variance)")
    linesearch = optimizer is None
    opt = optax.with_extra_args_support(optax.lbfgs() if linesearch else optimizer)
    with jax.enable_x64(True):
        X, y = _lags(jnp.asarray((a - m) / s), p)
        theta0 = {"c": jnp.zeros(()), "phi": jnp.zeros((p,)), "log_sigma": jnp.zeros(())}
        theta, hist = _run(theta0, X, y, opt, steps, linesearch)
        phi = np.asarray(theta["phi"])
        c = float(theta["c"]) * s + m * (1.0 - phi.sum())
        sigma2 = float(np.exp(2 * float(theta["log_sigma"]))) * s * s
        n = y.shape[0]
        llf = -float(nll(theta, X, y)) * n - n * math.log(s)
        return ARFit(np.asarray(c), phi, np.asarray(sigma2), np.asarray(float(n)), np.asarray(llf)), np.asarray(hist)


def _run(theta0, X, y, opt, steps, linesearch):
    loss = lambda th: nll(th, X, y)
    if linesearch:  # L-BFGS keeps the value and gradient of the accepted step in its state
        value_and_grad = optax.value_and_grad_from_state(loss)
    else:
        value_and_grad = lambda th, state: jax.value_and_grad(loss)(th)

    @jax.jit
    def go(theta):
        def body(carry, _):
            th, st = carry
            v, g = value_and_grad(th, state=st)
            upd, st = opt.update(g, st, th, value=v, grad=g, value_fn=loss)
            return (optax.apply_updates(th, upd), st), v
        (th, _), hist = jax.lax.scan(body, (theta, opt.init(theta)), None, length=steps)
        return th, hist

    return go(theta0)
