"""Speed of PixelCNN and Gated PixelCNN: likelihood evaluation and sampling (prints figures).

    python -m experiments.bench_pixelcnn --budget=quick --data_dir=../shared/data

* Likelihood of the binarized MNIST test images with the jitted log_prob in
  fixed batches: images/s, and GFLOP/s from XLA's cost analysis of the
  compiled batch, against a float32 matmul ceiling measured in the same run.
* Sampling ``sample_batch`` images with ``lax.scan`` (compiled once, timed on
  a second call): wall time per image for the cached step and for the naive
  step (one full forward per pixel).  The naive sampler's cost per pixel is
  constant, so with ``naive_steps < 784`` it is timed over the first
  ``naive_steps`` pixels and the full-image figure is printed as an
  extrapolation, labelled so.
Speed does not depend on the parameter values, so freshly initialised
parameters are used.
"""
import dataclasses
import time

import jax
import jax.numpy as jnp
import numpy as np

from experiments import at_least, check_items, items, within
from jax_ar import experiment, sampling
from jax_ar.contract import param_count
from jax_ar.data import binarized_mnist
from jax_ar.models import registry
from jax_ar.bench import matmul_ceiling


MODELS = ("pixelcnn", "gated_pixelcnn")


@dataclasses.dataclass(frozen=True)
class Config:
    features: int = 16
    depth: int = 4
    first_kernel: int = 7
    head_features: int = 32
    eval_images: int = 10000
    eval_batch: int = 500
    sample_batch: int = 100
    naive_steps: int = 784
    matmul_n: int = 1024
    models: str = "pixelcnn,gated_pixelcnn"
    seed: int = 0

    def validate(self):
        at_least(self, 1, "features depth first_kernel head_features eval_batch sample_batch matmul_n")
        within(self, "eval_images", self.eval_batch, 10000)   # whole batches of the 10,000 test images
        within(self, "naive_steps", 1, 784)
        check_items(self, "models", ok=lambda m: m in MODELS, want="names among " + ", ".join(MODELS))


BUDGETS = {
    "smoke": Config(features=4, depth=1, head_features=8, eval_images=40, eval_batch=20, sample_batch=2,
                    naive_steps=4, matmul_n=128),
    "quick": Config(naive_steps=56),
    "full": Config(features=64, depth=15, head_features=256),
}


def _timed(fn, *args):
    t = time.perf_counter()
    jax.block_until_ready(fn(*args))
    return time.perf_counter() - t


def bench_model(name: str, cfg: Config, x_test: np.ndarray) -> dict:
    kw = dict(height=28, width=28, features=cfg.features, first_kernel=cfg.first_kernel,
              head_features=cfg.head_features)
    kw["num_layers" if name.startswith("gated") else "num_blocks"] = cfg.depth
    model = registry.build(name, **kw)
    params = jax.jit(model.init)(jax.random.PRNGKey(cfg.seed))
    rec = {"model": name, "params": param_count(params), **kw}

    # likelihood: fixed-size jitted batches over eval_images test images
    lp = jax.jit(model.log_prob)
    xb0 = jnp.asarray(x_test[:cfg.eval_batch], jnp.int32)
    flops = lp.lower(params, xb0).compile().cost_analysis()
    flops = (flops[0] if isinstance(flops, list) else flops).get("flops", float("nan"))
    _timed(lp, params, xb0)
    n = (cfg.eval_images // cfg.eval_batch) * cfg.eval_batch
    batches = [jnp.asarray(x_test[i:i + cfg.eval_batch], jnp.int32) for i in range(0, n, cfg.eval_batch)]
    t = time.perf_counter()
    for xb in batches:
        out = lp(params, xb)
    jax.block_until_ready(out)
    dt = time.perf_counter() - t
    rec.update(eval_images=n, eval_seconds=round(dt, 3), images_per_s=round(n / dt, 1),
               eval_gflops_per_s=round(flops * len(batches) / dt / 1e9, 2),
               gflop_per_image=round(flops / cfg.eval_batch / 1e9, 4))

    # sampling: cached step over all 784 pixels, naive step over naive_steps pixels
    B = cfg.sample_batch
    for mode, steps in (("cached", model.seq_len), ("naive", cfg.naive_steps)):
        m = registry.build(name, **kw, step_mode=mode)
        f = lambda k, m=m, steps=steps: sampling.sample(m, params, k, B, num_steps=steps)
        c = _timed(f, jax.random.PRNGKey(1))            # compile + first run
        s = _timed(f, jax.random.PRNGKey(2))
        rec[f"sample_{mode}_pixels"] = steps
        rec[f"sample_{mode}_first_call_s"] = round(c, 2)
        rec[f"sample_{mode}_s"] = round(s, 3)
        rec[f"sample_{mode}_s_per_image"] = round(s / B, 5)
        if steps < model.seq_len:
            rec[f"sample_{mode}_s_per_image_784_extrapolated"] = round(s / B * model.seq_len / steps, 4)
    return rec


def main(argv=None):
    run = experiment.start("bench_pixelcnn", Config, BUDGETS, argv)
    cfg = run.cfg
    x_test = binarized_mnist.load("test", run.data_dir)[:cfg.eval_images]
    ceiling = matmul_ceiling(cfg.matmul_n)
    print(f"float32 matmul ceiling ({cfg.matmul_n}^3): {ceiling:.2f} GFLOP/s  [{jax.devices()[0].platform}]")
    recs = []
    for name in items(cfg.models):
        r = bench_model(name, cfg, x_test)
        r["fraction_of_matmul_ceiling"] = round(r["eval_gflops_per_s"] / ceiling, 3)
        recs.append(r)
        print(f"{name}: {r['params']} params | likelihood {r['eval_images']} images in {r['eval_seconds']} s = "
              f"{r['images_per_s']} images/s, {r['eval_gflops_per_s']} GFLOP/s "
              f"({100 * r['fraction_of_matmul_ceiling']:.1f}% of matmul) | sample {cfg.sample_batch}: cached "
              f"{r['sample_cached_s_per_image']} s/image, naive {r['sample_naive_s_per_image']} s/image over "
              f"{r['sample_naive_pixels']} pixels"
              + (f" (784-pixel extrapolation {r['sample_naive_s_per_image_784_extrapolated']} s/image)"
                 if "sample_naive_s_per_image_784_extrapolated" in r else ""), flush=True)
    run.result(model=cfg.models, dataset="binarized_mnist", split="test", metric="likelihood_images_per_s",
               value=recs[0]["images_per_s"], unit="images/s", steps=0, params=recs[0]["params"],
               matmul_gflops_per_s=round(ceiling, 2), device=jax.devices()[0].platform, models=recs)


if __name__ == "__main__":
    experiment.cli(main)
