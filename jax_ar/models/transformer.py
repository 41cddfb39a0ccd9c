"""Decoder-only Transformer language model (GPT) over a categorical vocabulary.

    p(x) = prod_t p(x_t | x_<t),   logits_t = head(blocks(embed([BOS, x_0 .. x_{t-1}]) + pos))

* Token embedding (vocabulary + one BOS id, so position 0 predicts x_0 with
  no context), positions either learned or the sinusoidal encoding of
  Bishop (2024, sec. 12.1.9, L = 10000) from :mod:`jax_ar.layers.positional`,
  added at amplitude ``sinusoid_scale`` (0.1: the size of the token vectors),
  or both ("sinusoidal_learned": a learned table that starts at that encoding).
* Blocks of masked multi-head self-attention (explicit ``masks.causal_mask``
  applied with ``where`` to float32 scores) and a GELU MLP, with residual
  connections and layer norm either after the residual add ("post": the
  lecture's Add & Norm) or before each sub-layer ("pre", plus a final norm).
* Optional weight tying (logits = h E^T over the vocabulary rows of the
  embedding E), biases, dropout (active only when ``deterministic=False`` and
  a ``dropout`` rng is given; every contract method is deterministic).
* KV cache: an explicit pytree ``{"write_index": t, "layers": ({"k", "v"}, ...)}``
  with ``k, v`` of shape [B * H, S, K] (S = seq_len; row b * H + h: batch and
  heads folded, so attention reads the buffers without transposing them and
  XLA:CPU never squeezes a unit batch axis - which at batch 1 made it copy
  the whole cache every step; ``gather_cache`` reorders sequences),
  filled by ``prefill`` over a prompt and updated one position per ``step``
  with ``dynamic_update_slice``.  ``resize_cache`` grows or trims the slots
  (``generation.generate`` attends over only the slots a stretch can reach).
  A step past the cache length returns NaN logits (never silent garbage);
  :mod:`jax_ar.generation` refuses such requests up front with a clear error.
"""
from __future__ import annotations

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jax_ar import distributions, errors
from jax_ar.contract import LinenARModel
from jax_ar.layers.attention import CausalSelfAttention, check_heads
from jax_ar.layers import flat, mixed
from jax_ar.layers.gelu import ACTIVATIONS
from jax_ar.layers.positional import sinusoidal_encoding
from jax_ar.models.registry import register


class Block(nn.Module):
    width: int
    num_heads: int
    num_layers: int
    mlp_ratio: int = 4
    norm: str = "pre"
    use_bias: bool = False
    dropout: float = 0.0
    activation: str = "gelu_tanh"     # gelu_tanh (GPT-2) | gelu (exact erf form, as torch.nn.GELU)
    matmul_dtype: str = "float32"

    def setup(self):
        out_std = 0.02 / np.sqrt(2 * self.num_layers)   # GPT-2 scaled residual init
        self.ln1 = nn.LayerNorm(epsilon=1e-5, use_bias=self.use_bias, name="ln1")
        self.ln2 = nn.LayerNorm(epsilon=1e-5, use_bias=self.use_bias, name="ln2")
        self.attn = CausalSelfAttention(self.width, self.num_heads, self.use_bias, self.dropout,
                                        out_init_std=out_std, matmul_dtype=self.matmul_dtype, name="attn")
        init = nn.initializers.normal(0.02)
        dg = mixed.dense_dot_general(self.matmul_dtype)
        self.mlp_in = nn.Dense(self.mlp_ratio * self.width, use_bias=self.use_bias, kernel_init=init,
                               dot_general=dg)
        self.mlp_out = nn.Dense(self.width, use_bias=self.use_bias,
                                kernel_init=nn.initializers.normal(out_std), dot_general=dg)
        self.drop = nn.Dropout(self.dropout)

    def _drop(self, h, deterministic):
        return h if deterministic or self.dropout == 0.0 else self.drop(h, deterministic=False)

    def _mlp(self, h, deterministic):
        act = ACTIVATIONS[self.activation]
        return self._drop(flat.rows(lambda r: self.mlp_out(act(self.mlp_in(r))), h), deterministic)

    def _residual(self, x, attn_fn, deterministic):
        """The two sub-layers around ``attn_fn(normed_or_raw_x) -> (a, extra)``."""
        if self.norm == "pre":
            a, extra = attn_fn(self.ln1(x))
            x = x + self._drop(a, deterministic)
            return x + self._mlp(self.ln2(x), deterministic), extra
        a, extra = attn_fn(x)                                  # post-norm: Add & Norm
        x = self.ln1(x + self._drop(a, deterministic))
        return self.ln2(x + self._mlp(x, deterministic)), extra

    def __call__(self, x_BxTxW, deterministic: bool = True):
        return self._residual(x_BxTxW, lambda h: self.attn(h, deterministic), deterministic)

    def step(self, x_BxW, k, v, t):
        def attn_fn(h):
            a, k2, v2 = self.attn.step(h, k, v, t)
            return a, (k2, v2)
        return self._residual(x_BxW, attn_fn, True)


