"""Waveform and spectrogram pictures of audio clips (numpy STFT, drawn with PIL).

``save_waveform_spectrogram_png([("real", x), ("generated", y)], path)`` puts
one column per clip: the waveform on top, the log-magnitude spectrogram
(Hann window, time left to right, frequency bottom to top) below.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw


def stft_magnitude(x, n_fft: int = 256, hop: int = 64) -> np.ndarray:
    """|STFT| with a Hann window, shape [frames, n_fft // 2 + 1]."""
    x = np.asarray(x, np.float64)
    if len(x) < n_fft:
        x = np.r_[x, np.zeros(n_fft - len(x))]
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop]
    return np.abs(np.fft.rfft(frames * np.hanning(n_fft), axis=-1))


def _spectrogram_image(x, width: int, height: int, n_fft: int, hop: int) -> Image.Image:
    db = 20 * np.log10(stft_magnitude(x, n_fft, hop) + 1e-6)
    db = np.clip((db - (db.max() - 80.0)) / 80.0, 0.0, 1.0)  # 80 dB range
    v = db.T[::-1]  # frequency up
    # "hot" colour map: black -> red -> yellow -> white
    rgb = (np.stack([np.clip(3 * v, 0, 1), np.clip(3 * v - 1, 0, 1), np.clip(3 * v - 2, 0, 1)], -1)
           * 255).astype(np.uint8)
    return Image.fromarray(rgb).resize((width, height), Image.NEAREST)


def _waveform_image(x, width: int, height: int) -> Image.Image:
    im = Image.new("RGB", (width, height), "white")
    d = ImageDraw.Draw(im)
    x = np.asarray(x, np.float64)
    mid = height / 2
    d.line([(0, mid), (width, mid)], fill=(200, 200, 200))
    edges = np.linspace(0, len(x), width + 1).astype(int)
    for i in range(width):  # min/max envelope per pixel column
        seg = x[edges[i]:max(edges[i + 1], edges[i] + 1)]
        lo, hi = (seg.min(), seg.max()) if len(seg) else (0.0, 0.0)
        d.line([(i, mid - hi * mid), (i, mid - lo * mid)], fill=(20, 60, 160))
    return im


def save_waveform_spectrogram_png(clips, path, *, width: int = 400, wave_height: int = 120,
                                  spec_height: int = 160, n_fft: int = 256, hop: int = 32) -> Path:
    """clips: list of (title, samples in [-1, 1]); one column per clip."""
    pad, title_h = 8, 14
    W = len(clips) * (width + pad) + pad
    H = title_h + wave_height + pad + spec_height + pad
    canvas = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(canvas)
    for i, (title, x) in enumerate(clips):
        x0 = pad + i * (width + pad)
        d.text((x0, 1), f"{title} ({len(x)} samples)", fill="black")
        canvas.paste(_waveform_image(x, width, wave_height), (x0, title_h))
        canvas.paste(_spectrogram_image(x, width, spec_height, n_fft, hop), (x0, title_h + wave_height + pad))
    path = Path(path)
    canvas.save(path)
    return path
