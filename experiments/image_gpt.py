"""ImageGPT on binarized MNIST: a decoder-only Transformer over the 784 pixels in raster order.

    python -m experiments.image_gpt --budget=quick --data_dir=../shared/data

Vocabulary 2 (the pixel values), context 784, learned positions, BOS before
the first pixel.  Reports test NLL in nats per image on the fixed binarization
(Larochelle & Murray) and saves samples.  quick = a small model, ~9-22 min
on a 2-core CPU (536-1,340 s in BENCHMARKS.md); full = a larger model meant
for a GPU.  ``--dataset=bars_and_stripes`` (``--bas_n=N``: N x N images with a
known entropy; the smoke budget's data) needs no data files.
"""
import dataclasses

import jax
import numpy as np

from experiments import at_least, check_image_data, image_splits
from jax_ar import evaluate, experiment, host, images, sampling
from jax_ar.contract import param_count
from jax_ar.data import registry as data_registry
from jax_ar.data.batching import ArrayData
from jax_ar.models import registry
from jax_ar.train import TrainConfig, fit


@dataclasses.dataclass(frozen=True)
class Config:
    dataset: str = "binarized_mnist"   # or bars_and_stripes (embedded synthetic data, bas_n x bas_n)
    bas_n: int = 4
    num_layers: int = 2
    num_heads: int = 4
    width: int = 64
    norm: str = "pre"
    positions: str = "learned"
    matmul_dtype: str = "float32"    # or bfloat16: mixed-precision dense products (layers.mixed)
    train_limit: int = 0
    valid_limit: int = 1000          # validation images used for model selection during training
    num_samples: int = 16
    eval_batch: int = 100
    train: TrainConfig = TrainConfig(steps=300, batch_size=32, optimizer="adamw", lr=3e-3, b2=0.99,
                                     weight_decay=0.01, schedule="cosine", warmup_steps=50, min_lr_ratio=0.05,
                                     clip_norm=1.0, eval_every=150, ckpt_every=300, eval_batch_size=100)

    def validate(self):
        check_image_data(self)
        at_least(self, 1, "num_layers num_heads width valid_limit num_samples eval_batch")   # no "0 = all" here
        at_least(self, 0, "train_limit")
        registry.build("image_gpt", **self.model_kwargs())   # the model's own checks, before the run directory

    def model_kwargs(self) -> dict:
        return dict(seq_len=784 if self.dataset == "binarized_mnist" else self.bas_n ** 2, num_layers=self.num_layers, num_heads=self.num_heads, width=self.width,
                    norm=self.norm, positions=self.positions, matmul_dtype=self.matmul_dtype)


BUDGETS = {
    "smoke": Config(dataset="bars_and_stripes", num_layers=1, width=16, num_heads=2, train_limit=256, valid_limit=32, num_samples=4,
                    train=TrainConfig(steps=4, batch_size=8, eval_every=4, ckpt_every=4, eval_batch_size=32)),
    "quick": Config(),
    "full": Config(num_layers=8, num_heads=8, width=256, valid_limit=10000, num_samples=64,
                   train=TrainConfig(steps=60000, batch_size=64, optimizer="adamw", lr=1e-3, b2=0.99,
                                     weight_decay=0.01, schedule="cosine", warmup_steps=1000, min_lr_ratio=0.01,
                                     clip_norm=1.0, eval_every=5000, ckpt_every=5000, eval_batch_size=100)),
}


def main(argv=None):
    host.one_arena()       # 1-2 GB temporary buffers per step: keep them in the main heap (jax_ar.host)
    run = experiment.start("image_gpt", Config, BUDGETS, argv)
    cfg = run.cfg
    spec, x_train, x_valid, x_test = image_splits(cfg, run.data_dir, train_limit=cfg.train_limit,
                                                  valid_limit=cfg.valid_limit)
    if run.budget == "smoke":
        x_test = x_test[:64]
    kwargs = cfg.model_kwargs()
    run.describe(model="image_gpt", model_kwargs=kwargs, dataset=spec)
    model = registry.build("image_gpt", **kwargs)
    res = fit(model, cfg.train, ArrayData(x_train), x_valid, workdir=run.dir, resume=run.resume)
    test = evaluate.evaluate(model, res.best_params, x_test, batch_size=cfg.eval_batch)
    xs, _ = sampling.sample(model, res.best_params, jax.random.PRNGKey(cfg.train.seed), cfg.num_samples)
    images.save_png_grid(np.asarray(xs).reshape(-1, *data_registry.info(spec)["shape"]), run.path("samples.png"))
    print(f"test NLL {test['nll_nats']:.2f} nats/image ({x_test.shape[0]} images), "
          f"fit {res.seconds:.0f} s", flush=True)
    true_nll = data_registry.true_nll(spec)
    run.result(model="image_gpt", dataset=cfg.dataset, split=f"test ({x_test.shape[0]} images)",
               metric="nll", value=round(test["nll_nats"], 3), unit="nats/image", steps=res.steps,
               params=param_count(res.best_params), best_step=res.best_step,
               valid_nll=round(res.best_valid_nll, 3), bits_per_dim=round(test["bits_per_dim"], 4),
               fit_seconds=round(res.seconds, 1), true_nll=true_nll,
               gap_to_true=None if true_nll is None else round(test["nll_nats"] - true_nll, 4))


if __name__ == "__main__":
    experiment.cli(main)
