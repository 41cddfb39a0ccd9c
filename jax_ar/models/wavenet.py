"""WaveNet (van den Oord et al., 2016) over mu-law codes, with Fast WaveNet generation.

Network, for codes ``x_BxT`` in ``[0, V)``::

    h^0_t  = embed(x_{t-1})                (h^0_0 = a learned start vector)
    a^i    = CausalConv(d_i)(h^{i-1}) + cond^i          [B, T, 2C]
    z^i    = tanh(a^i[:C]) * sigmoid(a^i[C:])           gated activation
    h^i    = h^{i-1} + res^i(z^i);  skip += skip^i(z^i) residual and skip 1x1s
    out    = W2 relu(W1 relu(skip))                     [B, T, P]

Dilations ``d_i`` are 1, 2, 4, ... repeated in blocks (:func:`dilation_schedule`).
The input shift by one position makes ``out_t`` depend on ``x_<t`` only; the
model sees ``R = 1 + (K-1) sum(d_i)`` previous samples (``receptive_field``).

Output distribution: ``Categorical(V)`` over the 256 mu-law classes, or a
``DiscretizedLogisticMixture`` over the same bins (``output="logistic_mixture"``).

Global conditioning: the contract carries ONE integer label per sequence.  For
several labels (digit AND speaker) set ``cond_factors=(10, 6)``: the label is
the mixed-radix index ``digit * 6 + speaker`` (:func:`combine_labels`), and the
network splits it back into one one-hot per factor, so each factor keeps its
own embedding (``cond^i = Dense_i(concat(onehot(digit), onehot(speaker)))``).

Cache (Fast WaveNet): ``{"t", "queues": one [B, (K-1) d_i, C] circular queue of
past layer inputs per layer, "cond_BxF"}``.  One ``step`` costs O(layers), not
a pass over the receptive field; see :mod:`jax_ar.layers.causal_conv`.
"""
from __future__ import annotations

import dataclasses
import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jax_ar import distributions, errors
from jax_ar.contract import LinenARModel
from jax_ar.layers.causal_conv import CausalConv1D, receptive_field
from jax_ar.models.registry import register


def dilation_schedule(layers_per_block: int, blocks: int) -> tuple:
    """``(1, 2, ..., 2**(layers_per_block-1))`` repeated ``blocks`` times."""
    if layers_per_block < 1 or blocks < 1:
        raise errors.ConfigError(f"need layers_per_block >= 1 and blocks >= 1, got "
                                 f"{layers_per_block}, {blocks}")
    return tuple(2 ** i for i in range(layers_per_block)) * blocks


def combine_labels(labels, factors) -> np.ndarray:
    """Mixed-radix index of several labels: ``(digit, speaker)`` with factors (10, 6) -> digit*6 + speaker."""
    labels = [np.asarray(a) for a in labels]
    if len(labels) != len(factors):
        raise errors.ConfigError(f"got {len(labels)} label arrays for {len(factors)} factors {tuple(factors)}")
    idx = np.zeros_like(labels[0], dtype=np.int64)
    for a, f in zip(labels, factors):
        bad = (a < 0) | (a >= f)
        if np.any(bad):
            raise errors.ValueRangeError(f"label {a[bad].flat[0]} is outside the range [0, {f - 1}] "
                                         f"of its factor (factors {tuple(factors)})")
        idx = idx * f + a
    return idx.astype(np.int32)


def split_label(cond_B, factors):
    """Inverse of :func:`combine_labels` (traceable): list of per-factor label arrays."""
    out = []
    for f in reversed(factors):
        out.append(cond_B % f)
        cond_B = cond_B // f
    return out[::-1]


