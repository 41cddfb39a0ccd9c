"""The binary-addition toy: a 2-16-1 tanh RNN that learns the carry.

Two numbers are fed least-significant bit first, one bit pair per step
(input ``[a_t, b_t]``); the output at step t is the probability that bit t of
the sum is 1.  The net is trained on 8-bit additions only (9 output bits)
and then adds numbers of any length: the 16-unit state has to hold a
1-bit carry, which it can keep forever if it learns two stable attractors.
"""
from __future__ import annotations

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jax_ar import errors
from jax_ar.rnn.cells import Cell


class BinaryAdder(nn.Module):
    hidden: int = 16

    def setup(self):
        self.cell = Cell("rnn", self.hidden, name="cell")
        self.readout = nn.Dense(1, name="readout")

    def __call__(self, bits_BxTx2):
        """Logits of the sum bits ``[B, T]`` and hidden states ``[B, T, H]``."""
        B = bits_BxTx2.shape[0]
        _, h_BxTxH = self.cell.unroll(self.cell.initial_carry(B), bits_BxTx2.astype(jnp.float32))
        return self.readout(h_BxTxH)[..., 0], h_BxTxH


@dataclasses.dataclass(frozen=True)
class AdderConfig:
    hidden: int = 16
    train_bits: int = 8
    steps: int = 2000
    batch_size: int = 64
    lr: float = 1e-2
    seed: int = 0

    def validate(self):
        for k in ('hidden', 'train_bits', 'steps', 'batch_size'):
            if getattr(self, k) < 1:
                raise errors.ConfigError(f"{k} must be >= 1, got {getattr(self, k)}")
        errors.check_positive(self.lr, "lr")


def to_bits(numbers, num_bits: int) -> np.ndarray:
    """Non-negative integers -> ``[N, num_bits]`` bits, least significant first (any size)."""
    out = np.zeros((len(numbers), num_bits), np.int32)
    for i, n in enumerate(numbers):
        for t in range(num_bits):
            out[i, t] = (n >> t) & 1
    return out


def from_bits(bits_NxT) -> list[int]:
    return [sum(int(b) << t for t, b in enumerate(row)) for row in np.asarray(bits_NxT)]


def check_operands(numbers, name: str) -> list[int]:
    """Python/NumPy non-negative integers (or integral floats); clear error for NaN, negatives, fractions."""
    out = []
    for v in np.asarray(numbers, dtype=object).reshape(-1).tolist():
        if isinstance(v, float):
            if not np.isfinite(v):
                raise errors.ValueRangeError(f"{name} holds {v!r}; operands must be finite integers")
            if v != int(v):
                raise errors.ValueRangeError(f"{name} holds non-integer {v!r}")
            v = int(v)
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
            raise errors.ValueRangeError(f"{name} holds {v!r} of type {type(v).__name__}; expected integers")
        if v < 0:
            raise errors.ValueRangeError(f"{name} holds negative number {v}; the adder works on "
                                         f"non-negative integers")
        out.append(int(v))
    return out


def check_bits(bits) -> np.ndarray:
    """An input array ``[B, T, 2]`` of 0/1 values (NaN or other values are rejected)."""
    a = np.asarray(bits)
    if a.ndim != 3 or a.shape[-1] != 2:
        raise errors.ShapeError(f"adder input must have shape [batch, steps, 2], got {a.shape}")
    if np.issubdtype(a.dtype, np.floating):
        errors.check_finite(a, "adder input")
    bad = (a != 0) & (a != 1)
    if bad.any():
        raise errors.ValueRangeError(f"adder input holds {a[bad].flat[0]!r}; bits must be 0 or 1")
    return a.astype(np.float32)


def random_operands(rng: np.random.Generator, n: int, num_bits: int) -> list[int]:
    """``n`` uniform random integers in [0, 2**num_bits)."""
    nbytes = (num_bits + 7) // 8
    return [int.from_bytes(rng.bytes(nbytes), "little") % (1 << num_bits) for _ in range(n)]


def _batch(key, batch_size: int, num_bits: int):
    ka, kb = jax.random.split(key)
    a = jax.random.bernoulli(ka, 0.5, (batch_size, num_bits)).astype(jnp.int32)
    b = jax.random.bernoulli(kb, 0.5, (batch_size, num_bits)).astype(jnp.int32)
    pad = jnp.zeros((batch_size, 1), jnp.int32)
    a, b = jnp.concatenate([a, pad], 1), jnp.concatenate([b, pad], 1)
    w = 2 ** jnp.arange(num_bits + 1)
    s = (a * w).sum(1) + (b * w).sum(1)
    target = (s[:, None] >> jnp.arange(num_bits + 1)) & 1
    return jnp.stack([a, b], -1), target


