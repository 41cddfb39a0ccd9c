"""MADE: degree masks, per-ordering causality, normalisation of every mask and of the
ensemble, random-mask training loss, and clear errors for bad input."""
import dataclasses
import itertools
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jax_ar import errors, experiment, masks, sampling
from jax_ar.models import made, made_ensemble, registry

D = 5
ALL_X = np.array(list(itertools.product([0, 1], repeat=D)), np.int32)


@dataclasses.dataclass(frozen=True)
class _Cfg:
    steps: int = 1


def _noisy(params, seed=1, scale=0.7):
    leaves, tree = jax.tree_util.tree_flatten(params)
    keys = jax.random.split(jax.random.PRNGKey(seed), len(leaves))
    return jax.tree_util.tree_unflatten(tree, [a + scale * jax.random.normal(k, a.shape) for a, k in zip(leaves, keys)])


@pytest.fixture(scope="module")
def pool():
    model = made.build(seq_len=D, hidden_sizes=(6, 6), num_masks=4, order_agnostic=True,
                       connectivity_agnostic=True, direct=True, mask_seed=3)
    return model, _noisy(model.init(jax.random.PRNGKey(0)))


def test_degree_masks_follow_the_paper_rule():
    degs = masks.made_degrees(np.arange(3), (4,))
    assert [d.tolist() for d in degs] == [[1, 2, 3], [1, 2, 1, 2]]
    # a layer narrower than the degree range still spans all of it (else the last elements see nothing)
    assert masks.made_degrees(np.arange(7), (3,))[1].tolist() == [1, 4, 6]
    wide = masks.made_degrees(np.arange(784), (500, 500))
    assert all(m.min() == 1 and m.max() == 783 for m in wide[1:])
    m_in, m_h = degs
    np.testing.assert_array_equal(masks.made_degree_mask(m_in, m_h, strict=False), masks.made_hidden_mask(m_in, m_h))
    np.testing.assert_array_equal(masks.made_degree_mask(m_h, m_in, strict=True), masks.made_output_mask(m_h, m_in))
    # deeper layers never go below the previous layer's minimum degree
    rng = np.random.default_rng(0)
    d = masks.made_degrees(np.array([2, 0, 1, 3]), (5, 5), rng=rng)
    assert d[0].tolist() == [2, 3, 1, 4] and d[2].min() >= d[1].min() and d[1].max() <= 3


def test_runs_saved_with_the_old_degree_rule_rebuild_with_it(tmp_path):
    old = masks.made_degrees(np.arange(784), (500,), spread="cyclic")[1]
    assert old.min() == 1 and old.max() == 500          # the pre-fix rule never reached degrees 501..783
    kw = {"seq_len": 784, "hidden_sizes": [500]}
    assert registry.record_kwargs("made", kw)["degree_spread"] == "even"
    assert registry.saved_kwargs("made", kw)["degree_spread"] == "cyclic"      # a run saved without the key
    assert registry.saved_kwargs("made", {**kw, "degree_spread": "even"})["degree_spread"] == "even"
    legacy = registry.build("made", **registry.saved_kwargs("made", kw))
    np.testing.assert_array_equal(legacy.module.pool()[1][1][0], old)
    # a new run records the rule, so it is rebuilt with it; resuming an old run under the new rule is refused
    run = experiment.start("t", _Cfg, {"quick": _Cfg()}, [f"--workdir={tmp_path / 'run'}"])
    run.describe(model="made", model_kwargs=dict(kw))
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["model_kwargs"]["degree_spread"] == "even"
    del info["model_kwargs"]["degree_spread"]
    (tmp_path / "run" / "run.json").write_text(json.dumps(info))
    with pytest.raises(errors.CheckpointError, match="degree_spread"):
        run.describe(model="made", model_kwargs=dict(kw))
    with pytest.raises(errors.ConfigError, match="degree_spread must be"):
        made.build(seq_len=4, hidden_sizes=(2,), degree_spread="random")


def test_pool_draws_orderings_and_keeps_mask0(pool):
    model, _ = pool
    orders = [tuple(model.with_mask(k).ordering) for k in range(4)]
    assert orders[0] == tuple(range(D))
    assert len(set(orders)) > 1
    for o in orders:
        assert sorted(o) == list(range(D))


