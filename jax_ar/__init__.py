"""jax_ar: autoregressive generative models in functional JAX."""
__version__ = "0.1.0"
