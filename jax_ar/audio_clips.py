"""Labelled audio clips as mu-law codes: training windows and whole-clip likelihoods.

Each clip is preceded by ``context`` codes of silence (the mu-law code of
amplitude 0).  Training draws random windows of ``window`` codes from these
padded clips (every window start equally likely, so long clips count more);
evaluation scores every real sample of a clip after the same silence context,
so the model is asked the same question in both.  For a convolutional model
``context`` is its receptive field: every scored sample then sees exactly the
context it was trained with.  Windows must be longer than the receptive field,
otherwise no training position ever sees a full receptive field (ConfigError).
"""
from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from jax_ar import errors
from jax_ar.audio import mu_law_encode


def silence_code(channels: int = 256) -> int:
    return int(np.asarray(mu_law_encode(np.zeros(1, np.float32), channels))[0])


def encode_clips(clips, channels: int = 256) -> list:
    """Float clips in [-1, 1] -> list of int32 mu-law code arrays; empty clips are an error."""
    if len(clips) == 0:
        raise errors.DataFileError("no audio clips given")
    arrays = []
    for i, c in enumerate(clips):
        a = np.asarray(c, np.float32)
        if a.ndim != 1:
            raise errors.ShapeError(f"clip {i} must be 1-D mono audio, got shape {a.shape}")
        if a.shape[0] == 0:
            raise errors.DataFileError(f"clip {i} is empty (zero samples)")
        arrays.append(a)
    # one encode call over all clips: per-clip calls would compile one program per clip length
    flat = np.asarray(mu_law_encode(np.concatenate(arrays), channels), np.int32)
    return np.split(flat, np.cumsum([len(a) for a in arrays])[:-1])


def check_window(window: int, receptive_field: int) -> None:
    if window <= receptive_field:
        raise errors.ConfigError(
            f"training window {window} is not longer than the model's receptive field "
            f"{receptive_field}: no position would see a full receptive field; use a window > "
            f"{receptive_field} or fewer/smaller dilations")


@dataclasses.dataclass
class ClipWindows:
    """Random labelled windows of padded clips; ``batch(step, B, seed) -> (x_BxW, cond_B)``.

    A pure function of (seed, step), like :class:`jax_ar.data.batching.WindowData`.
    """
    codes: list
    window: int
    context: int
    cond: np.ndarray | None = None
    channels: int = 256

    def __post_init__(self):
        if not self.codes:
            raise errors.ConfigError("no training clips")
        check_window(self.window, self.context)
        if self.cond is not None and len(self.cond) != len(self.codes):
            raise errors.ShapeError(f"{len(self.cond)} labels for {len(self.codes)} clips")
        sil = silence_code(self.channels)
        padded = []
        for c in self.codes:
            pad = max(self.context, self.window - len(c))
            padded.append(np.concatenate([np.full(pad, sil, np.int32), c]))
        self._stream = np.concatenate(padded)
        lengths = np.array([len(p) for p in padded])
        self._offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        self._num_starts = lengths - self.window + 1
        self._cum_starts = np.cumsum(self._num_starts)

    def batch(self, step: int, batch_size: int, seed: int):
        rng = np.random.default_rng([seed, step, 7])
        g = rng.integers(0, self._cum_starts[-1], batch_size)
        clip = np.searchsorted(self._cum_starts, g, side="right")
        start = g - (self._cum_starts[clip] - self._num_starts[clip]) + self._offsets[clip]
        x = self._stream[start[:, None] + np.arange(self.window)]
        return x, (None if self.cond is None else np.asarray(self.cond)[clip].astype(np.int32))


def clip_log_probs(model, params, codes, cond=None, *, context: int, batch_size: int = 8,
                   bucket: int = 2048, channels: int = 256) -> np.ndarray:
    """log p(clip | ``context`` codes of silence) in nats for every clip, float64 [N].

    Clips are right-padded to a multiple of ``bucket`` (causality makes the
    padding invisible to real positions), only real positions are summed; batches are padded to
    ``batch_size`` so only a few shapes are compiled.
    """
    if cond is not None:
        errors.check_labels(np.asarray(cond), num_classes=model.num_classes, batch=len(codes))
    elif model.num_classes:
        errors.check_labels(None, num_classes=model.num_classes)
    sil = silence_code(channels)
    order = np.argsort([len(c) for c in codes])
    out = np.zeros(len(codes), np.float64)
    for i in range(0, len(codes), batch_size):
        idx = order[i:i + batch_size]
        T = context + int(math.ceil(max(len(codes[j]) for j in idx) / bucket) * bucket)
        x = np.full((batch_size, T), sil, np.int32)
        for r, j in enumerate(idx):
            x[r, context:context + len(codes[j])] = codes[j]
        c = None
        if cond is not None:
            c = np.zeros(batch_size, np.int32)
            c[:len(idx)] = np.asarray(cond)[idx]
            c = jnp.asarray(c)
        full = np.asarray(_per_position(model, params, jnp.asarray(x), c))
        for r, j in enumerate(idx):
            out[j] = full[r, context:context + len(codes[j])].sum()
    return out


@functools.partial(jax.jit, static_argnums=(0,))
def _per_position(model, params, x_BxT, cond_B):
    return model.dist.log_prob(model.outputs(params, x_BxT, cond_B), x_BxT)


def bits_per_sample(total_log_prob_nats, num_samples: int) -> float:
    return float(-np.sum(total_log_prob_nats) / num_samples / math.log(2.0))
