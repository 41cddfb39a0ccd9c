"""Mu-law companding, discretised Gaussians over mu-law bins, and the AR(p) speech baseline."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jax_ar import audio, audio_baselines, errors, linear_ar
from jax_ar.linear_ar import speech
from jax_ar.linear_ar.discretize import gaussian_binned_log_prob, mixture_binned_log_prob


def test_mu_law_round_trip_and_bins():
    q = np.arange(256)
    assert np.array_equal(np.asarray(audio.mu_law_encode(audio.mu_law_decode(q))), q)
    x = np.linspace(-1, 1, 20001, dtype=np.float32)
    enc = np.asarray(audio.mu_law_encode(x))
    assert enc.dtype == np.int32 and enc.min() == 0 and enc.max() == 255
    assert np.all(np.diff(enc) >= 0)
    edges = audio.mu_law_bin_edges()
    by_edges = np.clip(np.searchsorted(edges, x.astype(np.float64), side="right") - 1, 0, 255)
    assert np.mean(by_edges == enc) > 0.999       # float32 rounding at a few bin boundaries
    # decoded centres lie inside their bins, and mu-law is finer near zero
    dec = np.asarray(audio.mu_law_decode(q), np.float64)
    assert np.all((dec >= edges[:-1] - 1e-6) & (dec <= edges[1:] + 1e-6))
    w = np.diff(edges)
    assert w[128] < w[250] / 50


def test_mu_law_bad_input_is_a_clear_error():
    with pytest.raises(errors.ValueRangeError, match="NaN"):
        audio.mu_law_encode(np.array([0.1, np.nan], np.float32))
    with pytest.raises(errors.ValueRangeError, match=r"\[-1, 1\]"):
        audio.mu_law_encode(np.array([1.5], np.float32))
    with pytest.raises(errors.ValueRangeError, match="class ids"):
        audio.mu_law_decode(np.array([256]))
    with pytest.raises(errors.ConfigError, match="channels"):
        audio.mu_law_encode(np.zeros(3), channels=1)


def test_binned_gaussian_sums_to_one():
    cases = np.array([(0.0, 1e-3), (0.4, 1e-6), (-0.99, 0.3), (3.0, 0.01), (0.0, 50.0)])
    with jax.enable_x64(True):
        q = jnp.arange(256)
        edges = jnp.asarray(audio.mu_law_bin_edges())

        @jax.jit
        def masses(mean, log_scale):
            lp = gaussian_binned_log_prob(mean[:, None], log_scale[:, None], q[None], edges)
            lpm = mixture_binned_log_prob(jnp.array([0.3, -0.2]), jnp.stack([mean, -mean], -1)[:, None],
                                          jnp.stack([log_scale, log_scale + 0.7], -1)[:, None], q[None], edges)
            return lp, lpm

        lp, lpm = masses(jnp.asarray(cases[:, 0]), jnp.log(jnp.asarray(cases[:, 1])))
        assert bool(jnp.all(jnp.isfinite(lp))) and bool(jnp.all(jnp.isfinite(lpm)))
        np.testing.assert_allclose(np.exp(np.asarray(lp)).sum(-1), 1.0, atol=1e-9)
        np.testing.assert_allclose(np.exp(np.asarray(lpm)).sum(-1), 1.0, atol=1e-9)


def test_speech_baseline_on_a_synthetic_signal_beats_uniform():
    rng = np.random.default_rng(0)
    t = np.arange(4000)
    clips = [0.5 * np.sin(2 * np.pi * 300 * t / 8000 + ph) + 0.01 * rng.standard_normal(t.size) for ph in (0, 1, 2)]
    q = [np.asarray(audio.mu_law_encode(np.clip(c, -1, 1).astype(np.float32))) for c in clips]
    for domain in speech.DOMAINS:
        f = speech.fit_clips(q[:2], 4, domain)
        r = speech.bits_per_sample(f, q[2:], domain)
        assert r["num_samples"] == 4000
        # a noisy sine is linear-predictable in amplitude; companding makes it non-linear
        assert 0.0 < r["bits_per_sample"] < (4.0 if domain == "linear" else 7.5), (domain, r)
    with pytest.raises(errors.ConfigError, match="domain"):
        speech.fit_clips(q, 2, "decibel")


def test_pooled_fit_rejects_nan_clip():
    with pytest.raises(errors.ValueRangeError, match="NaN"):
        linear_ar.fit_pooled([np.zeros(10), np.array([0.0, np.nan, 1.0, 2.0])], 1)


def test_wavenet_ar_baseline_reads_only_the_codes():
    # WaveNet's AR baseline takes codes (not raw audio): it is the speech baseline on the
    # decoded amplitudes of the earlier codes.
    rng = np.random.default_rng(0)
    x = np.zeros(3000)
    for t in range(2, 3000):
        x[t] = 1.6 * x[t - 1] - 0.8 * x[t - 2] + 0.02 * rng.standard_normal()
    clips = [np.clip(x[:1500], -1, 1), np.clip(x[1500:], -1, 1)]
    codes = speech.encode_clips(clips)
    bits = audio_baselines.ar_bits(codes[:1], codes[1:], order=4)
    fit = speech.fit_clips(codes[:1], 4)
    assert bits == pytest.approx(speech.bits_per_sample(fit, codes[1:])["bits_per_sample"])
    assert bits < 8.0
    with pytest.raises(errors.DataFileError, match="no test clips"):
        audio_baselines.ar_bits(codes, [])
