"""One entry point for all n-gram models: ``fit(tokens, vocab_size, order, method, **kw)``.

    lm = fit(train_ids, vocab_size=65, order=5, method="modified_kneser_ney")
    bits_per_token(lm, valid_ids)      # float, inf if some token has probability 0
    perplexity(lm, valid_ids)

``tokens`` is a 1-D integer array (one stream) or a list of 1-D arrays
(sentences / documents, each padded with start symbols on its own).
"""
from __future__ import annotations

from jax_ar import errors
from jax_ar.ngram import basic, counting, interpolation, katz, kneser_ney
from jax_ar.ngram.lm import NGramLM, bits_per_token, nats_per_token, perplexity  # noqa: F401

METHODS = ("mle", "laplace", "add_k", "katz", "interpolated", "kneser_ney", "modified_kneser_ney")


def fit(tokens, vocab_size: int, order: int, method: str = "modified_kneser_ney", *,
        bos_pad: str = "single", heldout=None, **kw) -> NGramLM:
    """Count n-grams of orders 1..order and build the smoothed model.

    method / options:
      "mle"; "laplace" (add-1); "add_k" (k=1.0); "katz" (K=5);
      "interpolated" (heldout= tokens for EM, default: the last 10% of the
      training data; em_iters=200); "kneser_ney" / "modified_kneser_ney"
      (discount=None|float, interpolate_unigram=True).
    bos_pad: "single" (one start symbol per sequence, KenLM style) or "full"
      (order-1 start symbols, NLTK ``pad_sequence`` style).
    """
    order = counting.check_order(order)
    if method not in METHODS:
        raise errors.ConfigError(f"unknown n-gram smoothing method {method!r}; choose one of {', '.join(METHODS)}")
    allowed = {"mle": set(), "laplace": set(), "add_k": {"k"}, "katz": {"K"},
               "interpolated": {"em_iters"}, "kneser_ney": {"discount", "interpolate_unigram"},
               "modified_kneser_ney": {"discount", "interpolate_unigram"}}[method]
    extra = set(kw) - allowed
    if extra:
        raise errors.ConfigError(f"method {method!r} takes no option(s) {sorted(extra)}; allowed: {sorted(allowed)}")
    if method == "interpolated":
        em_iters = errors.check_integer(kw.get("em_iters", 200), "em_iters", lo=0)
        return _fit_interpolated(tokens, vocab_size, order, bos_pad, heldout, em_iters)
    return from_counts(counting.count(tokens, vocab_size, order, bos_pad), method, **kw)


def from_counts(c: counting.NGramCounts, method: str, **kw) -> NGramLM:
    """Build a count-based model from existing counts (every method but "interpolated")."""
    if method == "mle":
        return basic.mle(c)
    if method == "laplace":
        return basic.add_k(c, 1.0)
    if method == "add_k":
        return basic.add_k(c, kw.get("k", 1.0))
    if method == "katz":
        return katz.katz(c, kw.get("K", 5))
    if method in ("kneser_ney", "modified_kneser_ney"):
        return kneser_ney.kneser_ney(c, modified=(method == "modified_kneser_ney"), **kw)
    raise errors.ConfigError(f"method {method!r} cannot be built from counts alone; use fit()")


def _fit_interpolated(tokens, vocab_size, order, bos_pad, heldout, em_iters):
    seqs = counting.as_sequences(tokens, vocab_size)
    if not seqs:
        raise errors.ValueRangeError("cannot fit an n-gram model on an empty corpus (no tokens)")
    if heldout is None:
        fit_part, held = interpolation.split_heldout(seqs)
    else:
        fit_part, held = seqs, heldout
    c_fit = counting.count(fit_part, vocab_size, order, bos_pad)
    q, avail = interpolation.ml_components(c_fit, held)
    lam, hist = interpolation.fit_weights(q, avail, iters=em_iters)
    c = c_fit if heldout is not None else counting.count(seqs, vocab_size, order, bos_pad)
    lm = interpolation.interpolate(c, lam)
    lm.info["heldout_nats_history"] = hist
    return lm
