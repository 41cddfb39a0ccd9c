"""MADE: masked autoencoder for distribution estimation (Germain et al., 2015).

An MLP whose weight matrices are multiplied by binary masks built from
integer degrees (:func:`jax_ar.masks.made_degrees`,
:func:`jax_ar.masks.made_degree_mask`): input element d has degree
``rank(d)`` in 1..D under the ordering, a hidden unit of degree m sees inputs
of degree <= m, and the outputs for element d see hidden units of degree
< rank(d).  Any number of hidden layers; ``P = dist.param_size`` outputs per
element (1 Bernoulli logit, or V categorical logits with one-hot inputs); an
optional direct input-to-output connection (strict mask).

Mask pool.  ``num_masks = K`` degree sets are drawn once from ``mask_seed``:
``order_agnostic`` draws a new ordering for masks 1..K-1 (mask 0 keeps
``ordering``), ``connectivity_agnostic`` draws the hidden degrees.  They are
stored as small integer arrays ``[K, units]``; the masks themselves are
rebuilt inside jit for a mask index that may be a traced integer, so training
picks ``k = randint(K)`` per minibatch inside the jitted step
(:mod:`jax_ar.models.made_ensemble`), and the test-time ensemble averages
probabilities over the K masks by log-mean-exp.

Orderings and the contract.  A model object fixes one mask
(``mask_index``).  Its *sequence* is the image read in that mask's ordering:
``x_seq[:, t] = x_img[:, ordering[t]]`` (:meth:`MADEModel.to_sequence`,
:meth:`MADEModel.to_image`).  ``outputs`` permutes the sequence into image
space, runs the masked MLP, and permutes the outputs back, so the contract's
causality (output t depends on x_<t only) holds in the model's own order and
the universal tests apply to every fixed mask.  With the identity ordering
the permutations are skipped and the sequence is the raster order.
``log_prob_image`` / ``outputs_image`` work directly on raster images.

Cost of ``step``.  MADE is not incremental: the cache is the image buffer
filled so far plus ``t``; each step recomputes the hidden stack on the whole
buffer (O(sum of layer sizes squared), the cost of one forward pass) and only
the P output columns of the current element.  Sampling is therefore D forward
passes, compiled once under ``lax.scan``.
"""
from __future__ import annotations

import dataclasses
import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jax_ar import distributions, errors, masks
from jax_ar.contract import LinenARModel
from jax_ar.models import bernoulli
from jax_ar.models.registry import register

ACTIVATIONS = {"relu": jax.nn.relu, "tanh": jnp.tanh, "sigmoid": jax.nn.sigmoid}


@functools.lru_cache(maxsize=32)
def degree_pool(seq_len: int, hidden_sizes: tuple, num_masks: int, mask_seed: int,
                order_agnostic: bool, connectivity_agnostic: bool, ordering: tuple | None,
                degree_spread: str = "even"):
    """The K masks' degrees: ``(orderings_KxD, [m_input_KxD, m_h1_KxH1, ...])`` (numpy int32)."""
    rng = np.random.default_rng(mask_seed)
    base = np.arange(seq_len) if ordering is None else np.asarray(ordering)
    orders, per_layer = [], [[] for _ in range(len(hidden_sizes) + 1)]
    for k in range(num_masks):
        order = rng.permutation(seq_len) if (order_agnostic and k > 0) else base
        degs = masks.made_degrees(order, hidden_sizes, rng=rng if connectivity_agnostic else None,
                                  spread=degree_spread)
        orders.append(order)
        for layer, m in zip(per_layer, degs):
            layer.append(m)
    return np.stack(orders).astype(np.int32), [np.stack(m) for m in per_layer]


