"""Beam search over any categorical model of the contract, under one ``lax.scan``.

Keeps ``width`` partial sequences per batch row, ranked by total log-probability.
The cache pytree holds ``batch * width`` sequences; after each step the surviving
beams' rows are gathered: by the model's ``gather_cache(cache, rows)`` where it
has one (a cache laid out its own way), else every leaf with a leading batch axis.
``eos_token`` ends a beam: it then only extends with ``eos_token`` at no cost and
its length stops growing.  Final ranking uses ``log_prob / length ** alpha``
(``length_penalty = alpha``; 0 = raw log-probability, 1 = per-token average).

With ``width >= V ** (N - 1)`` no prefix is ever dropped, so the search is
exact: it returns the most likely length-N continuation (tested by enumeration).
"""
from __future__ import annotations

import functools
from typing import Optional

import jax
import jax.numpy as jnp
import numpy as np

from jax_ar import decoding, errors
from jax_ar.generation import check_request, check_unconditional, prefill_cache


def _gather_rows(cache, rows, n_rows):
    return jax.tree_util.tree_map(
        lambda a: a[rows] if (a.ndim >= 1 and a.shape[0] == n_rows) else a, cache)


@functools.partial(jax.jit, static_argnums=(0,),
                   static_argnames=("width", "num_steps", "eos_token", "length_penalty", "batch_size"))
def _beam_search(model, params, prompt_BxP, *, width, num_steps, eos_token, length_penalty, batch_size):
    W, N = width, num_steps
    V = model.dist.vocab_size
    if prompt_BxP is None:
        B = batch_size
        cache = model.init_cache(params, B * W)
        x_prev = jnp.zeros((B * W,), jnp.int32)
    else:
        B = prompt_BxP.shape[0]
        rep = jnp.repeat(prompt_BxP, W, axis=0)                      # row b*W + w
        cache = prefill_cache(model, params, rep)
        x_prev = rep[:, -1]
    logp_BxW = jnp.full((B, W), -jnp.inf).at[:, 0].set(0.0)        # one live beam to start
    done_BxW = jnp.zeros((B, W), bool)
    len_BxW = jnp.zeros((B, W), jnp.int32)
    tokens_BxWxN = jnp.zeros((B, W, N), jnp.int32)
    eos = -1 if eos_token is None else eos_token

    gather = getattr(model, "gather_cache", None)

    def body(carry, t):
        cache, x_prev, logp, done, length, tokens = carry
        out, cache = model.step(params, cache, x_prev)
        logits = decoding.token_logits(model.dist, out)
        lp_BxWxV = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1).reshape(B, W, V)
        only_eos_V = jnp.where(jnp.arange(V) == max(eos, 0), 0.0, -jnp.inf)
        lp_BxWxV = jnp.where(done[..., None], only_eos_V, lp_BxWxV)
        total_BxWV = (logp[..., None] + lp_BxWxV).reshape(B, W * V)
        logp, idx = jax.lax.top_k(total_BxWV, W)
        parent, tok = idx // V, (idx % V).astype(jnp.int32)
        take = lambda a: jnp.take_along_axis(a, parent, axis=1)
        was_done = take(done)
        length = take(length) + (~was_done).astype(jnp.int32)
        done = was_done | (tok == eos)
        tokens = jnp.take_along_axis(tokens, parent[..., None], axis=1).at[:, :, t].set(tok)
        rows = (jnp.arange(B)[:, None] * W + parent).reshape(B * W)
        cache = gather(cache, rows) if gather is not None else _gather_rows(cache, rows, B * W)
        return (cache, tok.reshape(B * W), logp, done, length, tokens), None

    carry = (cache, x_prev, logp_BxW, done_BxW, len_BxW, tokens_BxWxN)
    (_, _, logp, done, length, tokens), _ = jax.lax.scan(body, carry, jnp.arange(N))
    score = logp / jnp.maximum(length, 1).astype(jnp.float32) ** length_penalty
    order = jnp.argsort(-score, axis=1)
    pick = lambda a: jnp.take_along_axis(a, order, axis=1)
    return (jnp.take_along_axis(tokens, order[..., None], axis=1), pick(score), pick(logp), pick(length))


def beam_search(model, params, width: int, *, prompt=None, num_steps: Optional[int] = None,
                batch_size: Optional[int] = None, eos_token: Optional[int] = None,
                length_penalty: float = 0.0):
    """Beam search; returns ``(tokens_BxWxN, score_BxW, log_prob_BxW, length_BxW)``, best beam first.

    prompt: optional ``[B, P]`` token ids (P >= 1) to continue; without it,
    ``batch_size`` (default 1) identical searches from the start of the sequence.
    num_steps: new tokens (default: fill the context, ``seq_len - P``).
    A width larger than the number of distinct continuations returns the
    surplus beams with log-probability -inf.
    """
    errors.check_integer(width, "beam width")
    decoding.check_discrete(model.dist)        # beams of token ids: categorical or binary models
    check_unconditional(model)
    V = model.dist.vocab_size
    if eos_token is not None:
        errors.check_integer(eos_token, "eos_token", lo=0)
        if not eos_token < V:
            raise errors.ValueRangeError(f"eos_token {eos_token} is outside the vocabulary [0, {V - 1}]")
    if (isinstance(length_penalty, bool) or not isinstance(length_penalty, (int, float, np.integer, np.floating))
            or not np.isfinite(length_penalty) or length_penalty < 0):
        raise errors.ConfigError(f"length_penalty must be a finite number >= 0, got {length_penalty!r}")
    S = model.seq_len
    if prompt is None:
        P = 0
        batch_size = errors.check_integer(1 if batch_size is None else batch_size, "batch_size")
    else:
        shape = np.shape(prompt)
        P = shape[-1] if len(shape) else 0
        if len(shape) == 2 and P > S:
            raise errors.ShapeError(f"prompt length {P} is longer than the model's context of {S} tokens")
        if len(shape) == 2 and batch_size is not None and batch_size != shape[0]:
            raise errors.ConfigError(f"batch_size {batch_size!r} disagrees with the prompt's {shape[0]} rows; "
                                     f"with a prompt, leave batch_size out (one search per row)")
    if num_steps is None:
        N = S - P
        if N < 1:
            raise errors.ShapeError(f"the {P}-token prompt fills the model's context of {S} tokens: "
                                    f"nothing is left to generate")
    else:
        N = errors.check_integer(num_steps, "num_steps", hint=f" (new tokens; at most {S - P} here)")
    if prompt is not None:
        prompt = jnp.asarray(check_request(model, prompt, N))
    elif N > S:
        raise errors.ShapeError(f"num_steps must be in [1, {S}] (the context), got {N}")
    return _beam_search(model, params, prompt, width=int(width), num_steps=N,
                        eos_token=None if eos_token is None else int(eos_token),
                        length_penalty=float(length_penalty), batch_size=int(batch_size or 1))
