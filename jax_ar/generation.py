"""Prompted generation for sequence models with a KV cache, and a recompute-everything baseline.

``generate`` = one parallel ``prefill`` over the prompt (models that have one;
otherwise the prompt is stepped through) followed by ``lax.scan`` over
``model.step`` with the cache pytree in the carry.  ``pick`` is any decoding
strategy from :mod:`jax_ar.decoding` (it reads logits, ``dist.log_probs(out)``
for models whose ``out`` is something else) or any ``pick(key, out_BxP)``
function, as in :func:`jax_ar.sampling.sample`.  ``stop_token`` ends a
sequence: later positions are filled with ``pad_token`` and not scored.

``generate_recompute`` produces the same distribution but re-runs the full
parallel forward pass over the whole (padded) context at every step: the
baseline a KV cache is measured against.  ``generate_sliding`` recomputes
over the last ``seq_len - 1`` tokens, for samples longer than the context.
"""
from __future__ import annotations

import functools
import math
from typing import Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np

from jax_ar import decoding, errors

Pick = Callable[[jax.Array, jax.Array], jax.Array]


def _pick_for(model, pick):
    """``pick`` (default: pure sampling, ``decoding.Sample(1.0)``, whose noise can be drawn before
    the loop) made to read the model's ``out``: strategies see logits (``decoding.for_model``), any
    other function gets ``out`` itself, as in :func:`jax_ar.sampling.sample`."""
    return decoding.for_model(pick or decoding.Sample(1.0), model.dist)


def check_unconditional(model) -> None:
    """Prompted generation and beam search take no labels: refuse a conditional model clearly."""
    if getattr(model, "num_classes", 0):
        raise errors.ConfigError(
            f"generate and beam_search take no labels, and this model is conditional on {model.num_classes} "
            f"classes; use sampling.sample(..., cond=labels) with a decoding strategy instead")


def check_request(model, prompt, num_new: int, *, max_len: Optional[int] = None) -> np.ndarray:
    """Validate a prompt ``[B, P]`` (P >= 1) and a number of new tokens; returns the prompt as int32."""
    decoding.check_discrete(model.dist)        # token ids only: a continuous model has none
    check_unconditional(model)
    p = np.asarray(prompt)
    if p.ndim != 2 or p.shape[1] < 1 or p.shape[0] < 1:
        raise errors.ShapeError(f"prompt must have shape [batch, P] with P >= 1, got {p.shape}")
    V = model.dist.vocab_size
    errors.check_sequences(p, seq_len=p.shape[1], kind=model.dist.kind, vocab_size=V, name="prompt")
    _check_num_new(num_new)
    S = model.seq_len if max_len is None else max_len
    P = p.shape[1]
    if P > S:
        raise errors.ShapeError(f"prompt length {P} is longer than the model's context of {S} tokens")
    if P + num_new > S:
        held = ("this model's cache covers" if getattr(model, "stationary", False)
                else "the KV cache holds")
        raise errors.ShapeError(
            f"generating {num_new} tokens after a {P}-token prompt needs {P + num_new} positions but "
            f"{held} {S} (the context length); ask for at most {S - P} new tokens"
            + (" (or use sampling.sample, which has no length limit for this model)"
               if getattr(model, "stationary", False) else ""))
    return p.astype(np.int32)


def _check_num_new(num_new) -> None:
    errors.check_integer(num_new, "num_new")


def _check_stop(model, stop_token, pad_token) -> None:
    """``stop_token`` must be a token id; ``pad_token`` any integer (-1, outside the vocabulary,
    marks padding unambiguously)."""
    V = model.dist.vocab_size
    if stop_token is not None and not (errors.is_integer(stop_token) and 0 <= stop_token < V):
        raise errors.ValueRangeError(f"stop_token must be a token id in [0, {V - 1}], got {stop_token!r}")
    if not errors.is_integer(pad_token):
        raise errors.ConfigError(f"pad_token must be an integer, got {pad_token!r}")


def _finish(out_tokens_BxN, lps_BxN, stop_token, pad_token):
    """Apply the stop token: positions after the first stop become ``pad_token``, unscored."""
    if stop_token is None:
        N = out_tokens_BxN.shape[1]
        return out_tokens_BxN, lps_BxN.sum(1), jnp.full((out_tokens_BxN.shape[0],), N, jnp.int32)
    is_stop = out_tokens_BxN == stop_token
    after_stop = jnp.cumsum(is_stop, axis=1) - is_stop > 0         # strictly after the first stop
    tokens = jnp.where(after_stop, pad_token, out_tokens_BxN)
    lp = jnp.where(after_stop, 0.0, lps_BxN).sum(1)
    lengths = jnp.sum(~after_stop, axis=1).astype(jnp.int32)
    return tokens, lp, lengths


