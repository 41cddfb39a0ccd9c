import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jax_ar.data import synthetic
from jax_ar.data.batching import ArrayData, WindowData
from jax_ar.errors import CheckpointError, ConfigError
from jax_ar.models import registry
from jax_ar.train import TrainConfig, TrainingDivergedError, fit

X = synthetic.bars_and_stripes_dataset(3, 512)
CFG = TrainConfig(steps=20, batch_size=32, lr=0.05, eval_every=10, ckpt_every=5, log_every=5)


def _model():
    return registry.build("fvsbn", seq_len=9)


def test_resume_is_bitwise_identical(tmp_path):
    m = _model()
    full = fit(m, CFG, ArrayData(X), X[:64], workdir=tmp_path / "a", progress=False)
    fit(m, TrainConfig(**{**CFG.__dict__, "steps": 12}), ArrayData(X), X[:64], workdir=tmp_path / "b",
        progress=False)
    resumed = fit(m, CFG, ArrayData(X), X[:64], workdir=tmp_path / "b", resume=True, progress=False)
    assert resumed.steps == 20
    for a, b in zip(jax.tree_util.tree_leaves(full.params), jax.tree_util.tree_leaves(resumed.params)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_existing_checkpoints_need_resume(tmp_path):
    m = _model()
    fit(m, CFG, ArrayData(X), X[:64], workdir=tmp_path, progress=False)
    with pytest.raises(CheckpointError, match="already holds checkpoints.*--resume"):
        fit(m, CFG, ArrayData(X), X[:64], workdir=tmp_path, progress=False)


def test_nan_guard_stops_with_step_and_keeps_last_good_checkpoint(tmp_path):
    m = _model()

    def loss_fn(params, x, cond, key):  # turns NaN once the biases have moved far enough
        base = -jnp.mean(m.log_prob(params, x, cond))
        return jnp.where(jnp.abs(params["b"]).sum() > 0.5, jnp.nan, base)

    with pytest.raises(TrainingDivergedError,
                       match=r"non-finite loss/gradient at step (\d+).*last good checkpoint \(step \1\)"):
        fit(m, TrainConfig(steps=50, batch_size=32, lr=0.05, ckpt_every=1, eval_every=100),
            ArrayData(X), None, workdir=tmp_path, loss_fn=loss_fn, progress=False)
    assert sorted(int(p.name) for p in (tmp_path / "ckpt").iterdir() if p.name.isdigit())


def test_batches_are_a_function_of_the_step():
    d = ArrayData(X)
    a, _ = d.batch(17, 32, seed=3)
    b, _ = d.batch(17, 32, seed=3)
    np.testing.assert_array_equal(a, b)
    w = WindowData(np.arange(100), 10)
    np.testing.assert_array_equal(w.batch(5, 4, 0)[0], w.batch(5, 4, 0)[0])
    with pytest.raises(ConfigError, match="exceeds the 512 training examples"):
        d.batch(0, 1000, 0)
    with pytest.raises(ConfigError, match="window 200"):
        WindowData(np.arange(100), 200)


def test_bfloat16_compute_trains(tmp_path):
    cfg = TrainConfig(steps=10, batch_size=32, lr=0.05, eval_every=10, compute_dtype="bfloat16")
    r = fit(_model(), cfg, ArrayData(X), X[:64], progress=False)
    assert np.isfinite(r.best_valid_nll)
    assert jax.tree_util.tree_leaves(r.params)[0].dtype == jnp.float32


def test_adamw_decay_matrices_leaves_vectors_alone():
    import optax
    from jax_ar.optim import make_optimizer
    params = {"w": jnp.ones((3, 2)), "scale": jnp.ones((2,))}
    zero = jax.tree_util.tree_map(jnp.zeros_like, params)
    for decay, scale_moves in (("all", True), ("matrices", False)):
        opt, _ = make_optimizer(TrainConfig(optimizer="adamw", lr=0.1, weight_decay=0.5, decay=decay))
        upd, _ = opt.update(zero, opt.init(params), params)
        new = optax.apply_updates(params, upd)
        assert bool(jnp.all(new["w"] < 1.0))
        assert bool(jnp.any(new["scale"] != 1.0)) == scale_moves


def test_unknown_decay_rule_is_a_config_error():
    with pytest.raises(ConfigError, match="decay"):
        TrainConfig(decay="biases").validate()
