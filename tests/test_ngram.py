"""n-gram language models: counting, normalisation of every smoothing method, scoring, contract, bad input."""
import collections
import math

import jax
import numpy as np
import pytest

from jax_ar import errors, ngram
from jax_ar.models.ngram import as_ar_model
from jax_ar.ngram import counting, interpolation, katz, kneser_ney
from jax_ar.ngram.lm import gram_symbols

RNG = np.random.default_rng(0)
CORPUS = [RNG.integers(0, 5, 400), RNG.integers(0, 4, 150), RNG.integers(1, 5, 60)]  # vocab 6: id 5 unseen
V = 6
ALL = [(m, bp) for m in ngram.METHODS for bp in ("single", "full")]


def _fit(method, bos_pad="single", order=3, tokens=CORPUS):
    return ngram.fit(tokens, V, order, method, bos_pad=bos_pad)


def _brute_counts(seqs, order, bos_pad):
    pad = 1 if bos_pad == "single" else order - 1
    out = collections.Counter()
    for s in seqs:
        p = ["B"] * pad + list(s)
        for j in range(pad, len(p)):
            for k in range(1, order + 1):
                if j - k + 1 >= 0:
                    out[tuple(p[j - k + 1:j + 1])] += 1
    return out


@pytest.mark.parametrize("bos_pad", ["single", "full"])
def test_counts_match_brute_force(bos_pad):
    c = counting.count(CORPUS, V, 4, bos_pad)
    ours = collections.Counter()
    for k in range(1, 5):
        if k == 1:
            for s in range(V):
                if c.counts[1][s]:
                    ours[(s,)] = int(c.counts[1][s])
            continue
        syms = gram_symbols(c, k, np.arange(c.size(k)))
        for row, n in zip(syms, c.counts[k]):
            if n:
                ours[tuple("B" if v == V else int(v) for v in row)] = int(n)
    assert ours == _brute_counts(CORPUS, 4, bos_pad)


@pytest.mark.parametrize("method,bos_pad", ALL)
def test_every_context_sums_to_one(method, bos_pad):
    lm = _fit(method, bos_pad, order=4)
    ctx = [lm.seen_contexts(k)[:, -3:] for k in range(2, 5)]
    rnd = RNG.integers(0, V + 1, (50, 3))                      # random windows, BOS anywhere
    win = np.concatenate([np.pad(h, ((0, 0), (3 - h.shape[1], 0)), constant_values=V) for h in ctx] + [rnd])
    lp = lm.next_log_probs(win)
    assert lp.shape == (len(win), V)
    np.testing.assert_allclose(np.exp(lp).sum(1), 1.0, atol=1e-12 if method != "mle" else 1e-12)
    np.testing.assert_allclose(np.exp(lm.next_log_probs(np.zeros((1, 0), int))).sum(), 1.0, atol=1e-12)


@pytest.mark.parametrize("method,bos_pad", ALL)
def test_stream_scores_equal_dense_lookup(method, bos_pad):
    lm = _fit(method, bos_pad, order=3)
    s = RNG.integers(0, V, 40)
    lp = lm.log_probs(s)
    padded = np.concatenate([np.full(2, V), s])
    win = np.stack([padded[t:t + 2] for t in range(len(s))])
    dense = lm.next_log_probs(win)[np.arange(len(s)), s]
    np.testing.assert_allclose(lp, dense, rtol=1e-12, atol=1e-12)


def test_mle_and_laplace_by_hand():
    x = np.array([0, 1, 0, 1, 0, 2])        # single pad: B 0 1 0 1 0 2
    mle = ngram.fit(x, 3, 2, "mle")
    # p(1|0) = 2/3, p(0|B) = 1, p(2|0) = 1/3, p(0|1) = 1
    np.testing.assert_allclose(np.exp(mle.log_probs([0, 1, 0, 2])), [1, 2 / 3, 1, 1 / 3])
    lap = ngram.fit(x, 3, 2, "laplace")
    np.testing.assert_allclose(np.exp(lap.log_probs([0, 1, 2])), [2 / 4, 3 / 6, 1 / 5])
    assert math.isinf(ngram.perplexity(mle, [2, 2])) and math.isinf(ngram.bits_per_token(mle, [1]))


