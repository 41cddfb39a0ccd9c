"""Model families.  Each file registers its models in :mod:`jax_ar.models.registry`;
``registry.names()`` imports every module here, so adding a file is all it takes."""
from jax_ar.models.registry import build, build_tiny, entry, names, register  # noqa: F401
