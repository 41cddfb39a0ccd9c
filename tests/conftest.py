import atexit
import os
import shutil
import subprocess
import sys
import tempfile

os.environ.setdefault("JAX_PLATFORMS", "cpu")
# Most of the suite's time is XLA compiling small programs.  Three settings cut
# it to well under half (BENCHMARKS.md, "Test suite"):
# * LLVM optimisation off: compiles ~2x faster.
# * XLA:CPU's older elemental emitters for fusions instead of the newer MLIR
#   fusion emitters (`--xla_cpu_use_fusion_emitters=false`): compiles ~1.6x
#   faster again (8 min 26 s -> 5 min 57 s for the whole suite on one host).
#   Both settings give the same functions; results may differ from XLA's
#   default build in float32 rounding (e.g. fused multiply-adds; 21 tiny
#   models: log-likelihoods within 5e-7, gradients within 3e-7 relative),
#   which every tolerance here allows.  Running with XLA_FLAGS set (even to "")
#   keeps the caller's flags: `XLA_FLAGS= python -m pytest` runs the suite on
#   XLA's default, optimised build.
# * One persistent compilation cache per test session, shared through the
#   environment by both xdist workers and the experiment subprocesses that some
#   tests start, and removed at the end: a program compiled once is not compiled
#   again by another process.


def _xla_accepts(flags: str) -> bool:
    """Whether this jaxlib knows ``flags`` (XLA aborts the process on an unknown flag)."""
    env = dict(os.environ, XLA_FLAGS=flags, JAX_PLATFORMS="cpu")
    try:
        probe = subprocess.run([sys.executable, "-c", "import jax; jax.devices()"], env=env,
                               capture_output=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


if "XLA_FLAGS" not in os.environ:      # the controller sets it once; xdist workers inherit it
    _flags = "--xla_cpu_multi_thread_eigen=true --xla_backend_optimization_level=0"
    _older_emitters = _flags + " --xla_cpu_use_fusion_emitters=false"   # not in every jaxlib
    os.environ["XLA_FLAGS"] = _older_emitters if _xla_accepts(_older_emitters) else _flags
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    _cache = tempfile.mkdtemp(prefix="jax_ar_tests_xla_cache_")
    os.environ["JAX_COMPILATION_CACHE_DIR"] = _cache
    os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
    os.environ["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "0"
    atexit.register(shutil.rmtree, _cache, ignore_errors=True)

import jax  # noqa: E402

jax.config.update("jax_default_matmul_precision", "highest")
