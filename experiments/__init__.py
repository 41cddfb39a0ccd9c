"""Experiment and benchmark scripts (``python -m experiments.<name>``).

Importing the package tunes the host allocator for XLA:CPU
(:func:`jax_ar.host.keep_freed_memory`; ``JAX_AR_MALLOC=system`` opts out).
"""
from jax_ar import host as _host

_host.keep_freed_memory()
