"""Character language modelling with recurrent nets: data, matched sizes, evaluation, samples.

The Tiny Shakespeare text is split 90/5/5 (TFDS): train / validation / test.
The first 90% is also nanoGPT's training split, and validation + test
together are nanoGPT's 10% validation split, so one trained model gives both
the TFDS bits/char and the number comparable with nanoGPT's validation loss.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jax_ar import errors, sampling
from jax_ar.data import shakespeare, texts
from jax_ar.models import rnn as rnn_models
from jax_ar.rnn import tbptt


def load_streams(data_dir=None, train_limit: int = 0, text: str = "tiny_shakespeare"):
    """``(vocab, {"train", "validation", "test", "nanogpt_val"} -> int32 token streams)`` of the text
    named ``text`` (:mod:`jax_ar.data.texts`)."""
    text = texts.load(text, data_dir)
    vocab = shakespeare.char_vocab(text)
    parts = shakespeare.split(text, "tfds")
    parts["nanogpt_val"] = shakespeare.split(text, "nanogpt")["validation"]
    if train_limit:
        parts["train"] = parts["train"][:train_limit]
    return vocab, {k: shakespeare.encode_chars(v, vocab) for k, v in parts.items()}


def build_matched(cell: str, vocab_size: int, target_params: int, *, layers: int = 1, embed: int = 64,
                  seq_len: int = 256):
    """A char LM of type ``cell`` with the hidden size that brings it closest to ``target_params``
    from below.  Returns ``(model, kwargs)``."""
    h = rnn_models.hidden_for_params(cell, target_params, vocab_size=vocab_size, layers=layers, embed=embed)
    kwargs = dict(vocab_size=vocab_size, seq_len=seq_len, hidden=h, layers=layers, embed=embed)
    return rnn_models.BUILDERS[cell](**kwargs), kwargs


def evaluate_streams(model, params, streams: dict, *, batch_size: int = 16, window: int = 256) -> dict:
    """Bits per character (state carried through each stream) for every named stream."""
    return {k: tbptt.stream_nll(model, params, s, batch_size=batch_size, window=window)
            for k, s in streams.items()}


def prompt_ids(prompt: str, vocab) -> np.ndarray:
    """``prompt`` as character ids [P]; characters outside ``vocab`` are a ValueRangeError naming them."""
    table = {c: i for i, c in enumerate(vocab)}
    bad = sorted({c for c in prompt if c not in table})
    if bad:
        raise errors.ValueRangeError(f"prompt holds characters outside the vocabulary: {bad!r}")
    return np.asarray([table[c] for c in prompt], np.int32)


def sample_text(model, params, vocab, key, *, num_chars: int = 500, prompt: str = "", num_samples: int = 1,
                temperature: float = 1.0) -> list[str]:
    """Generate text by stepping the recurrent state (the cache) under ``lax.scan``."""
    errors.check_positive(temperature, "temperature")
    ids = prompt_ids(prompt, vocab)
    p = np.tile(ids, (num_samples, 1)) if prompt else None
    pick = None
    if temperature != 1.0:
        pick = _tempered_pick(float(temperature))
    x, _ = sampling.sample(model, params, key, num_samples, prompt=p, num_steps=len(prompt) + num_chars,
                           pick=pick)
    return ["".join(vocab[i] for i in row) for row in np.asarray(x)]


def _tempered_pick(temperature: float):
    def pick(key, logits):
        return jax.random.categorical(key, logits.astype(jnp.float32) / temperature, axis=-1)
    return pick