# amplitude of the sinusoidal position vectors beside N(0, 0.02) token vectors (BENCHMARKS.md sweep)
SINUSOID_SCALE = 0.1
POSITIONS = ("learned", "sinusoidal", "sinusoidal_learned")


class TransformerLM(nn.Module):
    vocab_size: int
    seq_len: int
    num_layers: int = 4
    num_heads: int = 4
    width: int = 128
    mlp_ratio: int = 4
    norm: str = "pre"                 # "pre" | "post"
    positions: str = "learned"        # "learned" | "sinusoidal" | "sinusoidal_learned"
    tie_weights: bool = True
    use_bias: bool = False
    dropout: float = 0.0
    cache_dtype: str = "float32"
    activation: str = "gelu_tanh"
    matmul_dtype: str = "float32"     # dense products: float32 | bfloat16 operands (layers.mixed)
    sinusoid_scale: float = 1.0       # amplitude of the sinusoidal position vectors (build's default 0.1)

    def setup(self):
        V, W = self.vocab_size, self.width
        self.embed = nn.Embed(V + 1, W, embedding_init=nn.initializers.normal(0.02), name="embed")
        if self.positions == "learned":
            self.pos = self.param("pos", nn.initializers.normal(0.02), (self.seq_len, W))
        elif self.positions == "sinusoidal_learned":   # trained like "learned", starts at the sinusoid
            self.pos = self.param("pos", lambda _key, shape: self._sinusoid_table(), (self.seq_len, W))
        self.blocks = [Block(W, self.num_heads, self.num_layers, self.mlp_ratio, self.norm, self.use_bias,
                             self.dropout, self.activation, self.matmul_dtype, name=f"block{i}")
                       for i in range(self.num_layers)]
        if self.norm == "pre":
            self.ln_f = nn.LayerNorm(epsilon=1e-5, use_bias=self.use_bias, name="ln_f")
        if not self.tie_weights:
            self.head = nn.Dense(V, use_bias=self.use_bias, kernel_init=nn.initializers.normal(0.02),
                                 dot_general=mixed.dense_dot_general(self.matmul_dtype))
        self.emb_drop = nn.Dropout(self.dropout)

    @property
    def bos(self) -> int:
        return self.vocab_size

    def pos_table(self):
        """Position vectors for positions 0 .. seq_len-1, shape [S, W]."""
        if self.positions in ("learned", "sinusoidal_learned"):
            return self.pos
        return self._sinusoid_table()

    def _sinusoid_table(self):
        return self.sinusoid_scale * sinusoidal_encoding(self.seq_len, self.width)   # Bishop's n = 1 .. S

    def _logits(self, h):
        if self.norm == "pre":
            h = self.ln_f(h)
        if self.tie_weights:
            E_VxW = self.embed.embedding[: self.vocab_size]
            return flat.rows(lambda r: mixed.matmul_transposed(r, E_VxW, self.matmul_dtype), h)
        return flat.rows(self.head, h)

    def forward_tokens(self, tokens_BxT, deterministic: bool = True):
        """Parallel pass over input tokens at positions 0..T-1 (BOS already included).

        Returns ``(logits_BxTxV, kv)`` where ``kv`` holds every layer's keys and values.
        """
        T = tokens_BxT.shape[1]
        h = self.embed(tokens_BxT) + self.pos_table()[:T][None]
        if not (deterministic or self.dropout == 0.0):
            h = self.emb_drop(h, deterministic=False)
        kv = []
        for blk in self.blocks:
            h, kv_l = blk(h, deterministic)
            kv.append(kv_l)
        return self._logits(h), kv

    def __call__(self, x_BxD, cond_B=None, deterministic: bool = True):
        B = x_BxD.shape[0]
        bos_Bx1 = jnp.full((B, 1), self.bos, jnp.int32)
        tokens_BxD = jnp.concatenate([bos_Bx1, x_BxD[:, :-1].astype(jnp.int32)], axis=1)
        logits_BxDxV, _ = self.forward_tokens(tokens_BxD, deterministic)
        return logits_BxDxV

    # ------------------------------------------------------------ KV cache
    def init_cache(self, batch_size, cond_B=None):
        H = self.num_heads
        shape = (batch_size * H, self.seq_len, self.width // H)
        dt = jnp.dtype(self.cache_dtype)
        return {"write_index": jnp.zeros((), jnp.int32),
                "layers": tuple({"k": jnp.zeros(shape, dt), "v": jnp.zeros(shape, dt)}
                                for _ in range(self.num_layers))}

    def prefill(self, prompt_BxP):
        """Consume BOS and ``prompt[:, :P-1]`` in one parallel pass (P >= 1).

        Returns the cache at index P, ready for ``step(cache, prompt[:, P-1])``
        (exactly the state ``P`` calls of ``step`` would leave).
        """
        B, P = prompt_BxP.shape
        cache = self.init_cache(B)
        bos_Bx1 = jnp.full((B, 1), self.bos, jnp.int32)
        tokens_BxP = jnp.concatenate([bos_Bx1, prompt_BxP[:, :-1].astype(jnp.int32)], axis=1)
        _, kv = self.forward_tokens(tokens_BxP)
        dt = jnp.dtype(self.cache_dtype)
        N, K = B * self.num_heads, self.width // self.num_heads
        layers = tuple({"k": jax.lax.dynamic_update_slice(c["k"], k.reshape(N, P, K).astype(dt), (0, 0, 0)),
                        "v": jax.lax.dynamic_update_slice(c["v"], v.reshape(N, P, K).astype(dt), (0, 0, 0))}
                       for c, (k, v) in zip(cache["layers"], kv))
        return {"write_index": jnp.asarray(P, jnp.int32), "layers": layers}

    def step(self, cache, x_prev_B):
        t = cache["write_index"]
        token_B = jnp.where(t == 0, self.bos, x_prev_B.astype(jnp.int32))
        pos_W = jax.lax.dynamic_index_in_dim(self.pos_table(), jnp.minimum(t, self.seq_len - 1),
                                             axis=0, keepdims=False)
        h = self.embed(token_B) + pos_W[None]
        layers = []
        for blk, c in zip(self.blocks, cache["layers"]):
            h, (k, v) = blk.step(h, c["k"], c["v"], t)
            layers.append({"k": k, "v": v})
        logits_BxV = self._logits(h)
        logits_BxV = jnp.where(t < self.seq_len, logits_BxV, jnp.nan)  # past the cache: NaN, not garbage
        return logits_BxV, {"write_index": t + 1, "layers": tuple(layers)}


def _map_kv(cache, fn):
    """``cache`` with ``fn`` applied to every key/value buffer (the write index kept)."""
    return {"write_index": cache["write_index"],
            "layers": tuple({name: fn(a) for name, a in layer.items()} for layer in cache["layers"])}


@dataclasses.dataclass(frozen=True, eq=False)
class TransformerARModel(LinenARModel):
    """The contract adapter plus ``prefill`` and a dropout-aware ``outputs_train``."""
    prefixes = True     # a causal pass over the first T <= seq_len tokens is the same pass, cut short

    def __post_init__(self):
        super().__post_init__()
        # one compiled parallel pass per input shape (also inside other jits: inlined)
        apply = jax.jit(lambda params, x: self.module.apply({"params": params}, x, None))
        object.__setattr__(self, "_outputs_jit", apply)
        prefill = jax.jit(lambda params, p: self.module.apply({"params": params}, p, method="prefill"))
        object.__setattr__(self, "_prefill_jit", prefill)
        train = jax.jit(lambda params, x, key: self.module.apply({"params": params}, x, None, False,
                                                                 rngs={"dropout": key}))
        object.__setattr__(self, "_train_jit", train)

    @property
    def vocab_size(self) -> int:
        return self.dist.vocab_size

    @property
    def max_steps(self) -> int:
        """The KV cache holds ``seq_len`` positions: no longer generation in one pass."""
        return self.seq_len

    def outputs(self, params, x, cond=None):
        self.check_outputs_input(x, cond)
        return self._outputs_jit(params, x)

    def gather_cache(self, cache, rows):
        """The cache of sequences ``rows`` (beam search reorders its beams with this)."""
        H = self.module.num_heads

        def take(a_NxSxK):
            N = a_NxSxK.shape[0]
            return a_NxSxK.reshape((N // H, H) + a_NxSxK.shape[1:])[rows].reshape((-1,) + a_NxSxK.shape[1:])

        return _map_kv(cache, take)

    def resize_cache(self, cache, num_slots: int):
        """The cache with ``num_slots`` key/value slots per layer: zero slots appended, or the slots from
        ``num_slots`` on dropped.  ``step`` attends over exactly the slots it is given, so a generation
        loop can grow the cache as it goes and never read the empty tail; the caller keeps
        ``write_index < num_slots`` (``generation.generate`` does)."""
        if not 1 <= num_slots <= self.seq_len:
            raise errors.ShapeError(f"a cache holds 1 .. {self.seq_len} slots (the context), got {num_slots}")

        def fit(a_NxSxK):
            S = a_NxSxK.shape[1]
            if num_slots <= S:
                return a_NxSxK[:, :num_slots]
            return jnp.pad(a_NxSxK, ((0, 0), (0, num_slots - S), (0, 0)))

        return _map_kv(cache, fit)

    def prefill(self, params, prompt_BxP):
        return self._prefill_jit(params, prompt_BxP)

    def outputs_train(self, params, x, key=None):
        """Teacher-forced logits; dropout is active only when ``key`` is given."""
        if key is None:
            return self.outputs(params, x)
        return self._train_jit(params, x, key)


def build(vocab_size: int = 65, seq_len: int = 64, num_layers: int = 4, num_heads: int = 4,
          width: int = 128, mlp_ratio: int = 4, norm: str = "pre", positions: str = "learned",
          tie_weights: bool = True, use_bias: bool = False, dropout: float = 0.0,
          cache_dtype: str = "float32", activation: str = "gelu_tanh",
          matmul_dtype: str = "float32", sinusoid_scale: float = SINUSOID_SCALE) -> TransformerARModel:
    """A decoder-only Transformer LM; defaults are nanoGPT's CPU character configuration.

    ``positions="sinusoidal"`` adds Bishop's fixed vectors r_n (eq. 12.25,
    entries in [-1, 1]) times ``sinusoid_scale`` to the token vectors, which
    start as N(0, 0.02) like nanoGPT's.  At amplitude 1 the positions swamp the
    tokens (~35x larger) and the character model trains far slower (validation
    loss 2.41 vs 1.88 at 0.1 after nanoGPT's 2,000 CPU iterations; sweep in
    BENCHMARKS.md).  ``positions="sinusoidal_learned"`` makes that table a
    learned parameter that starts at the scaled sinusoid (instead of
    nanoGPT's N(0, 0.02) start for ``"learned"``).

    ``matmul_dtype="bfloat16"``: mixed precision, the dense products take
    bfloat16 operands with float32 accumulation (:mod:`jax_ar.layers.mixed`);
    parameters, attention scores, norms and logits stay float32.
    """
    check_heads(width, num_heads)
    mixed.check_matmul_dtype(matmul_dtype)
    for name, v in (("vocab_size", vocab_size), ("seq_len", seq_len), ("num_layers", num_layers),
                    ("mlp_ratio", mlp_ratio)):
        if int(v) < 1:
            raise errors.ConfigError(f"{name} must be >= 1, got {v}")
    if norm not in ("pre", "post"):
        raise errors.ConfigError(f"norm must be 'pre' or 'post', got {norm!r}")
    if positions not in POSITIONS:
        raise errors.ConfigError(f"positions must be one of {', '.join(POSITIONS)}, got {positions!r}")
    if not (isinstance(sinusoid_scale, (int, float)) and np.isfinite(sinusoid_scale) and sinusoid_scale > 0):
        raise errors.ConfigError(f"sinusoid_scale must be a positive number, got {sinusoid_scale!r}")
    if activation not in ACTIVATIONS:
        raise errors.ConfigError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
    if not 0.0 <= dropout < 1.0:
        raise errors.ConfigError(f"dropout must be in [0, 1), got {dropout}")
    module = TransformerLM(vocab_size, seq_len, num_layers, num_heads, width, mlp_ratio, norm,
                           positions, tie_weights, use_bias, dropout, cache_dtype, activation, matmul_dtype,
                           float(sinusoid_scale))
    return TransformerARModel(module, seq_len, distributions.Categorical(vocab_size))


_TINY = dict(vocab_size=3, seq_len=4, num_layers=2, num_heads=2, width=8, mlp_ratio=2)


def _legacy_sinusoid_scale(saved_kwargs: dict) -> float:
    """Runs saved before sinusoid_scale existed added the sinusoid at amplitude 1; with learned
    positions the scale plays no part, so such a run equals a new one at the current default."""
    return 1.0 if saved_kwargs.get("positions", "learned") == "sinusoidal" else SINUSOID_SCALE


_SINUSOID_DEFAULT = {"sinusoid_scale": (SINUSOID_SCALE, _legacy_sinusoid_scale)}


@register("transformer_prenorm", changed_defaults=_SINUSOID_DEFAULT,
          tiny=dict(_TINY, norm="pre", positions="learned", tie_weights=True))
def build_prenorm(**kw) -> TransformerARModel:
    return build(**dict({"norm": "pre"}, **kw))


@register("transformer_postnorm", changed_defaults=_SINUSOID_DEFAULT,
          tiny=dict(_TINY, norm="post", positions="sinusoidal", tie_weights=False, use_bias=True))
def build_postnorm(**kw) -> TransformerARModel:
    return build(**dict({"norm": "post"}, **kw))


@register("image_gpt", changed_defaults=_SINUSOID_DEFAULT,
          tiny=dict(seq_len=6, num_layers=1, num_heads=2, width=8, mlp_ratio=2))
def build_image_gpt(seq_len: int = 784, num_layers: int = 4, num_heads: int = 4, width: int = 64,
                    **kw) -> TransformerARModel:
    """ImageGPT: the same Transformer over binary pixels in raster order (vocabulary 2)."""
    return build(**dict(kw, vocab_size=2, seq_len=seq_len, num_layers=num_layers,
                        num_heads=num_heads, width=width))
