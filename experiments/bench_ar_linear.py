"""Side-by-side benchmark: batched closed-form AR(p) fit vs looped statsmodels AutoReg.

Fits AR(1) and AR(5) with intercept to 1,000 independent series of length
1,000 (simulated stationary AR processes).  Ours: ONE call of
``jax_ar.linear_ar.fit(x_BxT, p)`` (vmap over series, float64); compile time
is reported separately and excluded from the timed repeats.  statsmodels:
``AutoReg(x_i, p, trend='c').fit()`` in a Python loop.  Also checks that the
coefficients agree (max relative difference) and prints the speed-up.

    python experiments/bench_ar_linear.py [--series 1000] [--length 1000] [--orders 1 5] [--repeats 5]

statsmodels is a peer, not a dependency: without it only our figures print.
"""
from __future__ import annotations

import argparse
import time

import jax
import numpy as np

from experiments import check_args
from jax_ar import linear_ar
from jax_ar.linear_ar.forecast import simulate
from jax_ar.experiment import cli

PHI = {1: [0.6], 2: [0.5, -0.3], 5: [0.4, -0.2, 0.1, 0.15, -0.1]}


def _best(fn, repeats):
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--series", type=int, default=1000)
    ap.add_argument("--length", type=int, default=1000)
    ap.add_argument("--orders", type=int, nargs="+", default=[1, 5])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--sm_repeats", type=int, default=2)
    args = ap.parse_args(argv)
    check_args(args, "series length orders repeats sm_repeats")
    try:
        from statsmodels.tsa.ar_model import AutoReg
        import statsmodels
        sm_version = statsmodels.__version__
    except ImportError:
        AutoReg, sm_version = None, None
    print(f"jax {jax.__version__} ({jax.default_backend()}), statsmodels {sm_version}; "
          f"{args.series} series x {args.length} points")
    print(f"{'order':>5} | {'ours compile s':>14} | {'ours s':>9} | {'ours ms/series':>14} | "
          f"{'statsmodels s':>13} | {'sm ms/series':>12} | {'speed-up':>8} | {'max rel diff':>12}")
    for p in args.orders:
        phi = PHI.get(p, [0.5 / p] * p)
        true = linear_ar.ARFit(np.array(1.0), np.asarray(phi, float), np.array(1.0), None, None)
        x = simulate(true, jax.random.PRNGKey(p), args.series, args.length).astype(np.float64)
        t0 = time.perf_counter()
        linear_ar.fit(x, p)
        compile_s = time.perf_counter() - t0
        ours_s, ours = _best(lambda: linear_ar.fit(x, p), args.repeats)
        if AutoReg is not None:
            sm_s, sm = _best(lambda: np.stack([AutoReg(s, p, trend="c").fit().params for s in x]),
                             args.sm_repeats)
            diff = float(np.max(np.abs(np.c_[ours.c, ours.phi] - sm) / np.abs(sm)))
            sm_cols = f"{sm_s:13.3f} | {1e3 * sm_s / args.series:12.3f} | {sm_s / ours_s:7.0f}x | {diff:12.2e}"
        else:
            sm_cols = f"{'-':>13} | {'-':>12} | {'-':>8} | {'-':>12}"
        print(f"{p:5d} | {compile_s:14.3f} | {ours_s:9.4f} | {1e3 * ours_s / args.series:14.4f} | " + sm_cols,
              flush=True)


if __name__ == "__main__":
    cli(main)