class MADENet(nn.Module):
    """Masked MLP over ``seq_len`` elements with a pool of ``num_masks`` degree sets."""
    seq_len: int
    hidden_sizes: tuple
    param_size: int = 1          # outputs per element (dist.param_size)
    vocab_size: int = 2          # inputs are one-hot when > 2, else the value itself
    num_masks: int = 1
    mask_seed: int = 0
    order_agnostic: bool = False
    connectivity_agnostic: bool = False
    ordering: tuple | None = None
    direct: bool = False
    activation: str = "relu"
    mask_index: int = 0          # the mask used by the contract methods
    degree_spread: str = "even"  # deterministic hidden degrees: "even", or "cyclic" for runs saved before d289223

    @property
    def in_per_dim(self):
        return self.vocab_size if self.vocab_size > 2 else 1

    def pool(self):
        return degree_pool(self.seq_len, tuple(self.hidden_sizes), self.num_masks, self.mask_seed,
                           self.order_agnostic, self.connectivity_agnostic, self.ordering, self.degree_spread)

    def setup(self):
        D, P, E = self.seq_len, self.param_size, self.in_per_dim
        sizes = [D * E, *self.hidden_sizes, D * P]
        self.Ws = [self.param(f"W{i}", nn.initializers.lecun_normal(), (a, b))
                   for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))]
        self.bs = [self.param(f"b{i}", nn.initializers.zeros, (b,)) for i, b in enumerate(sizes[1:])]
        if self.direct:
            self.A = self.param("A", nn.initializers.zeros, (D * E, D * P))
        orders, degs = self.pool()
        self.orderings_KxD = jnp.asarray(orders)
        self.in_degrees_KxDE = jnp.asarray(np.repeat(degs[0], E, axis=1))
        self.out_degrees_KxDP = jnp.asarray(np.repeat(degs[0], P, axis=1))
        self.hidden_degrees = [jnp.asarray(m) for m in degs[1:]]
        self.act = ACTIVATIONS[self.activation]

    # ------------------------------------------------------------- masks
    def layer_masks(self, k):
        """The explicit 0/1 masks of mask ``k`` (may be traced): hidden..., output[, direct]."""
        degs = [self.in_degrees_KxDE[k]] + [m[k] for m in self.hidden_degrees]
        out = [masks.made_degree_mask(a, b, strict=False) for a, b in zip(degs[:-1], degs[1:])]
        out.append(masks.made_degree_mask(degs[-1], self.out_degrees_KxDP[k], strict=True))
        if self.direct:
            out.append(masks.made_degree_mask(degs[0], self.out_degrees_KxDP[k], strict=True))
        return out

    def encode(self, x_BxD):
        if self.in_per_dim == 1:
            return x_BxD.astype(jnp.float32)
        onehot = jax.nn.one_hot(x_BxD, self.vocab_size, dtype=jnp.float32)
        return onehot.reshape(x_BxD.shape[0], -1)

    def hidden(self, x_BxD, k):
        """Last hidden layer (or the encoded input when there are no hidden layers)."""
        mk = self.layer_masks(k)
        h = self.encode(x_BxD)
        for W, b, M in zip(self.Ws[:-1], self.bs[:-1], mk):
            h = self.act(h @ (W * M) + b)
        return h, mk

    def outputs_image(self, x_img_BxD, k):
        """Outputs for every element in image (raster) order under mask ``k``: ``[B, D, P]``."""
        h, mk = self.hidden(x_img_BxD, k)
        L = len(self.hidden_sizes)
        out = h @ (self.Ws[-1] * mk[L]) + self.bs[-1]
        if self.direct:
            out = out + self.encode(x_img_BxD) @ (self.A * mk[L + 1])
        return out.reshape(x_img_BxD.shape[0], self.seq_len, self.param_size)

    # ------------------------------------------------- contract (sequence order)
    def _ordering(self):
        return np.asarray(self.pool()[0][self.mask_index])

    def __call__(self, x_BxD, cond_B=None):
        order = self._ordering()
        if np.array_equal(order, np.arange(self.seq_len)):
            return self.outputs_image(x_BxD, self.mask_index)
        x_img = x_BxD[:, np.argsort(order)]
        return self.outputs_image(x_img, self.mask_index)[:, order]

    def init_cache(self, batch_size, cond_B=None):
        dtype = jnp.float32 if self.in_per_dim == 1 else jnp.int32
        return {"t": jnp.zeros((), jnp.int32), "img_BxD": jnp.zeros((batch_size, self.seq_len), dtype)}

    def step(self, cache, x_prev_B):
        t, k, P = cache["t"], self.mask_index, self.param_size
        order_D = self.orderings_KxD[k]
        prev = order_D[jnp.maximum(t - 1, 0)]
        x_img = cache["img_BxD"]
        x_img = jnp.where(t > 0, x_img.at[:, prev].set(x_prev_B.astype(x_img.dtype)), x_img)
        h, mk = self.hidden(x_img, k)
        col = order_D[jnp.minimum(t, self.seq_len - 1)] * P     # the P output columns of element t
        L = len(self.hidden_sizes)
        cols = lambda a: jax.lax.dynamic_slice_in_dim(a, col, P, axis=a.ndim - 1)
        out_BxP = h @ (cols(self.Ws[-1]) * cols(mk[L])) + cols(self.bs[-1])
        if self.direct:
            out_BxP = out_BxP + self.encode(x_img) @ (cols(self.A) * cols(mk[L + 1]))
        return out_BxP, {"t": t + 1, "img_BxD": x_img}


