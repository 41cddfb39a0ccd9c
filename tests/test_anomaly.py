"""Anomaly detection pieces: AUROC, perturbations, scores, attack, purification, experiment smoke."""
import itertools

import jax
import numpy as np
import pytest

from jax_ar.anomaly import attack, classifier, perturb, pipeline, purify, scores
from jax_ar.anomaly.auroc import auroc
from jax_ar.data import synthetic
from jax_ar.errors import ConfigError, ShapeError, ValueRangeError
from jax_ar.models import registry
from jax_ar.models.bernoulli import fit_mle


# ----------------------------------------------------------------- AUROC
def test_auroc_extremes_and_ties():
    assert auroc([0, 1, 2], [3, 4]) == 1.0
    assert auroc([3, 4], [0, 1, 2]) == 0.0
    assert auroc([1, 1], [1, 1, 1]) == 0.5


def test_auroc_equals_pairwise_count():
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 5, 40).astype(float), rng.integers(1, 7, 30).astype(float)
    pairs = [(x < y) + 0.5 * (x == y) for x, y in itertools.product(a, b)]
    assert auroc(a, b) == pytest.approx(np.mean(pairs), abs=1e-12)


def test_auroc_bad_input():
    with pytest.raises(ValueRangeError, match="scores_out holds 1 NaN/Inf"):
        auroc([0.0, 1.0], [np.nan, 2.0])
    with pytest.raises(ShapeError, match="scores_in must be a non-empty 1-D array"):
        auroc([], [1.0])


# ----------------------------------------------------------- perturbations
X = synthetic.bars_and_stripes(4)[:10]     # [10, 16], image 4x4
S = (4, 4)


def test_flips_and_inversion_are_involutions():
    for f in (lambda x: perturb.hflip(x, S), lambda x: perturb.vflip(x, S), perturb.invert):
        y = f(X)
        assert y.shape == X.shape and y.dtype == np.uint8 and set(np.unique(y)) <= {0, 1}
        np.testing.assert_array_equal(f(y), X)
    assert np.array_equal(perturb.hflip(X, S).reshape(-1, 4, 4), X.reshape(-1, 4, 4)[:, :, ::-1])


def test_shift_moves_pixels_and_zero_fills():
    x = np.zeros((1, 16), np.uint8)
    x[0, 5] = 1                                  # row 1, col 1
    y = perturb.shift(x, S, 1, 2).reshape(4, 4)
    assert y[2, 3] == 1 and y.sum() == 1
    assert perturb.shift(x, S, -2, 0).sum() == 0  # shifted out of the frame
    with pytest.raises(ConfigError, match="out of the frame"):
        perturb.shift(x, S, 4, 0)
    with pytest.raises(ShapeError, match=r"shape \[N, 16\]"):
        perturb.shift(np.zeros((1, 15)), S, 1, 1)


def test_noise_random_flips_and_shrink():
    n = perturb.bernoulli_noise(2000, 16, 0.13, seed=1)
    assert n.shape == (2000, 16) and abs(n.mean() - 0.13) < 0.01
    f = perturb.flip_random_pixels(X, 3, seed=2)
    assert np.all((f != X).sum(1) == 3)
    big = np.ones((1, 64), np.uint8)
    s = perturb.shrink(big, (8, 8), 2).reshape(8, 8)
    assert s.sum() == 16 and s[2:6, 2:6].all()
    with pytest.raises(ConfigError, match="density"):
        perturb.bernoulli_noise(1, 4, 1.5)


# ------------------------------------------------------------------ scores
def test_likelihood_ratio_corrects_simple_inputs():
    # a "simple" anomaly: low NLL under the model AND the background; the ratio flags it
    nll_in, bg_in = np.array([90.0, 95, 100]), np.array([200.0, 205, 210])
    nll_out, bg_out = np.array([40.0, 45]), np.array([42.0, 46])
    assert auroc(nll_in, nll_out) == 0.0
    lr_in, lr_out = scores.likelihood_ratio(nll_in, bg_in), scores.likelihood_ratio(nll_out, bg_out)
    assert auroc(lr_in, lr_out) == 1.0
    t = scores.typicality(nll_out, nll_in)
    assert np.allclose(t, [55, 50])
    with pytest.raises(ConfigError, match="non-empty reference"):
        scores.typicality(nll_out, [])


def test_compressed_length_grows_with_image_complexity():
    blank, busy = np.zeros((1, 784), np.uint8), perturb.bernoulli_noise(1, 784, 0.5)
    lb, lbusy = scores.compressed_nats(blank)[0], scores.compressed_nats(busy)[0]
    assert lb < 100 < 8 * np.log(2) * 98 < lbusy      # 98 packed bytes do not compress


