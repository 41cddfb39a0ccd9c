"""Linear Gaussian AR(p): synthetic AR(p) with known coefficients, and the
linear-prediction baseline on Free Spoken Digit audio (bits per mu-law sample).

    python -m experiments.ar_linear --budget=quick --data_dir=../shared/data

Part 1 (synthetic): series from ``jax_ar.data.synthetic.GaussianAR``; one
batched closed-form fit per series and one pooled fit; coefficient errors;
held-out NLL per step of the fitted and the true model against the true
entropy rate 0.5 ln(2 pi e sigma^2).
Part 2 (audio, official split: index 0-4 test): AR(p) fitted by pooled least
squares to the mu-law quantised training clips, scored as a distribution
over the 256 mu-law classes (see :mod:`jax_ar.linear_ar.speech`); the headline
is the mu-law ("mulaw", companded values) domain at order ``order`` (on the
smoke run it beat the amplitude domain, where one global sigma fits quiet
and loud passages badly); all orders and both domains are reported.  Uniform over 256 classes = 8 bits.
"""
import dataclasses
import time

import numpy as np

from experiments import at_least, nonempty, one_of, positive
from jax_ar import experiment, linear_ar
from jax_ar.data import spoken_digit
from jax_ar.data.synthetic import GaussianAR
from jax_ar.errors import ConfigError
from jax_ar.linear_ar import speech


@dataclasses.dataclass(frozen=True)
class Config:
    true_phi: tuple[float, ...] = (0.6, -0.3, 0.2, -0.1)
    true_sigma: float = 0.5
    true_c: float = 0.3
    num_series: int = 1000
    length: int = 1000
    test_series: int = 200
    order: int = 32                      # headline order on audio
    domain: str = "mulaw"                # headline domain: "mulaw" (companded values) or "linear" (amplitudes)
    orders: tuple[int, ...] = (1, 2, 4, 8, 16, 32)
    channels: int = 256
    train_limit: int = 0                 # first N training clips (0 = all)
    test_limit: int = 0
    seed: int = 0

    def validate(self):
        nonempty(self, "true_phi orders")
        try:
            GaussianAR(phi=tuple(self.true_phi)).check_stationary()
        except ConfigError as e:
            raise ConfigError(f"true_phi: {e}") from None
        positive(self, "true_sigma")
        at_least(self, 1, "num_series test_series orders")
        at_least(self, len(self.true_phi) + 1, "length")
        at_least(self, 2, "channels")
        at_least(self, 0, "train_limit test_limit")
        one_of(self, "domain", speech.DOMAINS)
        one_of(self, "order", self.orders)           # the headline is read from the table of all orders


BUDGETS = {
    "smoke": Config(num_series=50, length=200, test_series=20, order=4, orders=(1, 4),
                    train_limit=40, test_limit=20),
    "quick": Config(),
    "full": Config(num_series=5000),
}


def synthetic_part(cfg):
    proc = GaussianAR(phi=tuple(cfg.true_phi), sigma=cfg.true_sigma, c=cfg.true_c)
    p = len(cfg.true_phi)
    x = proc.sample(cfg.num_series, cfg.length, seed=cfg.seed).astype(np.float64)
    x_test = proc.sample(cfg.test_series, cfg.length, seed=cfg.seed + 1).astype(np.float64)
    t0 = time.perf_counter()
    per = linear_ar.fit(x, p)
    fit_s = time.perf_counter() - t0
    pooled = linear_ar.fit_pooled(list(x), p)
    true = linear_ar.ARFit(np.array(cfg.true_c), np.asarray(cfg.true_phi), np.array(cfg.true_sigma ** 2), None, None)
    steps = cfg.test_series * (cfg.length - p)
    nll = lambda f: -float(np.sum(linear_ar.log_likelihood(f, x_test))) / steps
    out = {
        "entropy_rate": proc.entropy_rate(),
        "phi_mae_per_series": float(np.mean(np.abs(per.phi - np.asarray(cfg.true_phi)))),
        "phi_max_err_pooled": float(np.max(np.abs(pooled.phi - np.asarray(cfg.true_phi)))),
        "sigma_err_pooled": float(np.sqrt(pooled.sigma2) - cfg.true_sigma),
        "c_err_pooled": float(pooled.c - cfg.true_c),
        "test_nll_fitted": nll(pooled),
        "test_nll_true_params": nll(true),
        "batched_fit_seconds": fit_s,
    }
    out["gap_fitted"] = out["test_nll_fitted"] - out["entropy_rate"]
    print("synthetic AR(%d): " % p + ", ".join(f"{k}={v:.5g}" for k, v in out.items()), flush=True)
    return out


def audio_part(cfg, data_dir):
    train = spoken_digit.load("train", data_dir, limit=cfg.train_limit or None)
    test = spoken_digit.load("test", data_dir, limit=cfg.test_limit or None)
    enc = lambda clips: speech.encode_clips([s for s, _, _ in clips], cfg.channels)
    q_train, q_test = enc(train), enc(test)
    table = {}
    for domain in speech.DOMAINS:
        for p in cfg.orders:
            f = speech.fit_clips(q_train, p, domain, cfg.channels)
            r = speech.bits_per_sample(f, q_test, domain, cfg.channels)
            table[f"{domain}_p{p}"] = round(r["bits_per_sample"], 4)
            print(f"audio {domain:6s} AR({p:2d}): test {r['bits_per_sample']:.4f} bits/sample "
                  f"({r['num_samples']} samples)", flush=True)
    return table, len(q_train), len(q_test), sum(q.size for q in q_test)


def main(argv=None):
    run = experiment.start("ar_linear", Config, BUDGETS, argv)
    cfg = run.cfg
    run.describe(model="ar_linear", model_kwargs={"order": cfg.order},
                 dataset={"name": "spoken_digit", "split": "official (index 0-4 test)"})
    syn = synthetic_part(cfg)
    table, n_train, n_test, n_samples = audio_part(cfg, run.data_dir)
    headline = table[f"{cfg.domain}_p{cfg.order}"]
    run.result(model=f"ar_linear(p={cfg.order}, {cfg.domain} domain)", dataset="spoken_digit", split="test",
               metric="nll_mu_law", value=headline, unit="bits/sample", steps=0, params=cfg.order + 2,
               train_clips=n_train, test_clips=n_test, test_samples=n_samples, uniform_bits=8.0,
               audio_table=table, synthetic={k: round(v, 6) for k, v in syn.items()})


if __name__ == "__main__":
    experiment.cli(main)