def test_laplace_scores_sequence_starts_from_their_counts():
    # One start symbol per sequence: the first tokens' longest history is <s> w1 .. w_{i-1},
    # shorter than n - 1, and add-k applies there too (it used to fall through to 1/V).
    seqs = [[0, 1, 2], [0, 1, 1], [0, 2, 1], [0, 1, 2]]
    lap3 = ngram.fit(seqs, 3, 3, "laplace")
    # p(0|<s>) = (4+1)/(4+3); p(1|<s> 0) = (3+1)/(4+3); then the top order: p(2|0 1) = (2+1)/(3+3)
    np.testing.assert_allclose(np.exp(lap3.log_probs([[0, 1, 2]])), [5 / 7, 4 / 7, 3 / 6])
    np.testing.assert_allclose(np.exp(lap3.next_log_probs([[3]])), [[5 / 7, 1 / 7, 1 / 7]])


def test_mle_unseen_event_gives_inf_not_error():
    lm = _fit("mle", order=3)
    assert ngram.perplexity(lm, [5, 5, 5]) == float("inf")
    assert np.isfinite(ngram.bits_per_token(lm, CORPUS[0][:50]))


def test_kneser_ney_discounts_follow_chen_goodman():
    a = np.array([1] * 10 + [2] * 4 + [3] * 3 + [4] * 2 + [7])
    (d1, d2, d3), ok = kneser_ney.estimate_discounts(a, modified=True)
    Y = 10 / (10 + 2 * 4)
    assert ok and np.allclose([d1, d2, d3], [1 - 2 * Y * 4 / 10, 2 - 3 * Y * 3 / 4, 3 - 4 * Y * 2 / 3])
    (e1, e2, e3), ok = kneser_ney.estimate_discounts(a, modified=False)
    assert ok and e1 == e2 == e3 == pytest.approx(Y)
    assert kneser_ney.estimate_discounts(np.array([1, 1, 1]), True) == (kneser_ney.FALLBACK, False)


def test_kneser_ney_uses_continuation_counts():
    # "b" follows many different symbols, "c" only follows "a" (often): KN's unigram prefers b
    x = np.array([0, 2] * 20 + [0, 1, 3, 1, 4, 1, 2, 1])
    lm = ngram.fit(x, 5, 2, "kneser_ney")
    p1 = np.exp(lm.logp[1][:5])
    assert p1[1] > p1[2]
    assert lm.counts.counts[1][2] > lm.counts.counts[1][1]


def test_katz_good_turing_ratios():
    counts = np.array([1] * 40 + [2] * 20 + [3] * 10 + [4] * 6 + [5] * 4 + [6] * 3 + [9])
    d, ok = katz.good_turing_ratios(counts, K=5)
    n = {1: 40, 2: 20, 3: 10, 4: 6, 5: 4, 6: 3}
    A = 6 * n[6] / n[1]
    assert ok
    for r in range(1, 6):
        assert d[r] == pytest.approx(((r + 1) * n[r + 1] / (r * n[r]) - A) / (1 - A))


def test_interpolation_em_increases_heldout_likelihood():
    train, held = interpolation.split_heldout([np.concatenate(CORPUS)])
    c = counting.count(train, V, 3)
    q, avail = interpolation.ml_components(c, held)
    lam, hist = interpolation.fit_weights(q, avail)
    assert np.all(np.diff(hist) <= 1e-12) and len(hist) > 2
    assert np.all((lam[1:] > 0) & (lam[1:] < 1))


def test_higher_order_fits_training_data_better():
    bits = [ngram.bits_per_token(_fit("modified_kneser_ney", order=n), CORPUS) for n in (1, 2, 4)]
    assert bits[0] > bits[1] > bits[2]