def test_pipeline_table_and_markdown():
    bg = registry.build("bernoulli", seq_len=16)
    bp = fit_mle(synthetic.bars_and_stripes_dataset(4, 500))
    fn = lambda x: scores.nll(bg, bp, x)
    sets = {"test": X, **pipeline.image_anomalies(X, S, density=0.5, shift_px=1, random_flips=2)}
    scored = pipeline.score_sets(fn, fn, sets, fn(X))
    table = pipeline.auroc_table(scored)
    assert set(table) == set(sets) - {"test"}
    assert all(t["likelihood_ratio"] == 0.5 for t in table.values())   # model == background: no signal
    assert all(set(t) == set(scores.SCORES) for t in table.values())
    md = pipeline.markdown_table(table, scored)
    assert md.count("\n") == 2 + len(sets) and "| test (normal) |" in md


# ---------------------------------------------------- classifier and attack
@pytest.fixture(scope="module")
def clf():
    x = synthetic.bars_and_stripes_dataset(4, 400, seed=3)
    y, _ = classifier.kmeans_labels(x, 4, iters=5)
    net, p = classifier.train(x, y, hidden=(16,), num_classes=4, steps=150, lr=1e-2)
    return x, y, net, p


def test_classifier_learns_clusters(clf):
    x, y, net, p = clf
    assert classifier.accuracy(net, p, x, y) > 0.9
    with pytest.raises(ValueRangeError, match=r"labels must lie in \[0, 3\]"):
        classifier.train(x, y + 4, num_classes=4, steps=1)


def test_flip_attack_flips_k_pixels_and_beats_random(clf):
    x, y, net, p = clf
    adv = attack.flip_attack(net, p, x, y, 3, rounds=3)
    assert adv.dtype == np.uint8 and np.all((adv != x).sum(1) == 3)
    rnd = perturb.flip_random_pixels(x, 3, seed=0)
    ce = lambda z: float(classifier.cross_entropy(net, p, z.astype(np.float32), y).mean())
    assert ce(adv) > ce(rnd) > ce(x)
    assert classifier.accuracy(net, p, adv, y) < classifier.accuracy(net, p, rnd, y)
    with pytest.raises(ConfigError, match=r"k \(pixels to flip\) must be in \[0, 16\]"):
        attack.flip_attack(net, p, x, y, 17)


# ------------------------------------------------------------ purification
def test_purify_raises_likelihood_within_budget():
    model = registry.build("made", seq_len=16, hidden_sizes=(16,))
    params = model.init(jax.random.PRNGKey(0))
    params = {**params, "b1": fit_mle(synthetic.bars_and_stripes_dataset(4, 500))["bias"]}
    x = perturb.flip_random_pixels(X, 2, seed=5)
    lp0 = -scores.nll(model, params, x)
    out, lp = purify.purify(model, params, x, budget=3, per_round=1)
    assert out.dtype == np.uint8 and out.shape == x.shape
    assert np.all((out != x).sum(1) <= 3)
    np.testing.assert_allclose(lp, -scores.nll(model, params, out), rtol=1e-5)
    assert np.all(lp >= lp0 - 1e-6) and np.any(lp > lp0 + 1e-3)
    same, _ = purify.purify(model, params, x, budget=0)
    np.testing.assert_array_equal(same, x)
    # the relaxed log-likelihood equals the exact one on binary inputs
    np.testing.assert_allclose(purify.relaxed_log_prob(model, params, x.astype(np.float32)), lp0, rtol=1e-5)


def test_purify_rejects_non_binary_models():
    m = registry.build("made_categorical", seq_len=4, vocab_size=3, hidden_sizes=(6,))
    with pytest.raises(ConfigError, match="binary"):
        purify.relaxed_log_prob(m, None, np.zeros((1, 4), np.float32))   # checked before params are used


# ---------------------------------------------------------- the experiment
def test_experiment_smoke_writes_only_inside_workdir(tmp_path, capsys):
    import json
    from experiments import anomaly
    wd = tmp_path / "run"
    before = set(tmp_path.iterdir())
    anomaly.main(["--budget=smoke", f"--workdir={wd}", "--train.steps=40", "--num_test=64",
                  "--clf_steps=40", "--cluster_limit=300"])
    out = capsys.readouterr().out.strip().splitlines()
    rec = json.loads(out[-1][len("RESULT "):])
    assert rec["metric"] == "mean_auroc_likelihood_ratio" and 0.0 <= rec["value"] <= 1.0
    assert rec["auroc"]["bernoulli_noise"]["nll"] > 0.9
    assert set(tmp_path.iterdir()) - before == {wd}
    assert (wd / "auroc.md").is_file() and (wd / "purification.png").is_file()
    assert (wd / "examples_adversarial_2_flips.png").is_file()
