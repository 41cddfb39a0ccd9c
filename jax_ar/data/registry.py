"""Named fixed-length data sets, so a run directory can reload its data by name.

``load_split(spec, split, data_dir)`` -> ``(x_NxD, cond_N or None)`` where
``spec`` is the ``dataset`` dict stored in ``run.json`` (a ``name`` and the
source's keyword arguments).  ``info(spec)`` gives the modality and shape
used to write samples.
"""
from __future__ import annotations

import numpy as np

from jax_ar.errors import ConfigError

_SPLIT_SEED = {"train": 0, "valid": 1, "validation": 1, "test": 2}


def _synthetic_split(split):
    if split not in _SPLIT_SEED:
        raise ConfigError(f"unknown split {split!r}; choose train, valid or test")
    return _SPLIT_SEED[split]


def load_split(spec: dict, split: str, data_dir=None, *, seq_len: int | None = None, tokenizer=None):
    """``seq_len``: window length for the text data sets (the model's); ``tokenizer``: the one a
    token-level text run saved (:func:`jax_ar.runs.load_tokenizer`)."""
    name = spec.get("name")
    if name == "binarized_mnist":
        from jax_ar.data import binarized_mnist
        return binarized_mnist.load(split, data_dir), None
    if name == "bars_and_stripes":
        from jax_ar.data import synthetic
        n, num = spec.get("n", 4), spec.get("num", {"train": 4000}.get(split, 1000))
        return synthetic.bars_and_stripes_dataset(n, num, seed=100 * spec.get("seed", 0) + _synthetic_split(split)), None
    if name == "markov":
        from jax_ar.data import synthetic
        chain = synthetic.markov_chain(spec.get("vocab_size", 8), spec.get("concentration", 0.3), spec.get("seed", 0))
        L, num = spec["seq_len"], spec.get("num", 1000)
        s = chain.sample(L * num, seed=10 + _synthetic_split(split))
        return s.reshape(num, L), None
    if name in ("tiny_shakespeare", "markov_text"):
        return _shakespeare_windows(spec, split, data_dir, seq_len, tokenizer), None
    raise ConfigError(f"unknown dataset {name!r}; known: binarized_mnist, bars_and_stripes, markov, "
                      f"tiny_shakespeare, markov_text")


def _shakespeare_windows(spec: dict, split: str, data_dir, seq_len, tokenizer=None):
    """Every non-overlapping ``seq_len``-token window of one split, as the text experiments score it."""
    from jax_ar import lm_text
    from jax_ar.data import shakespeare, texts
    scheme = spec.get("split", spec.get("scheme"))
    level = spec.get("tokenizer", "char")
    if scheme not in ("nanogpt", "tfds") or (level != "char" and tokenizer is None):
        raise ConfigError(f"this run's data ({ {k: v for k, v in spec.items() if k != 'vocab'} }) cannot be "
                          f"reloaded by name: only text runs with the 'nanogpt' or 'tfds' split, "
                          f"character-level or with their tokenizer saved in the run directory, can")
    if not seq_len:
        raise ConfigError("text windows need the model's seq_len")
    part = {"valid": "validation"}.get(split, split)
    text = texts.load(spec["name"], data_dir)
    parts = shakespeare.split(text, scheme)
    if part not in parts:
        raise ConfigError(f"unknown split {split!r}; choose one of {', '.join(parts)}")
    ids = (shakespeare.encode_chars(parts[part], shakespeare.char_vocab(text)) if level == "char"
           else np.asarray(tokenizer.encode(parts[part]), np.int32))
    if len(ids) < seq_len:
        unit = "characters" if level == "char" else "tokens"
        raise ConfigError(f"the {scheme!r} split has {len(ids)} {part} {unit}, fewer than one "
                          f"{seq_len}-{unit[:-1]} window" + ("; use --split=validation" if scheme == "nanogpt" else ""))
    return lm_text.eval_windows(ids, seq_len)


def info(spec: dict) -> dict:
    name = spec.get("name")
    if name == "binarized_mnist":
        return {"modality": "image", "shape": (28, 28)}
    if name == "bars_and_stripes":
        n = spec.get("n", 4)
        return {"modality": "image", "shape": (n, n)}
    if name == "markov":
        return {"modality": "tokens", "shape": (spec["seq_len"],)}
    if name == "spoken_digit":      # WaveNet runs: 256 mu-law classes at 8 kHz
        return {"modality": "audio", "mu_law": 256, "sample_rate": 8000, "shape": ()}
    return {"modality": spec.get("modality", "tokens"), "shape": tuple(spec.get("shape", ()))}


def true_nll(spec: dict) -> float | None:
    """Exact entropy (nats per example) of a synthetic source, if known."""
    from jax_ar.data import synthetic
    if spec.get("name") == "bars_and_stripes":
        return synthetic.bars_and_stripes_entropy(spec.get("n", 4))
    return None
