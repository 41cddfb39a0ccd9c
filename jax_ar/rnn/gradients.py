"""The vanishing / exploding gradient story, measured.

For a loss at the last step T, back-propagation multiplies the gradient by
the step Jacobian dh_{k+1}/dh_k = diag(f'(a_{k+1})) W_h^T once per step, so

    || dL_T / dh_t ||  ~  sigma^(T - t)      (linear RNN with W_h = sigma * orthogonal)

shrinks geometrically for sigma < 1, stays constant at sigma = 1 and grows
geometrically for sigma > 1; tanh can only shrink it further (|tanh'| <= 1).

:func:`hidden_grad_norms` measures ``|| dL_T / dh_t ||`` exactly for any
recurrence ``recur(w, carry, xw) -> (carry, h)`` from :mod:`jax_ar.rnn.cells`
by adding a zero perturbation ``eps_t`` to ``h_t`` and differentiating the
loss with respect to it.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jax_ar import errors
from jax_ar.rnn.cells import GATES, RECUR


def linear_recur(w, carry, xw_BxH):
    """Linear RNN (identity activation): h_t = x_t W_x + h_{t-1} W_h."""
    (h,) = carry
    h = xw_BxH + h @ w["W_h"]
    return (h,), h


def scaled_orthogonal(key, hidden: int, sigma: float) -> jax.Array:
    """An ``[H, H]`` matrix with every singular value equal to ``sigma``."""
    q, r = jnp.linalg.qr(jax.random.normal(key, (hidden, hidden)))
    return sigma * q * jnp.sign(jnp.diag(r))[None, :]


def largest_singular_value(W) -> float:
    return float(np.linalg.svd(np.asarray(W), compute_uv=False)[0])


def hidden_grad_norms(recur, w, carry0, xw_TxBxG, readout_H) -> np.ndarray:
    """``|| dL_T / dh_t ||`` for t = 0..T-1 (geometric mean over the batch), L_T = h_T . readout.

    Index ``k`` of the result is ``T - 1 - t`` steps before the loss: result[0]
    is at the last step.
    """
    xw = jnp.asarray(xw_TxBxG)
    errors.check_finite(xw, "inputs")
    T, B = xw.shape[:2]
    H = carry0[-1].shape[-1]

    def loss(eps_TxBxH):
        def body(carry, inp):
            xw_t, eps_t = inp
            carry, _ = recur(w, carry, xw_t)
            return carry[:-1] + (carry[-1] + eps_t,), None
        carry, _ = jax.lax.scan(body, carry0, (xw, eps_TxBxH))
        return jnp.sum(carry[-1] @ readout_H)

    g_TxBxH = jax.jit(jax.grad(loss))(jnp.zeros((T, B, H)))
    # norms in float64 on the host: squares of float32 gradients above ~1e19 would overflow
    norms_TxB = np.linalg.norm(np.asarray(g_TxBxH, np.float64), axis=-1)
    geo_T = np.exp(np.mean(np.log(np.maximum(norms_TxB, 1e-300)), axis=-1))
    return geo_T[::-1]


def gradient_story(*, hidden: int = 64, steps: int = 100, batch: int = 16,
                   sigmas=(0.9, 1.0, 1.1), input_scale: float = 0.1, seed: int = 0) -> dict:
    """Norm of dL_T/dh_t versus T - t, for linear and tanh RNNs with W_h = sigma * orthogonal,
    and for LSTM and GRU cells with orthogonal (sigma = 1) recurrent blocks.

    Returns ``{name: norms[T]}`` (index = T - t - 1).
    """
    errors.check_positive(hidden, "hidden")
    errors.check_positive(steps, "steps")
    key = jax.random.PRNGKey(seed)
    k_w, k_x, k_r, k_g = jax.random.split(key, 4)
    readout = jax.random.normal(k_r, (hidden,)) / np.sqrt(hidden)
    out = {}
    for sigma in sigmas:
        W = scaled_orthogonal(k_w, hidden, sigma)
        xw = input_scale * jax.random.normal(k_x, (steps, batch, hidden))
        h0 = (jnp.zeros((batch, hidden)),)
        for name, recur in (("linear", linear_recur), ("tanh", RECUR["rnn"])):
            out[f"{name} sigma={sigma:g}"] = hidden_grad_norms(recur, {"W_h": W}, h0, xw, readout)
    for cell in ("lstm", "gru"):
        G = GATES[cell]
        ks = jax.random.split(k_g, G)
        W = jnp.concatenate([scaled_orthogonal(k, hidden, 1.0) for k in ks], axis=1)
        w = {"W_h": W, "b_h": jnp.zeros((G * hidden,))}
        b = jnp.zeros((G * hidden,))
        if cell == "lstm":
            b = b.at[hidden:2 * hidden].set(1.0)  # forget-gate bias 1
        xw = input_scale * jax.random.normal(k_x, (steps, batch, G * hidden)) + b
        z = jnp.zeros((batch, hidden))
        carry0 = (z, z) if cell == "lstm" else (z,)
        out[f"{cell} (init)"] = hidden_grad_norms(RECUR[cell], w, carry0, xw, readout)
    return out
