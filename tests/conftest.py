import atexit
import os
import shutil
import tempfile

os.environ.setdefault("JAX_PLATFORMS", "cpu")
# Most of the suite's time is XLA compiling small programs.  Two settings halve
# it (10.1 -> 6.0 min on the 2-core CPU, BENCHMARKS.md):
# * LLVM optimisation off: compiles ~2x faster.  The code computes the same
#   functions; results may differ from an optimised build in float32 rounding
#   (e.g. fused multiply-adds), which every tolerance here allows.  Running with
#   XLA_FLAGS set (even to "") keeps the caller's flags: `XLA_FLAGS= python -m
#   pytest` runs the suite on XLA's default, optimised build.
# * One persistent compilation cache per test session, shared through the
#   environment by both xdist workers and the experiment subprocesses that some
#   tests start, and removed at the end: a program compiled once is not compiled
#   again by another process.
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=true --xla_backend_optimization_level=0")
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    _cache = tempfile.mkdtemp(prefix="jax_ar_tests_xla_cache_")
    os.environ["JAX_COMPILATION_CACHE_DIR"] = _cache
    os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
    os.environ["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "0"
    atexit.register(shutil.rmtree, _cache, ignore_errors=True)

import jax  # noqa: E402

jax.config.update("jax_default_matmul_precision", "highest")
