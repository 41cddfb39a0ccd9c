"""Text language-model helpers: Tiny Shakespeare token streams and windowed evaluation.

* ``shakespeare_streams(tokenizer, scheme)``: character (or BPE) id streams of
  the train / validation text (nanoGPT split: first 90% / last 10%).
* ``per_position_nll(model, params, windows_NxD)``: mean NLL (nats) at each of
  the D positions of non-overlapping windows.  A windowed model predicts
  position 0 with no context (after BOS); nanoGPT's validation loss averages
  positions whose context is 1 .. block characters, so ``nanogpt_loss`` drops
  position 0 to compare like with like.
* ``bits_per_char``: nats per token -> bits per character of the underlying text.
"""
from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from jax_ar.data import shakespeare, texts
from jax_ar.data.batching import windows


def shakespeare_streams(data_dir=None, *, scheme: str = "nanogpt", tokenizer=None,
                        text: str = "tiny_shakespeare") -> dict:
    """``{"vocab", "train", "validation", "train_chars", "validation_chars", "tokenizer"}``.

    tokenizer: None for characters (sorted character set of the whole text,
    65 symbols for Tiny Shakespeare, as nanoGPT), or any object with
    ``encode``/``decode``/``vocab_size``.  text: which text
    (:mod:`jax_ar.data.texts`; Tiny Shakespeare unless told otherwise).
    """
    text = texts.load(text, data_dir)
    parts = shakespeare.split(text, scheme)
    out = {"train_chars": len(parts["train"]), "validation_chars": len(parts["validation"])}
    if tokenizer is None:
        vocab = shakespeare.char_vocab(text)
        out.update(vocab=vocab, vocab_size=len(vocab), tokenizer=None,
                   train=shakespeare.encode_chars(parts["train"], vocab),
                   validation=shakespeare.encode_chars(parts["validation"], vocab))
    else:
        out.update(vocab=None, vocab_size=tokenizer.vocab_size, tokenizer=tokenizer,
                   train=np.asarray(tokenizer.encode(parts["train"]), np.int32),
                   validation=np.asarray(tokenizer.encode(parts["validation"]), np.int32))
    return out


def decode(stream_info: dict, ids) -> str:
    ids = [int(i) for i in np.asarray(ids).ravel()]
    if stream_info["tokenizer"] is not None:
        return stream_info["tokenizer"].decode(ids)
    return "".join(stream_info["vocab"][i] for i in ids)


@functools.partial(jax.jit, static_argnums=(0,))
def _pos_nll(model, params, x_BxD):
    out = model.outputs(params, x_BxD)
    return -model.dist.log_prob(out, x_BxD).sum(0)


def per_position_nll(model, params, windows_NxD, *, batch_size: int = 256) -> np.ndarray:
    """Mean NLL in nats at each position, shape [D] (the last batch is padded and trimmed)."""
    x = np.asarray(windows_NxD, np.int32)
    model.check_input(x)
    n = x.shape[0]
    total = np.zeros(x.shape[1], np.float64)
    for i in range(0, n, batch_size):
        xb = x[i:i + batch_size]
        m = xb.shape[0]
        if m < batch_size:   # pad with copies of the first row, then remove their contribution
            pad = np.repeat(xb[:1], batch_size - m, 0)
            s = np.asarray(_pos_nll(model, params, jnp.asarray(np.concatenate([xb, pad]))), np.float64)
            s -= (batch_size - m) * np.asarray(_pos_nll(model, params, jnp.asarray(np.repeat(xb[:1], batch_size, 0))),
                                               np.float64) / batch_size
        else:
            s = np.asarray(_pos_nll(model, params, jnp.asarray(xb)), np.float64)
        total += s
    return total / n


def eval_windows(stream, seq_len: int) -> np.ndarray:
    """Non-overlapping windows of ``seq_len`` tokens covering the stream (the tail remainder is dropped)."""
    return windows(np.asarray(stream), seq_len)


def loss_summary(nll_D: np.ndarray) -> dict:
    """All-position mean and nanoGPT-comparable mean (positions 1..D-1, context >= 1)."""
    return {"loss_all_positions": float(np.mean(nll_D)), "loss_nanogpt": float(np.mean(nll_D[1:])),
            "loss_position0": float(nll_D[0])}


def bits_per_char(nats_per_token: float, num_tokens: int, num_chars: int) -> float:
    return nats_per_token * num_tokens / num_chars / math.log(2.0)