@pytest.mark.parametrize("k", range(4))
def test_each_mask_is_causal_in_its_own_order(pool, k):
    model, params = pool
    m = model.with_mask(k)
    order = m.ordering
    x = jnp.asarray(ALL_X[[3, 17, 30]])
    base = np.asarray(m.outputs_image(params, x))
    for s in range(D):  # flip the element generated at step s
        x2 = x.at[:, order[s]].set(1 - x[:, order[s]])
        diff = np.abs(np.asarray(m.outputs_image(params, x2)) - base).max(axis=(0, 2))
        assert np.all(diff[order[:s + 1]] == 0), f"mask {k}: flipping step {s} changed earlier/own outputs"
    # sequence view (the contract) is causal in the plain sense and equals the image view
    np.testing.assert_allclose(np.asarray(m.outputs(params, m.to_sequence(x))), base[:, order], atol=1e-6)
    np.testing.assert_allclose(np.asarray(m.log_prob(params, m.to_sequence(x))),
                               np.asarray(m.log_prob_image(params, x)), atol=1e-5)
    np.testing.assert_array_equal(np.asarray(m.to_image(m.to_sequence(x))), np.asarray(x))


def test_every_mask_and_the_ensemble_normalise(pool):
    model, params = pool
    lp = made_ensemble.per_mask_log_prob(model, params, ALL_X)
    np.testing.assert_allclose(np.exp(lp).sum(axis=1), np.ones(4), atol=1e-5)
    ens = made_ensemble.ensemble_log_prob(model, params, ALL_X)
    assert abs(np.exp(ens).sum() - 1.0) < 1e-5
    np.testing.assert_allclose(ens, np.log(np.exp(lp).mean(axis=0)), atol=1e-9)
    summ = made_ensemble.ensemble_summary(lp)
    assert set(summ["ensemble_nll"]) == {1, 2, 4}
    assert summ["ensemble_nll"][1] == pytest.approx(summ["mask0_nll"])


def test_random_mask_loss_uses_different_masks(pool):
    model, params = pool
    loss = jax.jit(made_ensemble.mask_sampling_loss(model))
    x = jnp.asarray(ALL_X)
    vals = [float(loss(params, x, None, jax.random.PRNGKey(i))) for i in range(12)]
    per_mask = -made_ensemble.per_mask_log_prob(model, params, ALL_X).mean(axis=1) / D
    assert all(np.min(np.abs(per_mask - v)) < 1e-5 for v in vals)  # each step uses one whole mask
    assert len({int(np.argmin(np.abs(per_mask - v))) for v in vals}) > 1


def test_sampling_a_non_identity_mask_gives_images(pool):
    model, params = pool
    k = next(k for k in range(4) if tuple(model.with_mask(k).ordering) != tuple(range(D)))
    m = model.with_mask(k)
    seq, lp = sampling.sample(m, params, jax.random.PRNGKey(0), 32)
    img = m.to_image(seq)
    np.testing.assert_allclose(np.asarray(lp), np.asarray(m.log_prob_image(params, img)), atol=1e-4)


def test_explicit_ordering_and_direct_connection():
    order = [4, 2, 0, 1, 3]
    model = made.build(seq_len=D, hidden_sizes=(3,), ordering=order, direct=True)
    params = model.init(jax.random.PRNGKey(0))
    params = {**params, "A": params["A"] + 1.0}  # hidden path at init, direct path made non-zero
    np.testing.assert_array_equal(model.ordering, order)
    x = jnp.asarray(ALL_X)
    out = np.asarray(model.outputs_image(params, x))[..., 0]
    assert np.ptp(out[:, 4]) == 0.0          # the first element in the ordering sees nothing
    assert np.ptp(out[:, 3]) > 0.0           # the last one sees the others
    assert masks.show(model.layer_masks(params, 0)[-1]).count("1") == D * (D - 1) // 2


def test_categorical_outputs_several_per_element():
    model = made.build_categorical(seq_len=3, vocab_size=4, hidden_sizes=(8, 8))
    params = _noisy(model.init(jax.random.PRNGKey(0)))
    x = np.array(list(itertools.product(range(4), repeat=3)), np.int32)
    assert jax.eval_shape(model.outputs, params, x[:2]).shape == (2, 3, 4)
    assert abs(float(jnp.exp(jax.jit(model.log_prob)(params, x)).sum()) - 1.0) < 1e-5
    with pytest.raises(errors.ValueRangeError, match="outside the vocabulary"):
        model.log_prob(params, x + 1)


def test_image_of_wrong_size_is_refused(pool):
    model, params = pool
    with pytest.raises(errors.ShapeError, match=f"length {D}"):
        model.log_prob_image(params, np.zeros((2, 784), np.int32))
    with pytest.raises(errors.ShapeError, match=f"length {D}"):
        made_ensemble.ensemble_log_prob(model, params, np.zeros((2, 28, 28), np.int32).reshape(2, -1))


