"""WaveNet on the Free Spoken Digit Dataset (8 kHz, official split: index 0-4 test).

    python -m experiments.wavenet --budget=quick --data_dir=../shared/data

Test NLL in bits per sample of the 256 mu-law classes, against baselines
scored on exactly the same test clips: uniform (8 bits), an n-gram over the
mu-law codes, and a linear AR(p) predictor of the amplitude integrated over
the mu-law bins.  Every clip is scored after ``receptive_field`` samples of
silence (the same left padding the training windows use).  Validation: every
``valid_every``-th training clip is held out (never trained on).  Writes one
generated WAV per digit and ``waveform_spectrogram.png`` (generated | real).
"""
import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from experiments import at_least, one_of, within
from jax_ar import audio_baselines, audio_clips, audio_figures, experiment
from jax_ar.audio import mu_law_decode
from jax_ar.contract import param_count
from jax_ar.data import spoken_digit
from jax_ar.models import registry
from jax_ar.models.wavenet import combine_labels
from jax_ar.sampling import sample
from jax_ar.train import TrainConfig, fit


@dataclasses.dataclass(frozen=True)
class Config:
    layers_per_block: int = 10        # dilations 1, 2, ..., 2**(layers_per_block-1)
    blocks: int = 1                   # ... repeated this many times
    channels: int = 32
    skip_channels: int = 64
    output: str = "categorical"       # or logistic_mixture
    num_mixtures: int = 10
    conditional: bool = True          # global conditioning on (digit, speaker)
    extra_window: int = 1024          # training window = receptive field + extra_window
    valid_every: int = 20             # hold out every n-th training clip for validation
    valid_limit: int = 20             # validation clips actually scored (0 = all held out)
    test_every: int = 1               # score every n-th test clip (5 = one per digit and speaker)
    eval_batch: int = 8
    ngram_order: int = 3
    ar_order: int = 32
    gen_samples: int = 8000           # generated samples per digit (8000 = 1 s)
    gen_speaker: int = 2              # speaker of the generated clips (index into spoken_digit.SPEAKERS)
    train: TrainConfig = TrainConfig()

    def validate(self):
        at_least(self, 1, "layers_per_block blocks channels skip_channels num_mixtures extra_window test_every "
                          "eval_batch ngram_order ar_order gen_samples")
        at_least(self, 2, "valid_every")             # 1 would hold out every training clip
        at_least(self, 0, "valid_limit")
        one_of(self, "output", ("categorical", "logistic_mixture"))
        within(self, "gen_speaker", 0, len(spoken_digit.SPEAKERS) - 1)


BUDGETS = {
    "smoke": Config(layers_per_block=3, channels=8, skip_channels=8, extra_window=56, valid_every=50,
                    valid_limit=4, test_every=30, ngram_order=2, ar_order=4, gen_samples=200,
                    train=TrainConfig(steps=10, batch_size=4, lr=1e-3, eval_every=10, ckpt_every=10,
                                      log_every=5)),
    # receptive field 1,024; ~14 min on a 2-core CPU; beats the trigram baseline (BENCHMARKS.md)
    "quick": Config(layers_per_block=10, channels=32, skip_channels=64, extra_window=1024, test_every=5,
                    valid_limit=10, gen_samples=4000,
                    train=TrainConfig(steps=3000, batch_size=8, lr=2e-3, schedule="cosine", warmup_steps=100,
                                      clip_norm=1.0, eval_every=1000, ckpt_every=1000)),
    "full": Config(blocks=3, channels=64, skip_channels=256, extra_window=4096, valid_limit=0,
                   train=TrainConfig(steps=100000, batch_size=16, lr=1e-3, schedule="cosine",
                                     warmup_steps=1000, clip_norm=1.0, eval_every=5000, ckpt_every=5000)),
}