class WaveNetNet(nn.Module):
    vocab_size: int
    param_size: int
    dilations: tuple
    channels: int = 32
    skip_channels: int = 64
    kernel_size: int = 2
    cond_factors: tuple = ()

    def setup(self):
        C = self.channels
        self.embed = nn.Embed(self.vocab_size, C)
        self.start_C = self.param("start", nn.initializers.normal(0.1), (C,))
        self.convs = [CausalConv1D(C, 2 * C, self.kernel_size, d) for d in self.dilations]
        self.conds = [nn.Dense(2 * C, use_bias=False) for _ in self.dilations] if self.cond_factors else []
        self.res = [nn.Dense(C) for _ in self.dilations]
        self.skip = [nn.Dense(self.skip_channels) for _ in self.dilations]
        self.head1 = nn.Dense(self.skip_channels)
        self.head2 = nn.Dense(self.param_size)

    @property
    def receptive_field(self) -> int:
        return receptive_field(self.dilations, self.kernel_size)

    def _cond_vector(self, cond_B):
        """Concatenated one-hots of the label's factors, ``[B, sum(factors)]``; None if unconditional."""
        if not self.cond_factors:
            return None
        parts = split_label(jnp.asarray(cond_B, jnp.int32), self.cond_factors)
        return jnp.concatenate([jax.nn.one_hot(p, f) for p, f in zip(parts, self.cond_factors)], axis=-1)

    def _gated_layer(self, i, a, h, cond_BxF):
        """Gated activation, residual and skip outputs of layer ``i`` (any leading shape)."""
        if cond_BxF is not None:
            c = self.conds[i](cond_BxF)
            a = a + (c[:, None, :] if a.ndim == 3 else c)
        z = jnp.tanh(a[..., :self.channels]) * jax.nn.sigmoid(a[..., self.channels:])
        return h + self.res[i](z), self.skip[i](z)

    def _head(self, skip):
        return self.head2(nn.relu(self.head1(nn.relu(skip))))

    def __call__(self, x_BxT, cond_B=None):
        B = x_BxT.shape[0]
        e_BxTxC = self.embed(x_BxT.astype(jnp.int32))
        start_Bx1xC = jnp.broadcast_to(self.start_C, (B, 1, self.channels))
        h = jnp.concatenate([start_Bx1xC, e_BxTxC[:, :-1]], axis=1)  # h_t = embed(x_{t-1})
        cond_BxF = self._cond_vector(cond_B)
        skip_BxTxS = 0.0
        for i, conv in enumerate(self.convs):
            h_next, s = self._gated_layer(i, conv(h), h, cond_BxF)
            h, skip_BxTxS = h_next, skip_BxTxS + s
        return self._head(skip_BxTxS)

    def init_cache(self, batch_size, cond_B=None):
        cache = {"t": jnp.zeros((), jnp.int32),
                 "queues": tuple(c.init_queue(batch_size) for c in self.convs)}
        if self.cond_factors:
            cache["cond_BxF"] = self._cond_vector(cond_B)
        return cache

    def step(self, cache, x_prev_B):
        t = cache["t"]
        B = x_prev_B.shape[0]
        h_BxC = jnp.where(t == 0, jnp.broadcast_to(self.start_C, (B, self.channels)),
                          self.embed(x_prev_B.astype(jnp.int32)))
        cond_BxF = cache.get("cond_BxF")
        skip_BxS = 0.0
        queues = []
        for i, conv in enumerate(self.convs):
            a, q = conv.step(cache["queues"][i], h_BxC, t)
            queues.append(q)
            h_BxC, s = self._gated_layer(i, a, h_BxC, cond_BxF)
            skip_BxS = skip_BxS + s
        new = dict(cache, t=t + 1, queues=tuple(queues))
        return self._head(skip_BxS), new


@dataclasses.dataclass(frozen=True, eq=False)
class WaveNetModel(LinenARModel):
    """The contract adapter plus WaveNet facts (receptive field, label factors)."""
    stationary = True   # causal convolutions over ring-buffer queues: generation runs past seq_len

    @property
    def receptive_field(self) -> int:
        return self.module.receptive_field

    @property
    def cond_factors(self) -> tuple:
        return self.module.cond_factors


def _make_dist(output: str, vocab_size: int, num_mixtures: int):
    if output == "categorical":
        return distributions.Categorical(vocab_size)
    if output == "logistic_mixture":
        return distributions.DiscretizedLogisticMixture(num_mixtures, vocab_size)
    raise errors.ConfigError(f"unknown WaveNet output {output!r}; choose 'categorical' or 'logistic_mixture'")


def build_wavenet(seq_len: int = 4096, vocab_size: int = 256, dilations=None, *,
                  layers_per_block: int = 10, blocks: int = 2, channels: int = 32,
                  skip_channels: int = 64, kernel_size: int = 2, cond_factors=(),
                  output: str = "categorical", num_mixtures: int = 10) -> WaveNetModel:
    """A WaveNet over ``vocab_size`` codes.  ``dilations`` overrides ``layers_per_block``/``blocks``."""
    dil = tuple(int(d) for d in dilations) if dilations is not None else dilation_schedule(layers_per_block, blocks)
    if not dil or min(dil) < 1:
        raise errors.ConfigError(f"dilations must be a non-empty tuple of positive ints, got {dil}")
    for name, v in (("seq_len", seq_len), ("vocab_size", vocab_size), ("channels", channels),
                    ("skip_channels", skip_channels), ("kernel_size", kernel_size)):
        if int(v) < 1:
            raise errors.ConfigError(f"{name} must be >= 1, got {v}")
    factors = tuple(int(f) for f in cond_factors)
    if any(f < 1 for f in factors):
        raise errors.ConfigError(f"cond_factors must be positive, got {factors}")
    dist = _make_dist(output, vocab_size, num_mixtures)
    net = WaveNetNet(vocab_size, dist.param_size, dil, channels, skip_channels, kernel_size, factors)
    return WaveNetModel(net, seq_len, dist, math.prod(factors) if factors else 0)


_TINY = dict(vocab_size=3, seq_len=4, dilations=(1, 2), channels=4, skip_channels=4)


@register("wavenet", tiny=_TINY)
def build(**kw) -> WaveNetModel:
    return build_wavenet(**kw)


@register("wavenet_cond", tiny=dict(_TINY, cond_factors=(2, 3)))
def build_cond(cond_factors=(10, 6), **kw) -> WaveNetModel:
    """Globally conditioned on a (digit, speaker) label pair, passed as one combined index."""
    return build_wavenet(cond_factors=cond_factors, **kw)


@register("wavenet_dlm", tiny=dict(_TINY, num_mixtures=2))
def build_dlm(**kw) -> WaveNetModel:
    """WaveNet with a discretized logistic mixture output over the mu-law bins."""
    return build_wavenet(output="logistic_mixture", **kw)