def test_non_binary_values_are_refused(pool):
    model, params = pool
    x = ALL_X[:2].copy()
    x[0, 1] = 3
    with pytest.raises(errors.ValueRangeError, match="only 0 and 1"):
        model.log_prob_image(params, x)
    with pytest.raises(errors.ValueRangeError, match="only 0 and 1"):
        made_ensemble.ensemble_log_prob(model, params, x)


@pytest.mark.parametrize("ordering", [[0, 1, 2, 3, 3], [0, 1, 2, 3], [1, 2, 3, 4, 5], [0.0, 1.5, 2, 3, 4]])
def test_ordering_that_is_not_a_permutation_is_refused(ordering):
    with pytest.raises(errors.ConfigError, match="ordering"):
        made.build(seq_len=D, hidden_sizes=(4,), ordering=ordering)


def test_mask_pool_of_size_zero_is_refused(pool):
    with pytest.raises(errors.ConfigError, match="at least one mask"):
        made.build(seq_len=D, hidden_sizes=(4,), num_masks=0)
    model, params = pool
    with pytest.raises(errors.ConfigError, match="mask pool"):
        model.with_mask(4)
    with pytest.raises(errors.ConfigError, match="num_masks"):
        made_ensemble.per_mask_log_prob(model, params, ALL_X, num_masks=0)


def test_bad_layer_config_is_refused():
    with pytest.raises(errors.ConfigError, match="hidden"):
        made.build(seq_len=D, hidden_sizes=(4, 0))
    with pytest.raises(errors.ConfigError, match="activation"):
        made.build(seq_len=D, hidden_sizes=(4,), activation="swish")


def test_init_from_data_sets_bernoulli_biases_only():
    x = ALL_X[::3]
    model = made.build(seq_len=D, hidden_sizes=(4,))
    params = made.init_from_data(model, jax.random.PRNGKey(0), x)
    p1 = (x.sum(0) + 1.0) / (x.shape[0] + 2.0)
    np.testing.assert_allclose(np.asarray(params["b1"]), np.log(p1 / (1 - p1)), atol=1e-6)
    with pytest.raises(errors.ConfigError, match="categorical"):
        made.init_from_data(made.build_categorical(seq_len=3, vocab_size=4, hidden_sizes=(4,)),
                            jax.random.PRNGKey(0), x[:, :3])


def test_image_methods_check_the_mask_index_and_the_input(pool):
    model, params = pool
    for k in (99, -1, 4):
        with pytest.raises(errors.ConfigError, match=r"mask_index .* is outside the mask pool \[0, 3\]"):
            model.log_prob_image(params, ALL_X, k)
        with pytest.raises(errors.ConfigError, match="outside the mask pool"):
            model.outputs_image(params, ALL_X, k)
    with pytest.raises(errors.ConfigError, match="mask_index must be an integer"):
        model.log_prob_image(params, ALL_X, 2.5)
    with pytest.raises(errors.ValueRangeError, match="only 0 and 1"):
        model.outputs_image(params, ALL_X * 5)
    # valid and traced indices still work
    ref = model.log_prob_image(params, ALL_X, 3)
    np.testing.assert_allclose(jax.jit(model.log_prob_image)(params, ALL_X, 3), ref, atol=1e-5)
    np.testing.assert_allclose(model.log_prob_image(params, ALL_X, jnp.array(3)), ref, atol=1e-5)


def test_init_from_data_and_fit_mle_need_binary_data_and_positive_smoothing():
    from jax_ar.models.bernoulli import fit_mle
    model = made.build(seq_len=D, hidden_sizes=(4,))
    with pytest.raises(errors.ValueRangeError, match="x_NxD holds value 255 .* accepts only 0 and 1"):
        made.init_from_data(model, jax.random.PRNGKey(0), ALL_X * 255)
    with pytest.raises(errors.ConfigError, match="smoothing must be a finite number > 0"):
        made.init_from_data(model, jax.random.PRNGKey(0), ALL_X, smoothing=-1)
    for alpha in (-1, 0, float("nan"), "1"):
        with pytest.raises(errors.ConfigError, match="alpha must be a finite number > 0"):
            fit_mle(ALL_X, alpha=alpha)
    with pytest.raises(errors.ValueRangeError, match="only 0 and 1"):
        fit_mle(ALL_X * 255)
    assert np.isfinite(np.asarray(fit_mle(ALL_X[:1], alpha=0.5)["bias"])).all()
