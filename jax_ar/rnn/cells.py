"""Recurrent cells: vanilla tanh RNN, LSTM and GRU.

Each cell is split in two so the same weights serve training and sampling:

* ``input_proj(x_...xE) -> xw_...xGH``: the input half of every gate,
  ``x @ W_x + b``.  For a whole sequence this is ONE big matmul done before
  the time loop.
* ``recur(weights, carry, xw_BxGH) -> (carry, h_BxH)``: the pure recurrence,
  a plain function of arrays, so it can run under ``jax.lax.scan``
  (training: :meth:`unroll`) or one step at a time (sampling: ``__call__``).

Carries are tuples of ``[B, H]`` arrays: ``(h,)`` for RNN and GRU, ``(c, h)``
for the LSTM.  The pure ``*_recur`` functions are also what the
gradient-story experiment differentiates (:mod:`jax_ar.rnn.gradients`).
"""
from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from jax_ar import errors


# ---------------------------------------------------------------- pure steps
def rnn_recur(w, carry, xw_BxH):
    """Vanilla RNN: h_t = tanh(x_t W_x + b + h_{t-1} W_h)."""
    (h_BxH,) = carry
    h_BxH = jnp.tanh(xw_BxH + h_BxH @ w["W_h"])
    return (h_BxH,), h_BxH


def lstm_recur(w, carry, xw_Bx4H):
    """LSTM (Hochreiter & Schmidhuber 1997, with forget gate): gates i, f, g, o."""
    c_BxH, h_BxH = carry
    z_Bx4H = xw_Bx4H + h_BxH @ w["W_h"]
    i, f, g, o = jnp.split(z_Bx4H, 4, axis=-1)
    c_BxH = jax.nn.sigmoid(f) * c_BxH + jax.nn.sigmoid(i) * jnp.tanh(g)
    h_BxH = jax.nn.sigmoid(o) * jnp.tanh(c_BxH)
    return (c_BxH, h_BxH), h_BxH


def gru_recur(w, carry, xw_Bx3H):
    """GRU (Cho et al. 2014): reset r, update z, candidate n; h = (1-z) n + z h."""
    (h_BxH,) = carry
    xr, xz, xn = jnp.split(xw_Bx3H, 3, axis=-1)
    hr, hz, hn = jnp.split(h_BxH @ w["W_h"] + w["b_h"], 3, axis=-1)
    r = jax.nn.sigmoid(xr + hr)
    z = jax.nn.sigmoid(xz + hz)
    n = jnp.tanh(xn + r * hn)
    h_BxH = (1.0 - z) * n + z * h_BxH
    return (h_BxH,), h_BxH


RECUR = {"rnn": rnn_recur, "lstm": lstm_recur, "gru": gru_recur}
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
CELL_TYPES = tuple(RECUR)


def check_cell_type(cell: str) -> None:
    if cell not in RECUR:
        raise errors.ConfigError(f"unknown recurrent cell {cell!r}; choose one of {', '.join(CELL_TYPES)}")


def cell_param_count(cell: str, input_size: int, hidden: int) -> int:
    """Number of parameters of one cell (for matching model sizes)."""
    check_cell_type(cell)
    g = GATES[cell]
    n = g * hidden * (input_size + hidden) + g * hidden
    return n + (g * hidden if cell == "gru" else 0)


class Cell(nn.Module):
    """One recurrent layer of type ``cell`` ("rnn" | "lstm" | "gru") with ``hidden`` units.

    ``recurrent_scale``: the recurrent matrix starts as an orthogonal matrix
    times this scale (all its singular values equal the scale); for the LSTM
    and GRU each gate block is orthogonal.  The LSTM forget bias starts at 1.
    """
    cell: str
    hidden: int
    recurrent_scale: float = 1.0

    def setup(self):
        check_cell_type(self.cell)
        H, G = self.hidden, GATES[self.cell]
        ortho = nn.initializers.orthogonal(scale=self.recurrent_scale)

        def w_h_init(key, shape, dtype=jnp.float32):
            keys = jax.random.split(key, G)
            return jnp.concatenate([ortho(k, (H, H), dtype) for k in keys], axis=1)

        def b_init(key, shape, dtype=jnp.float32):
            b = jnp.zeros(shape, dtype)
            return b.at[H:2 * H].set(1.0) if self.cell == "lstm" else b

        self.W_x = nn.Dense(G * H, use_bias=False, kernel_init=nn.initializers.lecun_normal(), name="W_x")
        self.b = self.param("b", b_init, (G * H,))
        self.W_h = self.param("W_h", w_h_init, (H, G * H))
        if self.cell == "gru":
            self.b_h = self.param("b_h", nn.initializers.zeros, (G * H,))

    def weights(self) -> dict:
        w = {"W_h": self.W_h}
        if self.cell == "gru":
            w["b_h"] = self.b_h
        return w

    def input_proj(self, x):
        return self.W_x(x) + self.b

    def initial_carry(self, batch_size: int):
        zeros = jnp.zeros((batch_size, self.hidden), jnp.float32)
        return (zeros, zeros) if self.cell == "lstm" else (zeros,)

    def __call__(self, carry, x_BxE):
        """One time step: ``(carry, x_BxE) -> (carry, h_BxH)``."""
        return RECUR[self.cell](self.weights(), carry, self.input_proj(x_BxE))

    def unroll(self, carry, x_BxTxE):
        """Run over a whole sequence with ``lax.scan``: returns ``(carry, h_BxTxH)``."""
        w, recur = self.weights(), RECUR[self.cell]
        xw_TxBxG = jnp.swapaxes(self.input_proj(x_BxTxE), 0, 1)
        carry, h_TxBxH = jax.lax.scan(lambda c, xw: recur(w, c, xw), carry, xw_TxBxG)
        return carry, jnp.swapaxes(h_TxBxH, 0, 1)
