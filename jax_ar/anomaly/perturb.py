"""Anomaly sources for binary images ``x_NxD`` (raster order, image shape ``HxW``).

Every function returns a new uint8 array of the same shape, values in {0, 1}.
"""
from __future__ import annotations

import numpy as np

from jax_ar.errors import ConfigError, ShapeError


def _images(x_NxD, shape_HW):
    x = np.asarray(x_NxD)
    H, W = shape_HW
    if x.ndim != 2 or x.shape[1] != H * W:
        raise ShapeError(f"images must have shape [N, {H * W}] for image shape {tuple(shape_HW)}, got {x.shape}")
    return x.reshape(-1, H, W).astype(np.uint8)


def bernoulli_noise(num: int, dim: int, density: float, seed: int = 0) -> np.ndarray:
    """``num`` images of i.i.d. Bernoulli(``density``) pixels (e.g. the data's mean pixel density)."""
    if not 0.0 <= density <= 1.0:
        raise ConfigError(f"density must be in [0, 1], got {density}")
    rng = np.random.default_rng(seed)
    return (rng.random((num, dim)) < density).astype(np.uint8)


def hflip(x_NxD, shape_HW) -> np.ndarray:
    """Mirror left-right."""
    return _images(x_NxD, shape_HW)[:, :, ::-1].reshape(len(x_NxD), -1).copy()


def vflip(x_NxD, shape_HW) -> np.ndarray:
    """Mirror top-bottom (upside down)."""
    return _images(x_NxD, shape_HW)[:, ::-1, :].reshape(len(x_NxD), -1).copy()


def invert(x_NxD) -> np.ndarray:
    """Swap on and off pixels."""
    return (1 - np.asarray(x_NxD).astype(np.uint8)).astype(np.uint8)


def shift(x_NxD, shape_HW, dy: int, dx: int) -> np.ndarray:
    """Translate by (dy, dx) pixels, filling the uncovered border with 0 (pixels shifted out are lost)."""
    imgs = _images(x_NxD, shape_HW)
    H, W = shape_HW
    if abs(dy) >= H or abs(dx) >= W:
        raise ConfigError(f"shift ({dy}, {dx}) moves the whole {H}x{W} image out of the frame")
    out = np.zeros_like(imgs)
    ys, yd = (slice(0, H - dy), slice(dy, H)) if dy >= 0 else (slice(-dy, H), slice(0, H + dy))
    xs, xd = (slice(0, W - dx), slice(dx, W)) if dx >= 0 else (slice(-dx, W), slice(0, W + dx))
    out[:, yd, xd] = imgs[:, ys, xs]
    return out.reshape(len(imgs), -1)


def flip_random_pixels(x_NxD, k: int, seed: int = 0) -> np.ndarray:
    """Flip ``k`` pixels per image chosen uniformly at random (a non-adversarial control)."""
    x = np.asarray(x_NxD).astype(np.uint8).copy()
    if not 0 <= k <= x.shape[1]:
        raise ConfigError(f"k must be in [0, {x.shape[1]}], got {k}")
    rng = np.random.default_rng(seed)
    idx = np.argsort(rng.random(x.shape), axis=1)[:, :k]
    rows = np.arange(x.shape[0])[:, None]
    x[rows, idx] = 1 - x[rows, idx]
    return x


def shrink(x_NxD, shape_HW, factor: int = 2) -> np.ndarray:
    """Scale each image down by ``factor`` (max-pool) and centre it: a smaller digit with fewer on pixels."""
    imgs = _images(x_NxD, shape_HW)
    H, W = shape_HW
    if factor < 1 or H // factor < 1 or W // factor < 1:
        raise ConfigError(f"shrink factor must be in [1, {min(H, W)}], got {factor}")
    h, w = H // factor, W // factor
    small = imgs[:, :h * factor, :w * factor].reshape(-1, h, factor, w, factor).max(axis=(2, 4))
    out = np.zeros_like(imgs)
    y0, x0 = (H - h) // 2, (W - w) // 2
    out[:, y0:y0 + h, x0:x0 + w] = small
    return out.reshape(len(imgs), -1)
