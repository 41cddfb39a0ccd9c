"""Mixture density autoregression (MDN) on a known multimodal process and on raw speech.

    python -m experiments.mdn --budget=quick --data_dir=../shared/data

Part 1: ``jax_ar.data.synthetic_mdn.BimodalSineAR`` (non-linear mean, bimodal
noise; exact entropy rate).  Test NLL per step of the MDN, of the pooled
Gaussian AR(p) fit, and of the true model, against the entropy rate.
Part 2: raw Free Spoken Digit audio (official split) as continuous values.
The 16-bit samples are dequantised (x + u/32768, u ~ U[0,1), fixed seed), so
densities are comparable and bounded: bits per 16-bit sample <=
nats/ln 2 + 15 (bin width 2^-15 on [-1, 1]).  The MDN is trained on random windows of the (scaled)
training stream and scored on every test clip from zero history, exactly
like the AR(p) baseline (pooled least squares, zero history), and both
report nats/sample in the original amplitude units.  Every 20th training
clip is held out (from both models) to pick the MDN's best step.  Without
a data directory (no ``--data_dir``, none found) part 2 is skipped.
"""
import dataclasses
import math

import jax
import numpy as np

from experiments import at_least, check, positive
from jax_ar import experiment, linear_ar, sampling
from jax_ar.contract import param_count
from jax_ar.data import spoken_digit
from jax_ar.data.files import data_available
from jax_ar.data.batching import ArrayData, WindowData
from jax_ar.data.synthetic_mdn import BimodalSineAR
from jax_ar.models import mdn
from jax_ar.train import TrainConfig, fit


@dataclasses.dataclass(frozen=True)
class Config:
    syn_len: int = 64
    syn_train: int = 20000
    syn_test: int = 2000
    syn_window: int = 4
    ar_order: int = 32                   # audio AR(p) baseline (and MDN window)
    hidden: int = 64
    num_layers: int = 2
    num_components: int = 4
    audio_window: int = 32
    audio_seq_len: int = 512             # training window length
    audio_scale: float = 10.0            # network sees 10 x amplitude (accounted for in the NLL)
    train_limit: int = 0
    test_limit: int = 0
    sample_seconds: float = 1.0
    syn_train_cfg: TrainConfig = TrainConfig(steps=2000, batch_size=64, lr=3e-3, schedule="cosine",
                                             eval_every=1000, ckpt_every=1000)
    audio_train_cfg: TrainConfig = TrainConfig(steps=2000, batch_size=16, lr=2e-3, schedule="cosine",
                                               eval_every=1000, ckpt_every=1000, clip_norm=1.0)

    def validate(self):
        at_least(self, 1, "syn_len syn_train syn_window ar_order hidden num_components audio_window audio_seq_len")
        at_least(self, 0, "num_layers test_limit")
        at_least(self, 2, "syn_test")                 # half of it validates
        check(self, "train_limit", lambda n: n == 0 or n >= 2, "0 (all) or >= 2 (a clip is held out)")
        positive(self, "audio_scale")
        at_least(self, 1 / spoken_digit.SAMPLE_RATE, "sample_seconds")


BUDGETS = {
    "smoke": Config(syn_train=512, syn_test=128, train_limit=30, test_limit=10, hidden=16, audio_seq_len=128,
                    sample_seconds=0.05,
                    syn_train_cfg=TrainConfig(steps=40, batch_size=32, lr=3e-3, eval_every=20, ckpt_every=20),
                    audio_train_cfg=TrainConfig(steps=40, batch_size=8, lr=2e-3, eval_every=20, ckpt_every=20)),
    "quick": Config(),
    "full": Config(hidden=128, syn_train_cfg=TrainConfig(steps=20000, batch_size=64, lr=3e-3, schedule="cosine",
                                                         eval_every=2000, ckpt_every=2000),
                   audio_train_cfg=TrainConfig(steps=20000, batch_size=32, lr=2e-3, schedule="cosine",
                                               eval_every=2000, ckpt_every=2000, clip_norm=1.0)),
}


