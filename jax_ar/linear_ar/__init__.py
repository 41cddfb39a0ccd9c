"""Linear Gaussian autoregression AR(p): closed-form and gradient-descent fits,
likelihood, simulation and forecasting (the classical baseline of the library).

The contract model wrapping a fitted AR(p) is :mod:`jax_ar.models.ar_linear`.
"""
from jax_ar.linear_ar.fit import ARFit, fit, fit_ar1_lecture, fit_pooled, log_likelihood, log_likelihood_pooled  # noqa: F401