def main(argv=None):
    run = experiment.start("wavenet", Config, BUDGETS, argv)
    cfg = run.cfg
    train_all = spoken_digit.load("train", run.data_dir)
    test = spoken_digit.load("test", run.data_dir)[::cfg.test_every]
    held = [i % cfg.valid_every == 0 for i in range(len(train_all))]
    train = [c for c, h in zip(train_all, held) if not h]
    valid = [c for c, h in zip(train_all, held) if h][:cfg.valid_limit or None]
    factors = (10, len(spoken_digit.SPEAKERS))
    labels = lambda clips: combine_labels([np.array([d for _, d, _ in clips]),
                                           np.array([s for _, _, s in clips])], factors)
    codes = {k: audio_clips.encode_clips([c for c, _, _ in v]) for k, v in
             (("train", train), ("valid", valid), ("test", test))}
    n_test = int(sum(len(c) for c in codes["test"]))
    print(f"clips: train {len(train)}, valid {len(valid)}, test {len(test)} ({n_test} samples)", flush=True)

    # baselines on exactly the same test samples
    base = {"uniform_bits": audio_baselines.uniform_bits(256),
            "ngram_bits": audio_baselines.ngram_bits(codes["train"], codes["test"], order=cfg.ngram_order),
            "ar_bits": audio_baselines.ar_bits(codes["train"], codes["test"], order=cfg.ar_order)}
    print("baselines (bits/sample): " + ", ".join(f"{k} {v:.4f}" for k, v in base.items()), flush=True)

    name = "wavenet_cond" if cfg.conditional else "wavenet"
    kw = dict(layers_per_block=cfg.layers_per_block, blocks=cfg.blocks, channels=cfg.channels,
              skip_channels=cfg.skip_channels, output=cfg.output, num_mixtures=cfg.num_mixtures)
    R = registry.build(name, seq_len=2, **kw).receptive_field
    kw["seq_len"] = R + cfg.extra_window
    if cfg.conditional:
        kw["cond_factors"] = factors
    run.describe(model=name, model_kwargs=kw, dataset={"name": "spoken_digit", "split": "official"})
    model = registry.build(name, **kw)
    cond = {k: (labels(v) if cfg.conditional else None) for k, v in
            (("train", train), ("valid", valid), ("test", test))}
    data = audio_clips.ClipWindows(codes["train"], window=kw["seq_len"], context=R, cond=cond["train"])
    n_valid = int(sum(len(c) for c in codes["valid"]))

    def bits(params, split, n):
        lp = audio_clips.clip_log_probs(model, params, codes[split], cond[split], context=R,
                                        batch_size=cfg.eval_batch)
        return audio_clips.bits_per_sample(lp, n)

    res = fit(model, cfg.train, data, workdir=run.dir, resume=run.resume,
              valid_fn=lambda p: bits(p, "valid", n_valid))
    test_bits = bits(res.best_params, "test", n_test)
    print(f"WaveNet (R={R}): test {test_bits:.4f} bits/sample", flush=True)

    # one generated clip per digit, after R samples of silence (as at the start of every training clip)
    gen_cond = jnp.asarray(combine_labels([np.arange(10), np.full(10, cfg.gen_speaker)], factors)) \
        if cfg.conditional else None
    prompt = jnp.full((10, R), audio_clips.silence_code(), jnp.int32)
    x, _ = sample(model, res.best_params, jax.random.PRNGKey(cfg.train.seed + 1), 10, cond=gen_cond,
                  prompt=prompt, num_steps=R + cfg.gen_samples)
    audio = np.asarray(mu_law_decode(np.asarray(x[:, R:])))
    spk = spoken_digit.SPEAKERS[cfg.gen_speaker]
    for d in range(10):
        spoken_digit.write_wav(run.path(f"generated_digit{d}_{spk}.wav"), audio[d])
    real = next((c for c, d, s in test if d == 0 and s == cfg.gen_speaker), test[0][0])
    audio_figures.save_waveform_spectrogram_png(
        [(f"generated digit 0 ({spk})" if cfg.conditional else "generated", audio[0]),
         (f"real test clip digit 0 ({spk})", real)], run.path("waveform_spectrogram.png"))
    run.result(model=name, dataset="spoken_digit", split="test", metric="nll", value=round(test_bits, 4),
               unit="bits/sample", steps=res.steps, params=param_count(res.best_params),
               receptive_field=R, window=kw["seq_len"], test_clips=len(test), test_samples=n_test,
               best_step=res.best_step, valid_bits=round(res.best_valid_nll, 4),
               **{k: round(v, 4) for k, v in base.items()})


if __name__ == "__main__":
    experiment.cli(main)