def synthetic_part(cfg, run):
    proc = BimodalSineAR()
    x_tr = proc.sample(cfg.syn_train, cfg.syn_len, seed=0)
    x_va = proc.sample(cfg.syn_test // 2, cfg.syn_len, seed=1)
    x_te = proc.sample(cfg.syn_test, cfg.syn_len, seed=2)
    kw = dict(seq_len=cfg.syn_len, window=cfg.syn_window, hidden=cfg.hidden, num_layers=cfg.num_layers,
              num_components=cfg.num_components)
    model = mdn.build(**kw)
    res = fit(model, cfg.syn_train_cfg, ArrayData(x_tr), x_va, workdir=run.path("synthetic"), resume=run.resume)
    D = cfg.syn_len
    nll_mdn = -float(np.mean(np.asarray(model.log_prob(res.best_params, x_te)))) / D
    ar = linear_ar.fit_pooled(list(x_tr.astype(np.float64)), cfg.syn_window, pad=True)
    nll_ar = -float(np.mean(linear_ar.log_likelihood(ar, x_te, pad=True))) / D
    h = proc.entropy_rate()
    out = {"entropy_rate": h, "mdn_nll": nll_mdn, "mdn_gap": nll_mdn - h, "ar_nll": nll_ar, "ar_gap": nll_ar - h,
           "true_model_nll": -float(np.mean(proc.log_prob(x_te))) / D, "mdn_params": param_count(res.best_params),
           "mdn_steps": res.steps}
    print("synthetic: " + ", ".join(f"{k}={v:.5g}" for k, v in out.items()), flush=True)
    return out


def dequantise(clips, seed):
    rng = np.random.default_rng(seed)
    return [(np.round(s.astype(np.float64) * 32768.0) + rng.random(s.shape[0])) / 32768.0 for s, _, _ in clips]


def audio_part(cfg, run):
    train = dequantise(spoken_digit.load("train", run.data_dir, limit=cfg.train_limit or None), 0)
    n_hold = max(1, len(train) // 20)                           # every 20th training clip: validation only
    valid, train = train[::20][:n_hold], [c for i, c in enumerate(train) if i % 20 or i // 20 >= n_hold]
    test = dequantise(spoken_digit.load("test", run.data_dir, limit=cfg.test_limit or None), 1)
    n_test = sum(c.size for c in test)
    ar = linear_ar.fit_pooled(train, cfg.ar_order, pad=True)
    ar_ll, _ = linear_ar.log_likelihood_pooled(ar, test, pad=True)
    ar_nll = -ar_ll / n_test
    S = cfg.audio_scale
    stream = (np.concatenate(train) * S).astype(np.float32)
    kw = dict(window=cfg.audio_window, hidden=cfg.hidden, num_layers=cfg.num_layers,
              num_components=cfg.num_components)
    model = mdn.build(seq_len=cfg.audio_seq_len, **kw)
    valid = [c * S for c in valid]                              # picks the best step; never the test clips
    eval_model = mdn.build(seq_len=max(c.size for c in test + valid), **kw)
    n_valid = sum(c.size for c in valid)
    valid_fn = lambda p: -sum(lp.sum() for lp in mdn.clip_log_probs(eval_model, p, valid)) / n_valid
    res = fit(model, cfg.audio_train_cfg, WindowData(stream, cfg.audio_seq_len), workdir=run.path("audio"),
              resume=run.resume, valid_fn=valid_fn)
    lps = mdn.clip_log_probs(eval_model, res.best_params, [c * S for c in test])
    mdn_nll = -sum(lp.sum() for lp in lps) / n_test - math.log(S)   # density of x, not of S x
    gen = mdn.build(seq_len=int(cfg.sample_seconds * spoken_digit.SAMPLE_RATE), **kw)
    xs, _ = sampling.sample(gen, res.best_params, jax.random.PRNGKey(0), 1)
    spoken_digit.write_wav(run.path("mdn_sample.wav"), np.asarray(xs[0]) / S)
    bits = lambda nats: nats / math.log(2) + 15.0   # -log2(density * 2^-15)
    out = {"mdn_nll": mdn_nll, "ar_nll": ar_nll, "mdn_bits_16bit": bits(mdn_nll), "ar_bits_16bit": bits(ar_nll),
           "test_samples": n_test, "mdn_params": param_count(res.best_params), "mdn_steps": res.steps,
           "mdn_best_step": res.best_step}
    print("audio: " + ", ".join(f"{k}={v:.5g}" for k, v in out.items()), flush=True)
    return out


def main(argv=None):
    run = experiment.start("mdn", Config, BUDGETS, argv)
    cfg = run.cfg
    run.describe(model="mdn", model_kwargs={"window": cfg.audio_window, "hidden": cfg.hidden,
                                            "num_layers": cfg.num_layers, "num_components": cfg.num_components},
                 dataset={"name": "bimodal_sine_ar+spoken_digit"})
    syn = synthetic_part(cfg, run)
    if run.data_dir is None and not data_available():
        print("audio part skipped: no data directory (pass --data_dir=DIR with the spoken digits)", flush=True)
        aud = {}
    else:
        aud = audio_part(cfg, run)
    run.result(model="mdn", dataset="bimodal_sine_ar", split="test", metric="nll_gap_to_entropy_rate",
               value=round(syn["mdn_gap"], 4), unit="nats/step", steps=syn["mdn_steps"], params=syn["mdn_params"],
               synthetic={k: round(float(v), 5) for k, v in syn.items()},
               audio={k: round(float(v), 5) for k, v in aud.items()})


if __name__ == "__main__":
    experiment.cli(main)
