"""Timing helpers for benchmark scripts (printed figures, never timed tests)."""
from __future__ import annotations

import platform
import time

import jax
import jax.numpy as jnp


def timed(fn, repeats: int = 5, warm=None) -> float:
    """Best wall time (s) of ``fn()`` over ``repeats`` calls after one warm-up call.

    ``fn`` must block on its result (``.block_until_ready()``); ``warm``, if
    given, is a cheaper call of the same compiled shapes used for the warm-up.
    """
    (warm or fn)()
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def matmul_ceiling(n: int = 2048, repeats: int = 5, dtype=jnp.float32) -> float:
    """Best achieved GFLOP/s of a jitted n x n x n matmul on the default device."""
    a = jax.random.normal(jax.random.PRNGKey(0), (n, n), dtype)
    f = jax.jit(lambda a, b: a @ b)
    return 2 * n ** 3 / timed(lambda: f(a, a).block_until_ready(), repeats) / 1e9


def machine() -> str:
    d = jax.devices()[0]
    import os
    return f"{d.platform}:{getattr(d, 'device_kind', '')} ({os.cpu_count()} cores, {platform.machine()})"