@dataclasses.dataclass(frozen=True, eq=False)
class MADEModel(LinenARModel):
    """The contract for one fixed mask, plus image-space and mask-pool helpers."""

    @property
    def num_masks(self) -> int:
        return self.module.num_masks

    @property
    def ordering(self) -> np.ndarray:
        """``ordering[t]``: the image element that is sequence element t for this model's mask."""
        return self.module._ordering()

    def with_mask(self, k: int) -> "MADEModel":
        """The same network (same params) with mask ``k`` of the pool as its contract mask."""
        _check_mask_index(k, self.num_masks)
        return dataclasses.replace(self, module=self.module.clone(mask_index=int(k)))

    def to_sequence(self, x_img_BxD):
        return jnp.asarray(x_img_BxD)[:, self.ordering]

    def to_image(self, x_seq_BxD):
        return jnp.asarray(x_seq_BxD)[:, np.argsort(self.ordering)]

    def layer_masks(self, params, k):
        """Explicit masks of pool entry ``k``: ``[hidden..., output(, direct)]``, each [in, out]."""
        return self.module.apply({"params": params}, k, method="layer_masks")

    def outputs(self, params, x, cond=None):
        self.check_outputs_input(x, cond)
        return _outputs_jit(self, params, x)  # one compiled call, also when used eagerly

    def outputs_image(self, params, x_img_BxD, k=None):
        """Outputs ``[B, D, P]`` for raster images under mask ``k`` (may be traced)."""
        self.check_input(x_img_BxD)
        return self._outputs_image(params, x_img_BxD, k)

    def _outputs_image(self, params, x_img_BxD, k):
        k = self.module.mask_index if k is None else k
        _check_mask_index(k, self.num_masks)
        return _outputs_image_jit(self, params, x_img_BxD, jnp.asarray(k, jnp.int32))

    def log_prob_image(self, params, x_img_BxD, k=None):
        """log p(x) in nats ``[B]`` of raster images under mask ``k`` (may be traced)."""
        self.check_input(x_img_BxD)
        x = jnp.asarray(x_img_BxD).astype(self.input_dtype)
        return jnp.sum(self.dist.log_prob(self._outputs_image(params, x, k), x), axis=-1)


@functools.partial(jax.jit, static_argnums=0)
def _outputs_jit(model, params, x_BxD):
    return model.module.apply({"params": params}, x_BxD, None)


@functools.partial(jax.jit, static_argnums=0)
def _outputs_image_jit(model, params, x_img_BxD, k):
    return model.module.apply({"params": params}, x_img_BxD, k, method="outputs_image")


def init_from_data(model, key, x_NxD, smoothing: float = 1.0):
    """``model.init(key)`` with the Bernoulli output biases set to the logit of each pixel's smoothed mean."""
    if model.dist.param_size != 1:
        raise errors.ConfigError("init_from_data sets Bernoulli output biases; this MADE is categorical")
    b = bernoulli.smoothed_logits(x_NxD, smoothing, name="smoothing", seq_len=model.seq_len)
    return {**model.init(key), f"b{len(model.module.hidden_sizes)}": b}


def _check_mask_index(k, num_masks):
    """A concrete mask index must be an integer in [0, num_masks); a traced one is not checked."""
    if errors.is_traced(k):
        return
    a = np.asarray(k)
    if a.ndim != 0 or not np.issubdtype(a.dtype, np.integer):
        raise errors.ConfigError(f"mask_index must be an integer in [0, {num_masks - 1}], got {k!r}")
    if not 0 <= int(a) < num_masks:
        raise errors.ConfigError(f"mask_index {k} is outside the mask pool [0, {num_masks - 1}]")


