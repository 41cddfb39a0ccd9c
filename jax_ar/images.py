"""Writing image grids (PNG) for samples and plots."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def to_uint8(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype == np.uint8 and x.max(initial=0) > 1:
        return x
    x = x.astype(np.float32)
    lo, hi = float(x.min(initial=0.0)), float(x.max(initial=1.0))
    if lo >= 0.0 and hi <= 1.0:
        return (x * 255).round().astype(np.uint8)
    return ((x - lo) / max(hi - lo, 1e-12) * 255).round().astype(np.uint8)


def grid(x_NxHxW: np.ndarray, ncols: int | None = None, pad: int = 1) -> np.ndarray:
    """Tile N grayscale images into one uint8 array with ``pad`` pixels of grey between them."""
    x = to_uint8(x_NxHxW)
    n, h, w = x.shape
    ncols = ncols or int(np.ceil(np.sqrt(n)))
    nrows = int(np.ceil(n / ncols))
    out = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad), 128, np.uint8)
    for i in range(n):
        r, c = divmod(i, ncols)
        out[pad + r * (h + pad):pad + r * (h + pad) + h, pad + c * (w + pad):pad + c * (w + pad) + w] = x[i]
    return out


def save_png(img: np.ndarray, path, scale: int = 1) -> Path:
    from PIL import Image
    im = Image.fromarray(to_uint8(img))
    if scale > 1:
        im = im.resize((im.width * scale, im.height * scale), Image.NEAREST)
    path = Path(path)
    im.save(path)
    return path


def save_png_grid(x_NxHxW: np.ndarray, path, ncols: int | None = None, scale: int = 2) -> Path:
    """Save N images (binary, [0,1] floats or uint8) as one PNG grid."""
    return save_png(grid(x_NxHxW, ncols), path, scale=scale)


def heatmap(a_HxW: np.ndarray, path, scale: int = 8) -> Path:
    """Save a 2-D array as a grey-scale heatmap PNG (min black, max white)."""
    a = np.asarray(a_HxW, np.float32)
    a = (a - a.min()) / max(float(a.max() - a.min()), 1e-12)
    return save_png(a, path, scale=scale)
