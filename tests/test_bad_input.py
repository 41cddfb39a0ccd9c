"""Bad input gives a clear error naming the problem (foundation cases)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jax_ar import errors, evaluate
from jax_ar.errors import ShapeError, ValueRangeError
from jax_ar.models import registry


@pytest.fixture(scope="module")
def fvsbn():
    m = registry.build("fvsbn", seq_len=6)
    return m, m.init(jax.random.PRNGKey(0))


def test_wrong_image_shape(fvsbn):
    m, p = fvsbn
    with pytest.raises(ShapeError, match=r"sequence length 784 but this model is built for length 6"):
        m.log_prob(p, np.zeros((2, 784), np.int32))
    with pytest.raises(ShapeError, match=r"must have shape \[batch, 6\]"):
        m.log_prob(p, np.zeros((2, 2, 3), np.int32))


def test_wrong_dtype(fvsbn):
    m, p = fvsbn
    with pytest.raises(ShapeError, match="dtype <U1"):
        evaluate.log_prob_batched(m, p, np.array([list("010101")]))


def test_non_binary_values(fvsbn):
    m, p = fvsbn
    with pytest.raises(ValueRangeError, match=r"value 2 but a Bernoulli \(binary\) model accepts only 0 and 1"):
        m.log_prob(p, np.array([[0, 1, 2, 0, 1, 0]]))
    with pytest.raises(ValueRangeError, match="non-integer"):
        m.log_prob(p, np.array([[0, 1, 0.5, 0, 1, 0]]))


def test_nan_inputs(fvsbn):
    m, p = fvsbn
    with pytest.raises(ValueRangeError, match="NaN"):
        m.log_prob(p, np.array([[0, 1, np.nan, 0, 1, 0]]))
    with pytest.raises(ValueRangeError, match="1 NaN/Inf"):
        errors.check_sequences(np.array([[0.1, np.inf]]), seq_len=2, kind="continuous")


def test_token_ids_outside_vocabulary():
    with pytest.raises(ValueRangeError, match=r"token id 7 outside the vocabulary \[0, 4\]"):
        errors.check_sequences(np.array([[0, 7, 1]]), seq_len=3, kind="categorical", vocab_size=5)
    with pytest.raises(ValueRangeError, match=r"token id -1"):
        errors.check_sequences(np.array([[0, -1, 1]]), seq_len=3, kind="categorical", vocab_size=5)


def test_labels_for_conditional_models():
    with pytest.raises(ValueRangeError, match=r"label 10 is outside the range \[0, 9\]"):
        errors.check_labels(np.array([1, 10]), num_classes=10)
    with pytest.raises(ValueRangeError, match="conditional on 10 classes"):
        errors.check_labels(None, num_classes=10)
    with pytest.raises(ValueRangeError, match="unconditional"):
        errors.check_labels(np.array([1]), num_classes=0)


def test_checks_are_skipped_under_jit(fvsbn):
    m, p = fvsbn
    lp = jax.jit(m.log_prob)(p, jnp.zeros((2, 6), jnp.int32))
    assert lp.shape == (2,)
