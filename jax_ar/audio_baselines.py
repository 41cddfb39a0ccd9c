"""Baselines for the likelihood of audio as mu-law classes, in bits per sample.

All three score the same events as WaveNet: the mu-law class of every sample
of every clip.

* uniform over ``channels`` classes: log2(channels) bits (8 for 256);
* an n-gram over mu-law codes (:mod:`jax_ar.ngram`, one start symbol per clip);
* a linear AR(p) predictor of the *amplitude* (:mod:`jax_ar.linear_ar.speech`),
  pooled over the training clips, whose Gaussian prediction is integrated
  over each mu-law bin, so it too is a distribution over the 256 classes.  It
  reads the decoded amplitudes of the previous codes (not the raw audio, which
  a code model never sees); the first p samples of a clip are conditioned on
  zeros.
"""
from __future__ import annotations

import math

from jax_ar import errors
from jax_ar.linear_ar import speech


def uniform_bits(channels: int = 256) -> float:
    return math.log2(channels)


def ngram_bits(train_codes, test_codes, *, order: int = 3, method: str = "modified_kneser_ney",
               channels: int = 256) -> float:
    from jax_ar import ngram
    lm = ngram.fit(list(train_codes), channels, order, method)
    return float(ngram.bits_per_token(lm, list(test_codes)))


def ar_bits(train_codes, test_codes, *, order: int = 32, channels: int = 256) -> float:
    """Bits per sample of ``test_codes`` under one AR(``order``) fitted to ``train_codes``.

    Both are lists of mu-law class arrays; the AR predicts each amplitude from
    the decoded amplitudes of the classes before it (:mod:`jax_ar.linear_ar.speech`,
    ``domain="linear"``), so, like WaveNet, it sees only the codes.
    """
    if len(test_codes) == 0:
        raise errors.DataFileError("no test clips to score")
    fit = speech.fit_clips(list(train_codes), order, "linear", channels)
    return speech.bits_per_sample(fit, list(test_codes), "linear", channels)["bits_per_sample"]
