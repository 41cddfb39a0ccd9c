"""Reusable Flax Linen layers (each with a parallel __call__ and, where it matters, a cached step)."""
