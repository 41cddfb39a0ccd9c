"""The scan sampler driven by a stub model whose output sequence is known exactly."""
import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jax_ar import distributions, sampling
from jax_ar.contract import ARModelBase
from jax_ar.errors import ConfigError, ShapeError


@dataclasses.dataclass(frozen=True, eq=False)
class CounterStub(ARModelBase):
    """Puts (almost) all mass on x_t = (x_{t-1} + 1) mod V, and on `start` at t = 0."""
    seq_len: int = 7
    vocab: int = 5
    start: int = 2
    dist: object = distributions.Categorical(5)
    num_classes: int = 0

    def init(self, key):
        return {}

    def _logits(self, nxt):
        return 50.0 * jax.nn.one_hot(nxt, self.vocab) - 25.0

    def outputs(self, params, x, cond=None):
        prev = jnp.concatenate([jnp.full_like(x[:, :1], self.start - 1), x[:, :-1]], 1)
        return self._logits((prev + 1) % self.vocab)

    def init_cache(self, params, batch_size, cond=None):
        return {"t": jnp.zeros((), jnp.int32), "b": jnp.zeros((batch_size,), jnp.int32)}

    def step(self, params, cache, x_prev):
        nxt = jnp.where(cache["t"] == 0, self.start, (x_prev + 1) % self.vocab)
        return self._logits(nxt), {"t": cache["t"] + 1, "b": cache["b"]}


def test_stub_drives_sampler_to_exact_sequence():
    m = CounterStub()
    x, lp = sampling.sample(m, {}, jax.random.PRNGKey(0), 3)
    np.testing.assert_array_equal(np.asarray(x), np.tile([2, 3, 4, 0, 1, 2, 3], (3, 1)))
    assert np.all(np.asarray(lp) > -1e-6 * 7 - 1e-3)


def test_prompt_is_teacher_forced_then_generation_continues():
    m = CounterStub()
    prompt = jnp.array([[4, 4], [0, 1]])
    x, _ = sampling.sample(m, {}, jax.random.PRNGKey(0), 2, prompt=prompt)
    np.testing.assert_array_equal(np.asarray(x), [[4, 4, 0, 1, 2, 3, 4], [0, 1, 2, 3, 4, 0, 1]])


def test_custom_pick_and_num_steps():
    m = CounterStub()
    greedy = lambda key, logits: jnp.argmax(logits, -1)
    x, _ = sampling.sample(m, {}, jax.random.PRNGKey(0), 1, num_steps=3, pick=greedy)
    np.testing.assert_array_equal(np.asarray(x), [[2, 3, 4]])


def test_sampler_bad_arguments():
    m = CounterStub()
    with pytest.raises(ConfigError, match="batch_size"):
        sampling.sample(m, {}, jax.random.PRNGKey(0), 0)
    with pytest.raises(ShapeError, match="prompt"):
        sampling.sample(m, {}, jax.random.PRNGKey(0), 2, prompt=jnp.zeros((3, 2), jnp.int32))
    with pytest.raises(ShapeError, match="exceeds"):
        sampling.sample(m, {}, jax.random.PRNGKey(0), 1, prompt=jnp.zeros((1, 9), jnp.int32))


def test_generation_past_the_cache_is_an_error():
    from jax_ar.models import registry
    m = registry.build_tiny("transformer_prenorm")
    p = m.init(jax.random.PRNGKey(0))
    with pytest.raises(ConfigError, match="exceeds what this model's cache holds"):
        sampling.sample(m, p, jax.random.PRNGKey(0), 1, num_steps=m.seq_len + 1)
