from jax_ar.models import registry
from jax_ar.contract import ARModel


def test_every_model_module_imports():
    registry.names()
    assert not registry.IMPORT_ERRORS, f"model modules failed to import: {registry.IMPORT_ERRORS}"


def test_registry_builds_models_meeting_the_contract():
    for name in registry.names():
        m = registry.build_tiny(name)
        assert isinstance(m, ARModel), name
        assert m.seq_len >= 1


def test_unknown_model_name_lists_registered():
    import pytest
    from jax_ar.errors import ConfigError
    with pytest.raises(ConfigError, match="registered models"):
        registry.entry("no_such_model")
