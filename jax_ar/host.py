"""Host-side runtime tuning: keep freed memory in the process (glibc malloc).

XLA:CPU allocates the temporary buffers of every executed program afresh.
With glibc's defaults, buffers above the (adaptive) mmap threshold are
``mmap``-ed and the top of the heap is trimmed back to the OS, so every
training step pays page faults to touch "new" memory again.  On the nanoGPT
CPU configuration that is about a quarter of a training step on a 2-core
machine (BENCHMARKS.md).  :func:`keep_freed_memory` asks malloc to serve such
buffers from the heap and to keep freed memory for reuse: the effect of
``MALLOC_MMAP_THRESHOLD_`` / ``MALLOC_TRIM_THRESHOLD_``, set from inside the
process with ``mallopt``.  The price is a resident size that does not shrink
after a peak.

It runs on start in every command-line entry point: the experiment and
benchmark scripts (``experiments/__init__.py``) and whatever runs through
:func:`jax_ar.experiment.cli` (``python -m jax_ar.eval``, ``jax_ar.sample``).  Set
``JAX_AR_MALLOC=system`` to keep the C library's defaults.  A no-op where the
C library is not glibc (macOS, musl, Windows).

Programs whose XLA temporary buffer exceeds 64 MB (ImageGPT's 784-position
attention: 1-2 GB per step) still get fresh pages every step: XLA:CPU
allocates that buffer on a worker thread, and glibc serves a worker thread's
allocations from a per-thread arena made of 64 MB heaps, which maps anything
larger directly.  :func:`one_arena` (called by such scripts before their first
computation; :func:`one_arena_if_over_thread_heap` decides by size, as NADE
does) makes every thread allocate from the main heap, never maps and never
trims: ImageGPT's CPU training step is ~1.6x faster (BENCHMARKS.md).  It
is not the default because one shared arena costs small programs (the nanoGPT
step) ~10% in lock contention.  ``JAX_AR_MALLOC=system`` opts out of it too.
"""
from __future__ import annotations

import ctypes
import os
import sys

# mallopt parameter numbers from glibc's <malloc.h>
M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3
M_MMAP_MAX = -4
M_ARENA_MAX = -8

MMAP_THRESHOLD_BYTES = 256 << 20    # allocations below this come from the heap, not fresh mmaps
TRIM_THRESHOLD_BYTES = 1 << 30      # free heap top kept before giving memory back
TOP_PAD_BYTES = 64 << 20            # extra heap grown per request
PER_THREAD_HEAP_BYTES = 64 << 20    # glibc's per-thread arena heap (64-bit): larger requests there are mmap-ed

ENV = "JAX_AR_MALLOC"
_state = {"applied": None, "one_arena": None}


def _glibc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)                     # the running process: its C library's symbols
        libc.gnu_get_libc_version                    # glibc only
        return libc
    except (OSError, AttributeError):
        return None


def _mallopt_once(key: str, settings) -> bool:
    """Apply ``(parameter, value)`` pairs with mallopt once per process; the outcome is cached under ``key``."""
    if _state[key] is not None:
        return _state[key]
    ok = False
    if os.environ.get(ENV, "").lower() != "system":
        libc = _glibc()
        if libc is not None:
            ok = all(libc.mallopt(p, v) == 1 for p, v in settings)
    _state[key] = ok
    return ok


def keep_freed_memory() -> bool:
    """Tune glibc malloc for XLA:CPU's allocate-per-step pattern (once per process).

    Returns True when the settings were applied, False when opted out
    (``JAX_AR_MALLOC=system``) or not on glibc.
    """
    return _mallopt_once("applied", ((M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES),
                                     (M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES),
                                     (M_TOP_PAD, TOP_PAD_BYTES)))


def one_arena() -> bool:
    """One malloc arena for all threads, no mmap, no trimming (once per process; glibc only).

    For programs with temporary buffers above 64 MB.  Effective for threads
    that have not allocated yet, so call it before the first JAX computation.
    The resident size then stays at its peak.  Returns True when applied.
    """
    # M_TRIM_THRESHOLD -1 is SIZE_MAX in glibc: never give the heap top back
    return _mallopt_once("one_arena", ((M_ARENA_MAX, 1), (M_MMAP_MAX, 0), (M_TRIM_THRESHOLD, -1)))


def one_arena_if_over_thread_heap(buffer_bytes: int) -> bool:
    """:func:`one_arena` when a program's temporary buffer (``buffer_bytes``) exceeds a worker thread's heap.

    Below that size the per-thread arenas serve it without fresh pages and one shared arena would only add
    lock contention.  Returns True when the settings are in effect.
    """
    return buffer_bytes > PER_THREAD_HEAP_BYTES and one_arena()