def train(cfg: AdderConfig = AdderConfig()):
    """Train on random ``train_bits``-bit additions; the whole loop is one jitted ``lax.scan``.

    Returns ``(params, losses_per_step)``.
    """
    for k in ("hidden", "train_bits", "steps", "batch_size"):
        errors.check_positive(getattr(cfg, k), k)
    model = BinaryAdder(cfg.hidden)
    key = jax.random.PRNGKey(cfg.seed)
    k_init, k_data = jax.random.split(key)
    params = model.init(k_init, jnp.zeros((1, cfg.train_bits + 1, 2)))["params"]
    tx = optax.adam(cfg.lr)

    def loss_fn(p, x, y):
        logits, _ = model.apply({"params": p}, x)
        return optax.sigmoid_binary_cross_entropy(logits, y).mean()

    def step(carry, k):
        p, o = carry
        x, y = _batch(k, cfg.batch_size, cfg.train_bits)
        loss, g = jax.value_and_grad(loss_fn)(p, x, y)
        u, o = tx.update(g, o, p)
        return (optax.apply_updates(p, u), o), loss

    @jax.jit
    def run(p, keys):
        (p, _), losses = jax.lax.scan(step, (p, tx.init(p)), keys)
        return p, losses

    params, losses = run(params, jax.random.split(k_data, cfg.steps))
    return params, np.asarray(losses)


def run_adder(params, bits_BxTx2):
    """Sum-bit predictions (0/1, ``[B, T]``) and hidden states ``[B, T, H]``."""
    x = check_bits(bits_BxTx2)
    logits, h = _apply(params, jnp.asarray(x))
    return np.asarray(logits > 0).astype(np.int32), np.asarray(h)


@jax.jit
def _apply(params, x):
    hidden = params["cell"]["W_h"].shape[0]  # static under jit
    return BinaryAdder(hidden).apply({"params": params}, x)


def add(params, a, b) -> list[int]:
    """Add lists of non-negative integers of any size with the trained RNN."""
    a, b = check_operands(a, "a"), check_operands(b, "b")
    if len(a) != len(b):
        raise errors.ShapeError(f"a and b must have the same length, got {len(a)} and {len(b)}")
    T = max([1] + [max(x, y).bit_length() for x, y in zip(a, b)]) + 1
    bits = np.stack([to_bits(a, T), to_bits(b, T)], -1)
    out, _ = run_adder(params, bits)
    return from_bits(out)


def accuracy(params, num_bits: int, n: int = 1000, seed: int = 1) -> float:
    """Fraction of ``n`` random pairs of ``num_bits``-bit numbers added exactly right."""
    rng = np.random.default_rng(seed)
    a, b = random_operands(rng, n, num_bits), random_operands(rng, n, num_bits)
    got = add(params, a, b)
    return float(np.mean([g == x + y for g, x, y in zip(got, a, b)]))


def carries(a: int, b: int, num_bits: int) -> list[int]:
    """The true carry out of each bit position of ``a + b``."""
    c, out = 0, []
    for t in range(num_bits):
        s = ((a >> t) & 1) + ((b >> t) & 1) + c
        c = s >> 1
        out.append(c)
    return out


def plot_hidden_states(params, a: int, b: int, path_heatmap, path_states, *, seed: int = 0,
                       num_pairs: int = 200, num_bits: int = 64):
    """Two PNGs: the 16 hidden units over time for ``a + b`` (with inputs, carry, sum bits),
    and a state diagram: hidden states of ``num_pairs`` random additions projected on their
    first two principal components, coloured by the true carry at that step."""
    from jax_ar.rnn import plot
    a, b = check_operands([a], "a")[0], check_operands([b], "b")[0]
    T = max(a, b, 1).bit_length() + 1
    bits = np.stack([to_bits([a], T), to_bits([b], T)], -1)
    out, h = run_adder(params, bits)
    rows = {"a": 2 * bits[0, :, 0] - 1, "b": 2 * bits[0, :, 1] - 1,
            "true carry": 2 * np.asarray(carries(a, b, T)) - 1, "sum (RNN)": 2 * out[0] - 1}
    rows.update({f"h{i}": h[0, :, i] for i in range(h.shape[-1])})
    plot.heatmap_rows(rows, path_heatmap, title=f"hidden states, LSB first ({T} steps): red +1, blue -1")
    rng = np.random.default_rng(seed)
    xa, xb = random_operands(rng, num_pairs, num_bits), random_operands(rng, num_pairs, num_bits)
    bits = np.stack([to_bits(xa, num_bits + 1), to_bits(xb, num_bits + 1)], -1)
    _, h = run_adder(params, bits)
    c = np.array([carries(x, y, num_bits + 1) for x, y in zip(xa, xb)])
    H_NxH = h.reshape(-1, h.shape[-1])
    centred = H_NxH - H_NxH.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    pcs = centred @ vt[:2].T
    plot.scatter(pcs, c.reshape(-1), path_states, names=["carry 0", "carry 1"],
                 title=f"hidden states of {num_pairs} {num_bits}-bit additions (PCA)")
    # how cleanly the carry is encoded: largest gap between the two clusters along PC1
    return {"plot_steps": T, "pc1_carry0": float(pcs[c.reshape(-1) == 0, 0].mean()),
            "pc1_carry1": float(pcs[c.reshape(-1) == 1, 0].mean())}
