"""Deterministic, resumable batch sources: the batch at step s is a pure function of (seed, s).

So restoring the step restores the data position exactly.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from jax_ar.errors import ConfigError


@dataclasses.dataclass
class ArrayData:
    """Fixed-length examples ``x_NxD`` (and optional labels), shuffled anew each epoch."""
    x: np.ndarray
    cond: np.ndarray | None = None

    def __post_init__(self):
        if len(self.x) == 0:
            raise ConfigError("training data is empty")

    def batch(self, step: int, batch_size: int, seed: int):
        n = self.x.shape[0]
        if batch_size > n:
            raise ConfigError(f"batch_size {batch_size} exceeds the {n} training examples")
        per_epoch = n // batch_size
        epoch, i = divmod(step, per_epoch)
        perm = np.random.default_rng([seed, epoch]).permutation(n)
        idx = np.sort(perm[i * batch_size:(i + 1) * batch_size])
        return self.x[idx], (None if self.cond is None else self.cond[idx])


@dataclasses.dataclass
class WindowData:
    """Random windows of ``window`` elements from a long 1-D stream (text, audio)."""
    stream: np.ndarray
    window: int

    def __post_init__(self):
        if self.stream.ndim != 1:
            raise ConfigError(f"stream must be 1-D, got shape {self.stream.shape}")
        if self.window < 1 or self.window > self.stream.shape[0]:
            raise ConfigError(f"window {self.window} must be in [1, {self.stream.shape[0]}] "
                              f"(the stream length)")

    def batch(self, step: int, batch_size: int, seed: int):
        rng = np.random.default_rng([seed, step])
        starts = rng.integers(0, self.stream.shape[0] - self.window + 1, batch_size)
        return self.stream[starts[:, None] + np.arange(self.window)], None


def windows(stream: np.ndarray, window: int, *, stride: int | None = None,
            max_windows: int | None = None) -> np.ndarray:
    """Non-overlapping (or ``stride``-spaced) windows ``[N, window]`` for evaluation."""
    stride = stride or window
    n = (stream.shape[0] - window) // stride + 1
    if n < 1:
        raise ConfigError(f"stream of length {stream.shape[0]} is shorter than the window {window}")
    if max_windows:
        n = min(n, max_windows)
    idx = np.arange(n)[:, None] * stride + np.arange(window)
    return stream[idx]
