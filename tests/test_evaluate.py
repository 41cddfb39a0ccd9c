"""The one-call chunked evaluator agrees with the one-pass log_prob (padding, conditioning)."""
import jax
import numpy as np
import pytest

from jax_ar import errors, evaluate
from jax_ar.models import registry


@pytest.mark.parametrize("name,chunk", [("fvsbn", 4), ("fvsbn", 7), ("gated_pixelcnn_conditional", 3)])
def test_log_prob_all_matches_one_pass(name, chunk):
    model = registry.build_tiny(name)
    params = model.init(jax.random.PRNGKey(0))
    params = jax.tree_util.tree_map(lambda a: a + 0.1 * jax.random.normal(jax.random.PRNGKey(1), a.shape), params)
    x = np.asarray(jax.random.bernoulli(jax.random.PRNGKey(2), 0.5, (10, model.seq_len)), np.int32)
    cond = np.arange(10) % model.num_classes if getattr(model, "num_classes", None) else None
    want = np.asarray(model.log_prob(params, x, cond))
    got = np.asarray(evaluate.log_prob_all(model, params, x, cond, chunk=chunk))
    assert got.shape == (10,)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_log_prob_all_checks_input():
    model = registry.build_tiny("fvsbn")
    params = model.init(jax.random.PRNGKey(0))
    with pytest.raises(errors.ValueRangeError):
        evaluate.log_prob_all(model, params, np.full((3, model.seq_len), 2))