def test_contract_model_matches_numpy_scorer():
    lm = _fit("modified_kneser_ney", order=4)
    model = as_ar_model(lm, 7)
    params = model.init(jax.random.PRNGKey(0))
    x = RNG.integers(0, V, (5, 7))
    ours = np.asarray(model.log_prob(params, x))
    ref = np.array([lm.log_probs(row).sum() for row in x])
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-4)


def test_sampling_temperature():
    from jax_ar.ngram.generate import sample
    lm = ngram.fit(np.array([0] * 30 + [1] * 10 + [2] * 5), 3, 1, "mle")
    x = sample(lm, jax.random.PRNGKey(0), 1, temperature=2.0, batch_size=20000)
    p = np.exp(lm.logp[1][:3] / 2.0)
    p /= p.sum()
    np.testing.assert_allclose(np.bincount(x[:, 0], minlength=3) / 20000, p, atol=0.015)
    g = sample(lm, jax.random.PRNGKey(1), 5, temperature=0.0, batch_size=2)
    assert (g == 0).all()


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("order", [0, -2, 1.5, "3"])
def test_bad_order(order):
    with pytest.raises(errors.ConfigError, match="order"):
        ngram.fit(CORPUS, V, order, "kneser_ney")


@pytest.mark.parametrize("tokens", [np.array([], np.int64), [], [np.array([], np.int32)]])
def test_empty_corpus(tokens):
    with pytest.raises(errors.ValueRangeError, match="empty corpus"):
        ngram.fit(tokens, V, 3, "kneser_ney")


@pytest.mark.parametrize("bad", [[0, 1, 6], [0, -1, 2]])
def test_token_outside_vocab(bad):
    with pytest.raises(errors.ValueRangeError, match="outside the vocabulary"):
        ngram.fit(np.array(bad), V, 2, "mle")
    lm = _fit("kneser_ney")
    with pytest.raises(errors.ValueRangeError, match="outside the vocabulary"):
        lm.log_probs(np.array(bad))
    with pytest.raises(errors.ValueRangeError, match="outside the vocabulary"):
        model = as_ar_model(lm, 3)
        model.log_prob(model.init(), np.array([bad]))


def test_bad_method_and_options():
    with pytest.raises(errors.ConfigError, match="unknown n-gram smoothing"):
        ngram.fit(CORPUS, V, 2, "witten_bell")
    with pytest.raises(errors.ConfigError, match="no option"):
        ngram.fit(CORPUS, V, 2, "mle", discount=0.1)
    with pytest.raises(errors.ConfigError, match="pseudo-count"):
        ngram.fit(CORPUS, V, 2, "add_k", k=0)
    with pytest.raises(errors.ConfigError, match="bos_pad"):
        ngram.fit(CORPUS, V, 2, "mle", bos_pad="left")
    with pytest.raises(errors.ValueRangeError, match="empty token stream"):
        ngram.bits_per_token(_fit("mle"), [])


def test_katz_keeps_mass_in_saturated_contexts():
    x = np.array([0, 1] * 50 + [2, 3, 2, 4, 3, 4, 2, 1, 3, 1, 4, 1, 3, 2, 4, 3])  # "0" always followed by "1"
    lm = ngram.fit(x, 5, 2, "katz")
    p = np.exp(lm.next_log_probs(np.array([[0]])))[0]
    assert lm.info["saturated_contexts"][0] >= 1
    assert np.all(p > 0) and p.sum() == pytest.approx(1.0, abs=1e-12)


def test_letter_bigram_counts_and_png(tmp_path):
    from jax_ar.ngram import heatmap
    c = heatmap.letter_bigram_counts("The the, th!", "eht ")
    # pairs: th he e_ _t th he | _t th  ("," and "!" break the chain)
    idx = {ch: i for i, ch in enumerate("eht ")}
    assert c[idx["t"], idx["h"]] == 3 and c[idx["h"], idx["e"]] == 2 and c[idx[" "], idx["t"]] == 2
    assert c.sum() == 8
    path = heatmap.save_heatmap(c, "eht ", tmp_path / "h.png")
    from PIL import Image
    assert Image.open(path).size[0] > 4 * 20


