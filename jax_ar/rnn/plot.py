"""Minimal PNG plots with Pillow (matplotlib is not a dependency): lines, scatter, heatmap rows."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

COLORS = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (255, 127, 14), (148, 103, 189),
          (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207), (0, 0, 0)]


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    a = abs(v)
    return f"{v:.0e}" if a >= 1e4 or a < 1e-2 else f"{v:.3g}"


def line_plot(series: dict, path, *, title: str = "", xlabel: str = "", ylabel: str = "",
              log_y: bool = False, size=(720, 480)) -> Path:
    """``series``: name -> (xs, ys).  With ``log_y`` the axis is log10 (non-positive values dropped)."""
    W, H = size
    L, R, T, B = 80, 170, 40, 50
    img = Image.new("RGB", size, "white")
    d = ImageDraw.Draw(img)
    pts = {}
    for name, (xs, ys) in series.items():
        xs, ys = np.asarray(xs, np.float64), np.asarray(ys, np.float64)
        ok = np.isfinite(ys) & (ys > 0 if log_y else True)
        pts[name] = (xs[ok], np.log10(ys[ok]) if log_y else ys[ok])
    allx = np.concatenate([p[0] for p in pts.values()] or [np.zeros(1)])
    ally = np.concatenate([p[1] for p in pts.values()] or [np.zeros(1)])
    if allx.size == 0:
        allx, ally = np.zeros(1), np.zeros(1)
    x0, x1 = float(allx.min()), float(allx.max())
    y0, y1 = float(ally.min()), float(ally.max())
    x1, y1 = (x1 if x1 > x0 else x0 + 1), (y1 if y1 > y0 else y0 + 1)
    sx = lambda x: L + (x - x0) / (x1 - x0) * (W - L - R)
    sy = lambda y: H - B - (y - y0) / (y1 - y0) * (H - T - B)
    d.rectangle([L, T, W - R, H - B], outline="black")
    for i in range(5):
        yv = y0 + (y1 - y0) * i / 4
        xv = x0 + (x1 - x0) * i / 4
        d.text((4, sy(yv) - 6), _fmt(10 ** yv if log_y else yv), fill="black")
        d.line([L - 4, sy(yv), L, sy(yv)], fill="black")
        d.text((sx(xv) - 12, H - B + 6), _fmt(xv), fill="black")
        d.line([sx(xv), H - B, sx(xv), H - B + 4], fill="black")
    d.text((L, 10), title, fill="black")
    d.text(((W - R) // 2, H - 20), xlabel, fill="black")
    d.text((4, T - 22), ylabel + (" (log scale)" if log_y else ""), fill="black")
    for k, (name, (xs, ys)) in enumerate(pts.items()):
        c = COLORS[k % len(COLORS)]
        xy = [(sx(x), sy(y)) for x, y in zip(xs, ys)]
        if len(xy) > 1:
            d.line(xy, fill=c, width=2)
        elif xy:
            d.ellipse([xy[0][0] - 2, xy[0][1] - 2, xy[0][0] + 2, xy[0][1] + 2], fill=c)
        d.line([W - R + 10, T + 15 + 18 * k, W - R + 30, T + 15 + 18 * k], fill=c, width=3)
        d.text((W - R + 35, T + 9 + 18 * k), str(name), fill="black")
    path = Path(path)
    img.save(path)
    return path


def scatter(xy_Nx2, labels_N, path, *, title: str = "", names=None, size=(560, 480)) -> Path:
    """2-D scatter, one colour per integer label."""
    W, H = size
    M = 40
    xy = np.asarray(xy_Nx2, np.float64)
    lab = np.asarray(labels_N, int)
    lo, hi = xy.min(0), xy.max(0)
    span = np.where(hi > lo, hi - lo, 1.0)
    p = M + (xy - lo) / span * (np.array([W, H]) - 2 * M - np.array([120, 0]))
    img = Image.new("RGB", size, "white")
    d = ImageDraw.Draw(img)
    d.text((M, 10), title, fill="black")
    for (x, y), l in zip(p, lab):
        c = COLORS[l % len(COLORS)]
        d.ellipse([x - 3, H - y - 3, x + 3, H - y + 3], outline=c)
    for k, l in enumerate(sorted(set(lab.tolist()))):
        c = COLORS[l % len(COLORS)]
        d.ellipse([W - 150, 40 + 18 * k, W - 142, 48 + 18 * k], fill=c)
        d.text((W - 136, 38 + 18 * k), str(names[l] if names else l), fill="black")
    path = Path(path)
    img.save(path)
    return path


def heatmap_rows(rows: dict, path, *, cell=(8, 14), title: str = "") -> Path:
    """Stack named rows of values in [-1, 1] (blue -1, white 0, red +1), one column per time step."""
    names = list(rows)
    T = max(len(np.asarray(v)) for v in rows.values())
    cw, ch = cell
    L, top = 90, 24
    img = Image.new("RGB", (L + cw * T + 10, top + ch * len(names) + 10), "white")
    d = ImageDraw.Draw(img)
    d.text((4, 4), title, fill="black")
    for r, name in enumerate(names):
        y = top + r * ch
        d.text((4, y), str(name)[:13], fill="black")
        for t, v in enumerate(np.asarray(rows[name], np.float64)):
            v = 0.0 if not math.isfinite(v) else max(-1.0, min(1.0, v))
            c = (255, int(255 * (1 - v)), int(255 * (1 - v))) if v >= 0 else \
                (int(255 * (1 + v)), int(255 * (1 + v)), 255)
            d.rectangle([L + t * cw, y, L + (t + 1) * cw - 1, y + ch - 2], fill=c)
    path = Path(path)
    img.save(path)
    return path
