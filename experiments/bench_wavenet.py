"""Benchmark: samples/s of Fast WaveNet (queue cache) against naive generation.

    python -m experiments.bench_wavenet --budget=quick

Both generate the same ``num_steps`` samples with the same key (and the
script checks the samples are identical).  Naive generation runs the full
parallel network over the whole ``num_steps``-long buffer for every new
sample (:mod:`jax_ar.naive_sampling`); with ``num_steps`` equal to the
receptive field that is one pass over the receptive field per sample.  Fast
generation steps the per-layer queues (:mod:`jax_ar.layers.causal_conv`).
Both are jit-compiled ``lax.scan`` loops; compile time is excluded (one
warm-up call each), the median of ``repeats`` timed calls is reported.
"""
import dataclasses
import time

import jax
import numpy as np

from experiments import at_least
from jax_ar import experiment, sampling
from jax_ar.models import wavenet
from jax_ar.naive_sampling import naive_sample


@dataclasses.dataclass(frozen=True)
class Config:
    layers_per_block: int = 10        # dilations 1..512: receptive field 1,024
    blocks: int = 1
    channels: int = 32
    skip_channels: int = 64
    batch_size: int = 1
    num_steps: int = 1024             # generated samples (= naive buffer length)
    repeats: int = 3
    seed: int = 0

    def validate(self):
        at_least(self, 1, "layers_per_block blocks channels skip_channels batch_size num_steps repeats")


BUDGETS = {
    "smoke": Config(layers_per_block=4, channels=8, skip_channels=8, num_steps=32, repeats=1),
    "quick": Config(),
    "full": Config(blocks=3, channels=64, skip_channels=256, num_steps=3072),
}


def _time(fn, repeats):
    jax.block_until_ready(fn())  # compile + warm up
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = jax.block_until_ready(fn())
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts)), out


def main(argv=None):
    run = experiment.start("bench_wavenet", Config, BUDGETS, argv)
    cfg = run.cfg
    model = wavenet.build_wavenet(seq_len=cfg.num_steps, layers_per_block=cfg.layers_per_block,
                                  blocks=cfg.blocks, channels=cfg.channels, skip_channels=cfg.skip_channels)
    params = model.init(jax.random.PRNGKey(cfg.seed))
    key = jax.random.PRNGKey(cfg.seed + 1)
    B, T = cfg.batch_size, cfg.num_steps
    t_fast, (x_fast, _) = _time(lambda: sampling.sample(model, params, key, B, num_steps=T), cfg.repeats)
    t_naive, (x_naive, _) = _time(lambda: naive_sample(model, params, key, B, num_steps=T), cfg.repeats)
    same = bool(np.array_equal(np.asarray(x_fast), np.asarray(x_naive)))
    fast_sps, naive_sps = B * T / t_fast, B * T / t_naive
    print(f"receptive field {model.receptive_field}, {len(model.module.dilations)} layers, "
          f"C={cfg.channels}, batch {B}, {T} samples, devices {jax.devices()[0].platform}")
    print(f"fast  : {t_fast:.3f} s  {fast_sps:,.0f} samples/s")
    print(f"naive : {t_naive:.3f} s  {naive_sps:,.0f} samples/s")
    print(f"speed-up {fast_sps / naive_sps:.1f}x; identical samples: {same}")
    run.result(model="wavenet", dataset="none", split="none", metric="fast_vs_naive_speedup",
               value=round(fast_sps / naive_sps, 2), unit="x", steps=0, params=0,
               receptive_field=model.receptive_field, fast_samples_per_s=round(fast_sps, 1),
               naive_samples_per_s=round(naive_sps, 1), identical_samples=same, batch_size=B, num_steps=T)


if __name__ == "__main__":
    experiment.cli(main)
