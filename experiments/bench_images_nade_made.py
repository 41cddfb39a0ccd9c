"""Speed of NADE and MADE on 28x28 binary images (printed figures, not a timed test).

    python -m experiments.bench_images_nade_made --budget=quick --data_dir=../shared/data

* likelihood of ``num_eval`` test images through the jit path
  (:func:`jax_ar.evaluate.log_prob_batched`; for the MADE ensemble,
  :func:`jax_ar.models.made_ensemble.per_mask_log_prob`): images/s and achieved
  GFLOP/s (analytic count of the model's multiply-adds) against a float32
  matmul ceiling measured in the same run;
* sampling ``num_samples`` images with one ``lax.scan`` over the 784 pixels,
  compiled once (compile time reported apart): wall time per image.

Parameters are random (speed does not depend on training).  Without the data
files random binary images are used.
"""
import dataclasses
import time

import jax
import numpy as np

from experiments import at_least, one_of
from jax_ar import evaluate, experiment, sampling
from jax_ar.data import binarized_mnist
from jax_ar.errors import DataFileError
from jax_ar.models import made_ensemble, nade, registry
from jax_ar.bench import matmul_ceiling, timed


@dataclasses.dataclass(frozen=True)
class Config:
    nade_hidden: int = 500
    nade_prefixes: tuple[str, ...] = ("cumsum", "blocked")   # NADE running-sum implementations timed
    made_hidden: tuple[int, ...] = (500,)
    made_masks: int = 8                 # ensemble size benchmarked
    num_eval: int = 10000
    eval_batch: int = 200
    num_samples: int = 100
    matmul_n: int = 2048
    repeats: int = 1

    def validate(self):
        at_least(self, 1, "nade_hidden made_hidden made_masks num_eval eval_batch num_samples matmul_n repeats")
        one_of(self, "nade_prefixes", ("cumsum", "blocked"))


BUDGETS = {"smoke": Config(nade_hidden=16, made_hidden=(16,), made_masks=2, num_eval=200, eval_batch=100,
                           num_samples=4, matmul_n=256),
           "quick": Config(),
           "full": Config(made_hidden=(8000,), made_masks=32)}


def made_flops_per_image(D: int, hidden: tuple, direct: bool = False) -> int:
    sizes = [D, *hidden, D]
    f = sum(2 * a * b for a, b in zip(sizes[:-1], sizes[1:]))
    return f + (2 * D * D if direct else 0)


def main(argv=None):
    run = experiment.start("bench_images_nade_made", Config, BUDGETS, argv)
    cfg = run.cfg
    try:
        x = binarized_mnist.load("test", run.data_dir)[:cfg.num_eval]
        source = "binarized_mnist test"
    except DataFileError:
        x = np.random.default_rng(0).integers(0, 2, (cfg.num_eval, 784)).astype(np.uint8)
        source = "random binary images"
    N, D = x.shape
    ceiling = matmul_ceiling(cfg.matmul_n, cfg.repeats)
    print(f"float32 matmul ceiling ({cfg.matmul_n}^3): {ceiling:.1f} GFLOP/s; eval data: {N} {source}")
    rows = {}

    def record(name, model, params, flops_img, lp_fn, warm_fn):
        sec = timed(lp_fn, cfg.repeats, warm_fn)
        gflops = flops_img * N / sec / 1e9
        t = time.perf_counter()
        sampling.sample(model, params, jax.random.PRNGKey(0), cfg.num_samples)[0].block_until_ready()
        first = time.perf_counter() - t
        s_sec = timed(lambda: sampling.sample(model, params, jax.random.PRNGKey(1), cfg.num_samples)[0]
                      .block_until_ready(), cfg.repeats, warm=lambda: None)  # compiled by the first call
        rows[name] = {"eval_images_per_s": round(N / sec, 1), "eval_seconds": round(sec, 3),
                      "gflops_per_s": round(gflops, 2), "fraction_of_matmul_ceiling": round(gflops / ceiling, 4),
                      "sample_ms_per_image": round(1e3 * s_sec / cfg.num_samples, 3),
                      "sample_first_call_s_incl_compile": round(first, 2)}
        print(f"{name:>16}: eval {N / sec:9.1f} images/s, {gflops:7.2f} GFLOP/s "
              f"({100 * gflops / ceiling:5.1f}% of matmul); sampling {1e3 * s_sec / cfg.num_samples:8.3f} ms/image "
              f"(first call incl. compile {first:.1f} s)", flush=True)

    key = jax.random.PRNGKey(0)
    for prefix in cfg.nade_prefixes:
        m = nade.build(seq_len=D, hidden_size=cfg.nade_hidden, prefix=prefix)
        p = m.init(key)
        record("nade" if prefix == "cumsum" else f"nade_{prefix}", m, p, nade.flops_per_image(D, cfg.nade_hidden),
               lambda: evaluate.log_prob_batched(m, p, x, batch_size=cfg.eval_batch),
               lambda: evaluate.log_prob_batched(m, p, x[:cfg.eval_batch], batch_size=cfg.eval_batch))
    mm = registry.build("made", seq_len=D, hidden_sizes=cfg.made_hidden, num_masks=cfg.made_masks,
                        order_agnostic=True, connectivity_agnostic=True)
    pm = mm.init(key)
    record("made_one_mask", mm, pm, made_flops_per_image(D, cfg.made_hidden),
           lambda: evaluate.log_prob_batched(mm, pm, x, batch_size=cfg.eval_batch),
           lambda: evaluate.log_prob_batched(mm, pm, x[:cfg.eval_batch], batch_size=cfg.eval_batch))
    ens_sec = timed(lambda: made_ensemble.per_mask_log_prob(mm, pm, x, batch_size=cfg.eval_batch), cfg.repeats,
                    lambda: made_ensemble.per_mask_log_prob(mm, pm, x[:cfg.eval_batch], batch_size=cfg.eval_batch))
    ens_gf = cfg.made_masks * made_flops_per_image(D, cfg.made_hidden) * N / ens_sec / 1e9
    rows[f"made_ensemble{cfg.made_masks}"] = {"eval_images_per_s": round(N / ens_sec, 1),
                                              "eval_seconds": round(ens_sec, 3), "gflops_per_s": round(ens_gf, 2),
                                              "fraction_of_matmul_ceiling": round(ens_gf / ceiling, 4)}
    print(f"{'made_ensemble' + str(cfg.made_masks):>16}: eval {N / ens_sec:9.1f} images/s, {ens_gf:7.2f} GFLOP/s "
          f"({100 * ens_gf / ceiling:5.1f}% of matmul)", flush=True)
    run.result(model="nade+made", dataset=source, split="test", metric="eval_images_per_s",
               value=next(iter(rows.values()))["eval_images_per_s"], unit="images/s", steps=0, params=0,
               matmul_ceiling_gflops=round(ceiling, 1), num_eval=N, rows=rows,
               device=str(jax.devices()[0].platform))


if __name__ == "__main__":
    experiment.cli(main)
