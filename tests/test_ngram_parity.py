"""Parity of the n-gram models with NLTK ``nltk.lm`` and with KenLM reading our ARPA files.

Run when the optional peers (nltk, kenlm) are installed; the Tiny Shakespeare
cases skip cleanly when the data directory is absent.
"""
import math
import os

import numpy as np
import pytest

from jax_ar import ngram
from jax_ar.data import files, shakespeare
from jax_ar.ngram import arpa
from jax_ar.ngram import reference as R

TRAIN_CHARS = 100_000       # NLTK's pure-Python fit is slow: parity on the first 100k training characters


@pytest.fixture(scope="module")
def splits():
    if not files.data_available():
        pytest.skip("Tiny Shakespeare data directory not found")
    try:
        text = shakespeare.load_text()
    except Exception as e:  # noqa: BLE001
        pytest.skip(f"Tiny Shakespeare not readable: {e}")
    return shakespeare.split(text, "tfds")


@pytest.fixture(scope="module")
def nltk_setup(splits):
    pytest.importorskip("nltk")
    tr = splits["train"][:TRAIN_CHARS]
    va = splits["validation"]
    alpha = sorted(set(tr))
    base = R.fit_nltk(tr, 3)
    assert len(base.vocab) == len(alpha) + 1          # chars + <UNK>
    return dict(base=base, alpha=alpha, V=len(alpha) + 1, tr=tr, va=va,
                tr_ids=R.encode(tr, alpha), va_ids=R.encode(va, alpha))


@pytest.mark.parametrize("cls,method", [("MLE", "mle"), ("Laplace", "laplace")])
def test_char_trigram_perplexity_equals_nltk(nltk_setup, cls, method):
    s = nltk_setup
    ref = R.nltk_model(s["base"], cls)
    ours = ngram.fit(s["tr_ids"], s["V"], 3, method, bos_pad="full")
    for text, ids in [(s["va"], s["va_ids"]), (s["tr"][:20000], s["tr_ids"][:20000])]:
        p_ref = ref.perplexity(R.test_ngrams(text, 3))
        p_ours = ngram.perplexity(ours, ids)
        if math.isinf(p_ref):
            assert math.isinf(p_ours)   # unseen trigram in a seen context: inf under MLE on both sides
        else:
            assert p_ours == pytest.approx(p_ref, rel=1e-6)
    if method == "mle":
        assert math.isinf(ngram.perplexity(ours, s["va_ids"]))
        assert np.isfinite(ngram.perplexity(ours, s["tr_ids"][:20000]))


def test_char_trigram_kneser_ney_equals_nltk_fixed_discount(nltk_setup):
    """NLTK's KneserNeyInterpolated == ours with its fixed discount and an undiscounted unigram level."""
    s = nltk_setup
    ref = R.nltk_model(s["base"], "KneserNeyInterpolated", discount=0.1)
    ours = ngram.fit(s["tr_ids"], s["V"], 3, "kneser_ney", bos_pad="full", discount=0.1,
                     interpolate_unigram=False)
    grams = R.test_ngrams(s["va"], 3)[:300]          # NLTK needs ~0.3-2 ms per trigram
    lp_ref = np.array([ref.logscore(g[-1], g[:-1]) for g in grams])
    lp_ours = ours.log_probs(s["va_ids"])[:300] / math.log(2)
    np.testing.assert_allclose(lp_ours, lp_ref, rtol=1e-12, atol=1e-12)


def test_where_nltk_kneser_ney_departs_from_chen_goodman():
    """Pinned departures of nltk.lm.KneserNeyInterpolated from Chen & Goodman's interpolated KN.

    1. one fixed discount (default 0.1) at every order instead of D = n1/(n1 + 2 n2) per order;
    2. the unigram level is the bare continuation distribution, not interpolated with the uniform
       distribution: a vocabulary word never seen in training gets probability 0;
    3. gamma counts the *raw* follower types of a lower-order context while alpha uses
       continuation counts; with NLTK's own padded_everygram_pipeline (which also counts the
       pad-only grams) p(. | <s> <s>) then sums to 1.00333..., not 1.
    """
    pytest.importorskip("nltk")
    from nltk.lm import KneserNeyInterpolated
    from nltk.lm.preprocessing import padded_everygram_pipeline
    sents = [list("abracadabra"), list("cadabra"), list("abba")]
    train, vocab = padded_everygram_pipeline(3, sents)
    ref = KneserNeyInterpolated(3)
    ref.fit(train, vocab)
    assert ref.estimator.discount == 0.1                                          # (1)
    total = sum(ref.score(w, ("<s>", "<s>")) for w in ref.vocab)
    assert total == pytest.approx(1 + 1 / 300, rel=1e-12)                         # (3)
    # ours, same text, both conventions
    alpha = sorted(set("abracadabra"))
    ids = [R.encode(s, alpha) for s in sents]
    V = len(alpha) + 1                                                            # + an unseen word
    cg = ngram.fit(ids, V, 3, "kneser_ney", bos_pad="full")
    compat = ngram.fit(ids, V, 3, "kneser_ney", bos_pad="full", discount=0.1, interpolate_unigram=False)
    assert cg.info["discounts"][2][0] != 0.1                                      # (1)
    assert np.exp(compat.logp[1][V - 1]) == 0.0 and np.exp(cg.logp[1][V - 1]) > 0    # (2)
    assert ref.score("<UNK>", ("a", "b")) == 0.0                                 # (2) in NLTK
    for lm in (cg, compat):                                                        # (3) ours normalise
        h = np.full((1, 2), V)
        assert np.exp(lm.next_log_probs(h)).sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("method", ["katz", "kneser_ney", "modified_kneser_ney", "interpolated"])
def test_kenlm_scores_our_arpa_identically(splits, tmp_path, method):
    kenlm = pytest.importorskip("kenlm")
    lines = [ln.split() for ln in splits["train"][:200_000].splitlines() if ln.split()]
    words = sorted({w for ln in lines for w in ln}) + ["<unk>"]
    table = {w: i for i, w in enumerate(words)}
    unk = table["<unk>"]
    enc = lambda ln: np.array([table.get(w, unk) for w in ln], np.int64)  # noqa: E731
    lm = ngram.fit([enc(ln) for ln in lines], len(words), 3, method)
    path = arpa.write_arpa(lm, os.path.join(tmp_path, f"{method}.arpa"), words=words)
    model = kenlm.Model(path)
    held = [ln.split() for ln in splits["validation"].splitlines() if ln.split()][:200]
    worst = 0.0
    for ln in held:
        ids = enc(ln)
        ours = lm.log_probs(ids) / math.log(10)
        theirs = np.array([sc[0] for sc in model.full_scores(" ".join(words[i] for i in ids), bos=True, eos=False)])
        worst = max(worst, float(np.abs(ours - theirs).max()))
    # ARPA stores 7 decimals of log10 and KenLM holds float32: agree to that precision
    assert worst < 2e-6, worst