def check_ordering(ordering, seq_len: int) -> tuple:
    """Validate that ``ordering`` is a permutation of 0..seq_len-1; returns it as a tuple."""
    a = np.asarray(ordering)
    if a.ndim != 1 or a.shape[0] != seq_len:
        raise errors.ConfigError(f"ordering must have length {seq_len} (one entry per element), got shape {a.shape}")
    if not np.issubdtype(a.dtype, np.integer) or not np.array_equal(np.sort(a), np.arange(seq_len)):
        raise errors.ConfigError(f"ordering is not a permutation of 0..{seq_len - 1}: {a.tolist()[:20]}")
    return tuple(int(v) for v in a)


def made_model(seq_len: int, hidden_sizes, dist, *, num_masks: int = 1, mask_seed: int = 0,
               order_agnostic: bool = False, connectivity_agnostic: bool = False, ordering=None,
               direct: bool = False, activation: str = "relu", mask_index: int = 0,
               degree_spread: str = "even") -> MADEModel:
    """Build a MADE over any distribution ``dist`` (P = dist.param_size outputs per element)."""
    if seq_len < 1:
        raise errors.ConfigError(f"seq_len must be >= 1, got {seq_len}")
    hidden_sizes = tuple(int(h) for h in hidden_sizes)
    if any(h < 1 for h in hidden_sizes):
        raise errors.ConfigError(f"every hidden layer needs >= 1 unit, got hidden_sizes={hidden_sizes}")
    if num_masks < 1:
        raise errors.ConfigError(f"the mask pool must hold at least one mask, got num_masks={num_masks}")
    _check_mask_index(mask_index, num_masks)
    if activation not in ACTIVATIONS:
        raise errors.ConfigError(f"unknown activation {activation!r}; choose one of {sorted(ACTIVATIONS)}")
    if dist.kind == "continuous":
        raise errors.ConfigError("MADE here models discrete elements (binary or categorical)")
    if degree_spread not in masks.DEGREE_SPREADS:
        raise errors.ConfigError(f"degree_spread must be one of {masks.DEGREE_SPREADS}, got {degree_spread!r}")
    if ordering is not None:
        ordering = check_ordering(ordering, seq_len)
        if ordering == tuple(range(seq_len)):
            ordering = None
    net = MADENet(seq_len, hidden_sizes, dist.param_size, dist.vocab_size, num_masks, mask_seed,
                  order_agnostic, connectivity_agnostic, ordering, direct, activation, mask_index,
                  degree_spread)
    return MADEModel(net, seq_len, dist)


_DEGREE_SPREAD = {"degree_spread": ("even", "cyclic")}  # runs saved before d289223 used "cyclic"


@register("made", changed_defaults=_DEGREE_SPREAD,
          tiny={"seq_len": 6, "hidden_sizes": (7, 7), "num_masks": 3, "order_agnostic": True,
                "connectivity_agnostic": True, "direct": True, "mask_index": 2})
def build(seq_len: int = 784, hidden_sizes=(500,), num_masks: int = 1, **kwargs) -> MADEModel:
    """Binary MADE (Bernoulli output per pixel)."""
    return made_model(seq_len, hidden_sizes, distributions.Bernoulli(), num_masks=num_masks, **kwargs)


@register("made_categorical", changed_defaults=_DEGREE_SPREAD,
          tiny={"seq_len": 4, "vocab_size": 3, "hidden_sizes": (6,), "num_masks": 2,
                "order_agnostic": True, "mask_index": 1, "direct": True})
def build_categorical(seq_len: int = 784, vocab_size: int = 256, hidden_sizes=(500,), **kwargs) -> MADEModel:
    """MADE with V logits per element (e.g. 8-bit pixels) and one-hot inputs."""
    if vocab_size < 2:
        raise errors.ConfigError(f"vocab_size must be >= 2, got {vocab_size}")
    return made_model(seq_len, hidden_sizes, distributions.Categorical(vocab_size), **kwargs)
