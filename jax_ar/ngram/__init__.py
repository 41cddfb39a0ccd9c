"""n-gram language models: vectorised counting, smoothing, scoring, ARPA export.

    from jax_ar import ngram
    lm = ngram.fit(train_ids, vocab_size, order=3, method="kneser_ney")
    ngram.bits_per_token(lm, valid_ids)
"""
from jax_ar.ngram.api import METHODS, fit  # noqa: F401
from jax_ar.ngram.counting import NGramCounts, count  # noqa: F401
from jax_ar.ngram.lm import NGramLM, bits_per_token, nats_per_token, perplexity  # noqa: F401
