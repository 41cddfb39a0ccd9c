"""Letter-bigram frequency matrix and its heatmap as a PNG (PIL only, no matplotlib)."""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from jax_ar import errors

LETTERS = "abcdefghijklmnopqrstuvwxyz"


def letter_bigram_counts(text: str, alphabet: str = LETTERS + " ") -> np.ndarray:
    """counts[a, b] = how often symbol b directly follows symbol a in ``text.lower()`` ([A, A]).

    Characters outside ``alphabet`` break the chain (they are not counted and
    no bigram spans them).  Vectorised: one ``np.add.at`` over the text.
    """
    if not alphabet:
        raise errors.ConfigError("alphabet is empty")
    A = len(alphabet)
    lut = np.full(0x110000 if max(map(ord, alphabet)) > 255 else 256, -1, np.int64)
    lut[[ord(ch) for ch in alphabet]] = np.arange(A)
    codes = np.frombuffer(text.lower().encode("utf-32-le"), np.uint32).astype(np.int64)
    codes = np.where(codes < len(lut), lut[np.minimum(codes, len(lut) - 1)], -1)
    a, b = codes[:-1], codes[1:]
    ok = (a >= 0) & (b >= 0)
    out = np.zeros((A, A), np.int64)
    np.add.at(out, (a[ok], b[ok]), 1)
    return out


def _colour(v: np.ndarray) -> np.ndarray:
    """Map [0, 1] to a white -> blue -> black ramp, uint8 [..., 3]."""
    stops = np.array([[255, 255, 255], [120, 170, 230], [30, 60, 160], [10, 10, 40]], np.float64)
    x = np.clip(v, 0, 1) * (len(stops) - 1)
    i = np.minimum(x.astype(int), len(stops) - 2)
    f = (x - i)[..., None]
    return (stops[i] * (1 - f) + stops[i + 1] * f).astype(np.uint8)


def save_heatmap(counts: np.ndarray, labels: str, path, cell: int = 22, title: str = "") -> str:
    """Heatmap of ``counts`` (log scale), row = first symbol, column = second; cells hold the count."""
    A = counts.shape[0]
    if counts.shape != (A, A) or len(labels) != A:
        raise errors.ShapeError(f"counts must be [{len(labels)}, {len(labels)}], got {counts.shape}")
    margin, top = 24, 24 + (18 if title else 0)
    img = Image.new("RGB", (margin + A * cell + 4, top + A * cell + 4), "white")
    v = np.log1p(counts) / max(np.log1p(counts.max()), 1e-9)
    rgb = _colour(v)
    big = np.kron(rgb, np.ones((cell, cell, 1), np.uint8)).astype(np.uint8)
    img.paste(Image.fromarray(big), (margin, top))
    d = ImageDraw.Draw(img)
    font = ImageFont.load_default()
    show = lambda ch: "_" if ch == " " else ch  # noqa: E731
    if title:
        d.text((margin, 4), title, fill="black", font=font)
    for i, ch in enumerate(labels):
        d.text((margin + i * cell + cell // 3, top - 14), show(ch), fill="black", font=font)
        d.text((8, top + i * cell + cell // 4), show(ch), fill="black", font=font)
    for i in range(A):
        for j in range(A):
            if counts[i, j] and cell >= 20:
                s = str(counts[i, j]) if counts[i, j] < 1000 else f"{counts[i, j] / 1000:.0f}k"
                d.text((margin + j * cell + 1, top + i * cell + cell // 3), s,
                       fill="white" if v[i, j] > 0.55 else "black", font=font)
    img.save(path)
    return str(path)