def test_arpa_sections_match_header(tmp_path):
    from jax_ar.ngram import arpa
    lm = _fit("modified_kneser_ney", order=3)
    text = open(arpa.write_arpa(lm, tmp_path / "m.arpa")).read()
    head, *secs = text.split("\n\\")
    declared = [int(ln.split("=")[1]) for ln in head.splitlines() if ln.startswith("ngram ")]
    bodies = [s for s in secs if "-grams:" in s]
    assert [len(s.strip().splitlines()) - 1 for s in bodies] == declared
    assert "\t<s>\t" in text and "</s>" in text and text.rstrip().endswith("\\end\\")
    with pytest.raises(errors.ConfigError, match="whitespace"):
        arpa.write_arpa(lm, tmp_path / "bad.arpa", words=["a b"] + [f"w{i}" for i in range(V - 1)])


def test_contexts_must_be_integer_ids_and_em_iters_non_negative():
    tokens = np.array([0, 1, 2, 1, 0, 2, 2, 1] * 10)
    lm = ngram.fit(tokens, 3, 3, "interpolated")
    with pytest.raises(errors.ValueRangeError, match="integer symbol ids"):
        lm.next_log_probs([[0.7]])
    with pytest.raises(errors.ShapeError, match=r"shape \[C, L\]"):
        lm.next_log_probs(np.zeros((1, 1, 2), np.int64))
    with pytest.raises(errors.ConfigError, match="em_iters must be an integer >= 0, got -1"):
        ngram.fit(tokens, 3, 3, "interpolated", em_iters=-1)


def test_contract_model_refuses_params_of_another_model():
    m3 = as_ar_model(ngram.fit(CORPUS, V, 3, "kneser_ney"), 4)
    other_vocab = as_ar_model(ngram.fit([np.arange(8)] * 3, 8, 3, "kneser_ney"), 4)
    other_order = as_ar_model(ngram.fit(CORPUS, V, 2, "kneser_ney"), 4)
    x = RNG.integers(0, V, (2, 4))
    for params in (other_vocab.init(), other_order.init()):
        with pytest.raises(errors.ShapeError, match="params do not belong to this n-gram model"):
            m3.log_prob(params, x)
        with pytest.raises(errors.ShapeError, match="params do not belong"):
            jax.jit(m3.log_prob)(params, x)
        with pytest.raises(errors.ShapeError, match="params do not belong"):
            m3.step(params, m3.init_cache(m3.init(), 2), x[:, 0])
    same_shape = as_ar_model(ngram.fit(CORPUS, V, 3, "kneser_ney"), 4).init()   # same vocab/order: fine
    np.testing.assert_allclose(jax.jit(m3.log_prob)(same_shape, x), m3.log_prob(m3.init(), x), rtol=1e-6)


@pytest.mark.parametrize("call, msg", [
    (lambda lm: ngram.fit(CORPUS, V, 2, "katz", K=2.5), r"cutoff K must be an integer >= 1, got 2\.5"),
    (lambda lm: ngram.fit(CORPUS, V, 2, "katz", K="5"), r"cutoff K must be an integer >= 1, got '5'"),
    (lambda lm: ngram.fit(CORPUS, V, 2, "add_k", k="a"), r"pseudo-count k must be a number > 0, got 'a'"),
    (lambda lm: ngram.fit(CORPUS, V, 2, "kneser_ney", discount="a"), r"discount must be a number"),
    (lambda lm: __import__("jax_ar.ngram.generate", fromlist=["sample"]).sample(
        lm, jax.random.PRNGKey(0), 2.5), r"num_tokens must be an integer >= 1, got 2\.5"),
    (lambda lm: __import__("jax_ar.ngram.generate", fromlist=["sample"]).sample(
        lm, jax.random.PRNGKey(0), 3, temperature="hot"), r"temperature must be a finite number >= 0"),
])
def test_smoothing_and_sampling_options_must_be_numbers(call, msg):
    with pytest.raises(errors.ConfigError, match=msg):
        call(_fit("mle", order=2))
