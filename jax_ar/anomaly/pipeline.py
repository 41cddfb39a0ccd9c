"""The anomaly-detection study as library calls: anomaly sets, AUROC tables, markdown.

Used by ``experiments/anomaly.py``; each function is small and testable.
"""
from __future__ import annotations

import numpy as np

from jax_ar.anomaly import perturb
from jax_ar.anomaly.auroc import auroc
from jax_ar.anomaly.scores import SCORES, all_scores


def image_anomalies(x_test_NxD, shape_HW, *, density: float, shift_px: int, random_flips: int,
                    seed: int = 0) -> dict[str, np.ndarray]:
    """Non-adversarial anomaly sets derived from (or sized like) the test images."""
    n, D = x_test_NxD.shape
    s = max(1, min(shift_px, min(shape_HW) - 1))
    return {
        "bernoulli_noise": perturb.bernoulli_noise(n, D, density, seed=seed),
        "hflip": perturb.hflip(x_test_NxD, shape_HW),
        "vflip": perturb.vflip(x_test_NxD, shape_HW),
        "invert": perturb.invert(x_test_NxD),
        f"shift_{s}px": perturb.shift(x_test_NxD, shape_HW, s, s),
        "shrink_half": perturb.shrink(x_test_NxD, shape_HW, 2),
        f"random_{random_flips}_flips": perturb.flip_random_pixels(x_test_NxD, random_flips, seed=seed + 1),
    }


def score_sets(nll_fn, bg_nll_fn, sets: dict[str, np.ndarray], reference_nll) -> dict[str, dict]:
    """{set name: {score name: scores}} for every set, computed from model and background NLLs."""
    out = {}
    for name, x in sets.items():
        out[name] = all_scores(nll_fn(x), bg_nll_fn(x), reference_nll, x)
        out[name]["model_nll"] = out[name]["nll"]
        out[name]["on_fraction"] = np.asarray(x, np.float64).mean(1)
    return out


def auroc_table(scored: dict[str, dict], normal: str = "test") -> dict[str, dict[str, float]]:
    """{anomaly set: {score: AUROC of that set against the normal set}}."""
    base = scored[normal]
    return {name: {s: auroc(base[s], sc[s]) for s in SCORES}
            for name, sc in scored.items() if name != normal}


def markdown_table(table: dict[str, dict[str, float]], scored: dict[str, dict], normal: str = "test") -> str:
    """A README-ready table: AUROC per anomaly type and score, with mean NLL and on-pixel fraction."""
    head = ("| anomaly type | mean NLL (nats) | on pixels | AUROC raw NLL | AUROC likelihood ratio "
            "| AUROC typicality | AUROC input complexity |\n|---|---|---|---|---|---|---|\n")
    b = scored[normal]
    rows = [f"| {normal} (normal) | {b['model_nll'].mean():.1f} | {b['on_fraction'].mean():.3f} | - | - | - | - |"]
    for name, t in table.items():
        sc = scored[name]
        rows.append(f"| {name} | {sc['model_nll'].mean():.1f} | {sc['on_fraction'].mean():.3f} | "
                    f"{t['nll']:.3f} | {t['likelihood_ratio']:.3f} | {t['typicality']:.3f} | {t['complexity']:.3f} |")
    return head + "\n".join(rows) + "\n"


def subsample(x_NxD, num: int, seed: int = 0) -> np.ndarray:
    """``num`` rows drawn without replacement (in file order), or all rows when ``num`` >= N.

    The binarized MNIST test file is sorted by digit, so its first rows are all zeros: never take a prefix.
    """
    x = np.asarray(x_NxD)
    if num >= x.shape[0]:
        return x
    idx = np.sort(np.random.default_rng(seed).choice(x.shape[0], num, replace=False))
    return x[idx]