def prefill_cache(model, params, prompt_BxP):
    """Cache at index P (ready for ``step(cache, prompt[:, -1])``)."""
    if hasattr(model, "prefill"):
        return model.prefill(params, prompt_BxP)
    cache = model.init_cache(params, prompt_BxP.shape[0])
    x_prev = jnp.concatenate([jnp.zeros_like(prompt_BxP[:, :1]), prompt_BxP[:, :-1]], axis=1)
    cache, _ = jax.lax.scan(lambda c, xp: (model.step(params, c, xp)[1], None), cache, x_prev.T)
    return cache


def segments(start: int, stop: int, size: int):
    """Split write indices ``start .. stop-1`` into runs ``(a, b)`` that end at multiples of ``size``
    (the last one at ``stop``): during a run the cache needs only ``b`` slots."""
    runs, a = [], start
    while a < stop:
        b = min((a // size + 1) * size, stop)
        runs.append((a, b))
        a = b
    return runs


NOISE_BUDGET = 1 << 24      # float32 values of sampling noise drawn before the loop (64 MiB); beyond: per step


def _step_inputs(pick, keys, shape):
    """What each step consumes: the strategy's noise, drawn for every step before the loop when the
    strategy splits its draw (``noise`` / ``with_noise``) and it fits :data:`NOISE_BUDGET`, else the
    per-step keys.  Both give the same samples."""
    inner = getattr(pick, "strategy", pick)     # a strategy wrapped by decoding.for_model
    if hasattr(inner, "noise") and hasattr(inner, "with_noise") and keys.shape[0] * math.prod(shape) <= NOISE_BUDGET:
        return jax.vmap(lambda k: pick.noise(k, shape))(keys), pick.with_noise
    return keys, pick


@functools.partial(jax.jit, static_argnums=(0,), static_argnames=("num_new", "pick", "stop_token",
                                                                   "pad_token", "unroll", "segment"))
def _generate(model, params, key, prompt_BxP, *, num_new, pick, stop_token, pad_token, unroll, segment):
    B, P = prompt_BxP.shape
    cache = prefill_cache(model, params, prompt_BxP)
    inputs, choose = _step_inputs(pick, jax.random.split(key, num_new), (B, model.dist.vocab_size))

    def body(carry, r):
        cache, x_prev = carry
        out, cache = model.step(params, cache, x_prev)
        x = choose(r, out).astype(jnp.int32)
        return (cache, x), (x, model.dist.log_prob(out, x))

    grow = segment > 0 and hasattr(model, "resize_cache")
    runs = segments(P, P + num_new, segment) if grow else [(P, P + num_new)]
    carry, xs, lps = (cache, prompt_BxP[:, -1]), [], []
    for a, b in runs:          # each run attends over a cache of b slots: the empty tail is never read
        if grow:
            carry = (model.resize_cache(carry[0], b), carry[1])
        carry, (x_run, lp_run) = jax.lax.scan(body, carry, jax.tree_util.tree_map(lambda r: r[a - P:b - P], inputs),
                                              unroll=unroll)
        xs.append(x_run)
        lps.append(lp_run)
    return _finish(jnp.concatenate(xs).T, jnp.concatenate(lps).T, stop_token, pad_token)


def generate(model, params, key, prompt, num_new: int, *, pick: Optional[Pick] = None,
             stop_token: Optional[int] = None, pad_token: int = 0, unroll: int = 1,
             segment: Optional[int] = None):
    """Sample ``num_new`` tokens after ``prompt_BxP`` with the KV cache.

    For models whose cache can be resized (``resize_cache``: the Transformer),
    the loop runs in stretches ending at multiples of ``segment`` positions,
    each over a cache of just the slots it can reach, so the empty tail is
    never read; the samples are the same either way.  ``segment=None`` takes
    ``max(64, seq_len / 4)`` (each stretch is compiled separately: at most
    about five loops); 0 runs one loop over the whole cache.

    Returns ``(tokens_BxN, log_prob_B, lengths_B)``: the new tokens, the
    model's log-probability of them (up to and including a stop token), and
    the number of valid new tokens per row.  Raises :class:`ShapeError` when
    ``P + num_new`` exceeds the cache length (the model's context).
    """
    p = check_request(model, prompt, num_new)
    _check_stop(model, stop_token, pad_token)
    errors.check_key(key)
    if segment is None:
        segment = max(64, -(-model.seq_len // 4))
    if int(segment) < 0:
        raise errors.ConfigError(f"segment must be >= 0 (0: one loop over the whole cache), got {segment}")
    return _generate(model, params, key, jnp.asarray(p), num_new=int(num_new), pick=_pick_for(model, pick),
                     stop_token=None if stop_token is None else int(stop_token), pad_token=int(pad_token),
                     unroll=int(unroll), segment=int(segment))


@functools.partial(jax.jit, static_argnums=(0,), static_argnames=("num_new", "pick"))
def _generate_recompute(model, params, key, prompt_BxP, *, num_new, pick):
    B, P = prompt_BxP.shape
    S = model.seq_len
    buf_BxS = jnp.zeros((B, S), jnp.int32).at[:, :P].set(prompt_BxP)

    def body(buf, inp):
        t, k = inp                                   # predict position t from buf[:, :t]
        out_BxSxP = model.outputs(params, buf)       # full causal pass over the whole context
        out = jax.lax.dynamic_index_in_dim(out_BxSxP, t, axis=1, keepdims=False)
        x = pick(k, out).astype(jnp.int32)
        buf = jax.lax.dynamic_update_slice(buf, x[:, None], (0, t))
        return buf, (x, model.dist.log_prob(out, x))

    ts = jnp.arange(P, P + num_new)
    _, (xs, lps) = jax.lax.scan(body, buf_BxS, (ts, jax.random.split(key, num_new)))
    return xs.T, lps.sum(0)


def generate_recompute(model, params, key, prompt, num_new: int, *, pick: Optional[Pick] = None):
    """Baseline without a cache: every step recomputes the whole context.  Returns ``(tokens, log_prob)``."""
    p = check_request(model, prompt, num_new)
    errors.check_key(key)
    return _generate_recompute(model, params, key, jnp.asarray(p), num_new=int(num_new),
                               pick=_pick_for(model, pick))


@functools.partial(jax.jit, static_argnums=(0,), static_argnames=("num_new", "pick"))
def _generate_sliding(model, params, key, prompt_BxP, *, num_new, pick):
    B, P = prompt_BxP.shape
    W = model.seq_len - 1                            # BOS + last W tokens
    total = P + num_new
    buf = jnp.zeros((B, total), jnp.int32).at[:, :P].set(prompt_BxP)

    def body(buf, inp):
        t, k = inp
        start = jnp.maximum(t - W, 0)
        window_BxS = jax.lax.dynamic_slice_in_dim(jnp.pad(buf, ((0, 0), (0, 1))), start, model.seq_len, axis=1)
        out = jax.lax.dynamic_index_in_dim(model.outputs(params, window_BxS), t - start, axis=1,
                                           keepdims=False)
        x = pick(k, out).astype(jnp.int32)
        return jax.lax.dynamic_update_slice(buf, x[:, None], (0, t)), x

    _, xs = jax.lax.scan(body, buf, (jnp.arange(P, total), jax.random.split(key, num_new)))
    return xs.T


def generate_sliding(model, params, key, prompt, num_new: int, *, pick: Optional[Pick] = None):
    """Sample any number of tokens, conditioning on at most the last ``seq_len - 1`` (nanoGPT-style crop).

    When prompt and new tokens fit the context (``P + num_new < seq_len``) nothing slides: that is
    :func:`generate`, whose new tokens this returns."""
    decoding.check_discrete(model.dist)
    check_unconditional(model)
    _check_num_new(num_new)
    p = np.asarray(prompt)
    if p.ndim != 2 or p.shape[1] < 1 or p.shape[0] < 1:
        raise errors.ShapeError(f"prompt must have shape [batch, P] with P >= 1, got {p.shape}")
    if p.shape[1] + num_new < model.seq_len:
        return generate(model, params, key, prompt, num_new, pick=pick)[0]
    if not (model.prefixes or model.stationary):
        raise errors.ConfigError(
            f"generate_sliding moves a window along the sequence, but this model has parameters for "
            f"each of its {model.seq_len} positions, so it "
            f"cannot continue past them: ask for at most {model.seq_len - 1 - p.shape[1]} new tokens")
    errors.check_sequences(p, seq_len=p.shape[1], kind=model.dist.kind,
                           vocab_size=model.dist.vocab_size, name="prompt")
    errors.check_key(key)
    return _generate_sliding(model, params, key, jnp.asarray(p, jnp.int32), num_new=int(num_new),
                             pick=_pick_for(model, pick))
