"""Data: readers for the real data sets and synthetic sources with known entropy."""
from jax_ar.data.files import resolve_data_dir  # noqa: F401
