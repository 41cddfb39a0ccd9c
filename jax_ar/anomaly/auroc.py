"""Area under the ROC curve for anomaly scores (higher score = more anomalous)."""
from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from jax_ar.errors import ShapeError, ValueRangeError


def auroc(scores_in, scores_out) -> float:
    """P(score_out > score_in) + 0.5 P(score_out == score_in) (Mann-Whitney U / (n_in n_out)).

    ``scores_in``: scores of normal examples; ``scores_out``: scores of anomalies.
    1.0 = anomalies always score higher, 0.5 = chance, 0.0 = always lower
    (the detector is reliably *backwards*).
    """
    a = np.asarray(scores_in, np.float64)
    b = np.asarray(scores_out, np.float64)
    for name, s in (("scores_in", a), ("scores_out", b)):
        if s.ndim != 1 or s.size == 0:
            raise ShapeError(f"{name} must be a non-empty 1-D array, got shape {s.shape}")
        if not np.all(np.isfinite(s)):
            raise ValueRangeError(f"{name} holds {int(np.sum(~np.isfinite(s)))} NaN/Inf value(s)")
    ranks = rankdata(np.concatenate([a, b]))           # average ranks for ties
    u = ranks[a.size:].sum() - b.size * (b.size + 1) / 2.0
    return float(u / (a.size * b.size))
