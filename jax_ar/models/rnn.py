"""Character language models built from recurrent cells (vanilla RNN, LSTM, GRU).

    p(x) = prod_t Categorical(x_t | softmax(W_o h_t)),  h_t = cell(h_{t-1}, embed(x_{t-1}))

with ``x_{-1}`` a beginning-of-sequence token (id ``vocab_size`` in the
embedding table) and a zero initial state.  Layers are stacked; each layer is
unrolled over the whole sequence with ``lax.scan`` for training
(:meth:`CharRNN.forward`), or stepped one token at a time for sampling, where
the cache is ``{"t", "state"}``: the recurrent state of every layer.

:meth:`CharRNN.forward` also takes and returns the state, which is what
truncated BPTT over consecutive windows of a stream needs
(:mod:`jax_ar.rnn.tbptt`).
"""
from __future__ import annotations

import dataclasses

import flax.linen as nn
import jax.numpy as jnp
import numpy as np

from jax_ar import distributions, errors
from jax_ar.contract import LinenARModel
from jax_ar.models.registry import register
from jax_ar.rnn.cells import Cell, cell_param_count, check_cell_type


class CharRNN(nn.Module):
    vocab_size: int
    cell: str = "lstm"
    hidden: int = 128
    layers: int = 1
    embed: int = 32
    recurrent_scale: float = 1.0   # singular values of the initial recurrent matrices

    def setup(self):
        check_cell_type(self.cell)
        self.embedding = nn.Embed(self.vocab_size + 1, self.embed, name="embed")  # last row: BOS
        self.cells = [Cell(self.cell, self.hidden, self.recurrent_scale, name=f"cell_{i}") for i in range(self.layers)]
        self.readout = nn.Dense(self.vocab_size, name="readout")

    @property
    def bos(self) -> int:
        return self.vocab_size

    def initial_state(self, batch_size: int):
        """Zero state of every layer: a tuple (one carry per layer)."""
        return tuple(c.initial_carry(batch_size) for c in self.cells)

    def forward(self, inputs_BxT, state):
        """Logits for the token after each input: ``(logits_BxTxV, state)``.

        ``inputs_BxT`` are the *previous* tokens (BOS allowed); ``state`` is the
        carry of every layer, e.g. from :meth:`initial_state` or from the
        previous window of a stream.
        """
        h_BxTxE = self.embedding(inputs_BxT)
        new_state = []
        for cell, carry in zip(self.cells, state):
            carry, h_BxTxE = cell.unroll(carry, h_BxTxE)
            new_state.append(carry)
        return self.readout(h_BxTxE), tuple(new_state)

    def __call__(self, x_BxD, cond_B=None):
        B = x_BxD.shape[0]
        inputs_BxD = jnp.concatenate([jnp.full((B, 1), self.bos, jnp.int32),
                                      x_BxD[:, :-1].astype(jnp.int32)], axis=1)
        logits_BxDxV, _ = self.forward(inputs_BxD, self.initial_state(B))
        return logits_BxDxV

    def init_cache(self, batch_size, cond_B=None):
        return {"t": jnp.zeros((), jnp.int32), "state": self.initial_state(batch_size)}

    def step(self, cache, x_prev_B):
        t = cache["t"]
        tok_B = jnp.where(t == 0, self.bos, x_prev_B.astype(jnp.int32))
        h_BxE = self.embedding(tok_B)
        new_state = []
        for cell, carry in zip(self.cells, cache["state"]):
            carry, h_BxE = cell(carry, h_BxE)
            new_state.append(carry)
        return self.readout(h_BxE), {"t": t + 1, "state": tuple(new_state)}


@dataclasses.dataclass(frozen=True, eq=False)
class CharRNNModel(LinenARModel):
    """Contract adapter with the RNN's own entry points (``forward``, ``initial_state``).

    Stationary: ``outputs`` takes sequences of any length; the shared checks of
    :class:`jax_ar.contract.ARModelBase` reject out-of-vocabulary ids on every
    entry point (an embedding lookup would otherwise clamp a bad id silently).
    """
    stationary = True

    def forward(self, params, inputs_BxT, state):
        """Teacher-forced logits and final state for a window (see :meth:`CharRNN.forward`)."""
        return self.module.apply({"params": params}, inputs_BxT, state, method="forward")

    def initial_state(self, params, batch_size: int):
        return self.module.apply({"params": params}, batch_size, method="initial_state")


def char_lm_param_count(cell: str, vocab_size: int, hidden: int, layers: int, embed: int) -> int:
    """Parameter count of :class:`CharRNN` without building it."""
    n = (vocab_size + 1) * embed + hidden * vocab_size + vocab_size
    for i in range(layers):
        n += cell_param_count(cell, embed if i == 0 else hidden, hidden)
    return n


def hidden_for_params(cell: str, target: int, *, vocab_size: int, layers: int, embed: int) -> int:
    """Largest hidden size whose :func:`char_lm_param_count` does not exceed ``target``."""
    h = 1
    while char_lm_param_count(cell, vocab_size, h + 1, layers, embed) <= target:
        h += 1
    return h


def _builder(cell: str):
    def build(vocab_size: int = 65, seq_len: int = 256, hidden: int = 128, layers: int = 1,
              embed: int = 32, recurrent_scale: float = 1.0) -> CharRNNModel:
        for k, v in dict(vocab_size=vocab_size, seq_len=seq_len, hidden=hidden, layers=layers,
                         embed=embed).items():
            if not isinstance(v, (int, np.integer)) or v < 1:
                raise errors.ConfigError(f"{k} must be a positive integer, got {v!r}")
        errors.check_positive(recurrent_scale, "recurrent_scale")
        module = CharRNN(vocab_size, cell, hidden, layers, embed, float(recurrent_scale))
        return CharRNNModel(module, seq_len, distributions.Categorical(vocab_size))
    build.__name__ = f"build_char_{cell}"
    build.__doc__ = f"Character LM with {cell.upper()} cells: Categorical(vocab_size) over seq_len tokens."
    return build


build_char_rnn = register("char_rnn", tiny=dict(vocab_size=3, seq_len=4, hidden=5, embed=3))(_builder("rnn"))
build_char_lstm = register("char_lstm", tiny=dict(vocab_size=3, seq_len=4, hidden=4, embed=3,
                                                  layers=2))(_builder("lstm"))
build_char_gru = register("char_gru", tiny=dict(vocab_size=3, seq_len=4, hidden=4, embed=3))(_builder("gru"))
BUILDERS = {"rnn": build_char_rnn, "lstm": build_char_lstm, "gru": build_char_gru}
