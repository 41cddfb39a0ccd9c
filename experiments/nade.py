"""NADE (Larochelle & Murray 2011) on binarized MNIST: test NLL in nats, best-on-validation checkpoint.

    python -m experiments.nade --budget=quick --data_dir=../shared/data

Paper figure to meet: 88.33 nats (fixed order, 500 sigmoid hidden units).
"""
import dataclasses

import jax
import numpy as np

from experiments import at_least, check_image_data, image_splits
from jax_ar import evaluate, experiment, host, images, sampling
from jax_ar.contract import param_count
from jax_ar.data import registry as data_registry
from jax_ar.data.batching import ArrayData
from jax_ar.models import nade, registry
from jax_ar.train import TrainConfig, fit


@dataclasses.dataclass(frozen=True)
class Config:
    dataset: str = "binarized_mnist"   # or bars_and_stripes (synthetic, n x n)
    bas_n: int = 4
    hidden_size: int = 500
    activation: str = "sigmoid"
    prefix: str = "blocked"            # running-sum implementation: blocked | cumsum (the same sums; blocked
                                       # is ~3x faster on the 2-core CPU at H=500; GPU not measured)
    data_bias_init: bool = True        # output biases start at the logit of the pixel means
    train_limit: int = 0               # first N training images only (0 = all)
    valid_limit: int = 0               # first N validation images for checkpoint choice (0 = all)
    num_samples: int = 100
    train: TrainConfig = TrainConfig()

    def validate(self):
        check_image_data(self)
        at_least(self, 1, "hidden_size num_samples")
        at_least(self, 0, "train_limit valid_limit")


BUDGETS = {
    "smoke": Config(dataset="bars_and_stripes", hidden_size=16, num_samples=16,
                    train=TrainConfig(steps=60, batch_size=32, lr=0.02, eval_every=30, ckpt_every=30)),
    # 2-core CPU, a few minutes: a narrow NADE, small batches (cost per step is O(B D H))
    "quick": Config(hidden_size=100, valid_limit=2000,
                    train=TrainConfig(steps=4000, batch_size=32, lr=3e-3, schedule="cosine", warmup_steps=20,
                                      eval_every=1000, ckpt_every=1000, eval_batch_size=500)),
    # paper scale: 500 hidden units; ~10 epochs of 50k images, 43 min on the 2-core CPU (BENCHMARKS.md)
    "full": Config(hidden_size=500, valid_limit=2000,
                   train=TrainConfig(steps=15000, batch_size=32, lr=2e-3, schedule="cosine", warmup_steps=500,
                                     min_lr_ratio=0.01, eval_every=2500, ckpt_every=2500, eval_batch_size=200)),
}


def main(argv=None):
    run = experiment.start("nade", Config, BUDGETS, argv)
    cfg = run.cfg
    spec, x_train, x_valid, x_test = image_splits(cfg, run.data_dir, train_limit=cfg.train_limit,
                                                  valid_limit=cfg.valid_limit)
    host.one_arena_if_over_thread_heap(4 * cfg.train.batch_size * x_train.shape[1] * cfg.hidden_size)  # [B, D, H]
    kwargs = {"seq_len": x_train.shape[1], "hidden_size": cfg.hidden_size, "activation": cfg.activation,
              "prefix": cfg.prefix}
    run.describe(model="nade", model_kwargs=kwargs, dataset=spec)
    model = registry.build("nade", **kwargs)

    init = (nade.init_from_data(model, jax.random.PRNGKey(cfg.train.seed), x_train)
            if cfg.data_bias_init else None)
    res = fit(model, cfg.train, ArrayData(x_train), x_valid, workdir=run.dir, resume=run.resume, init_params=init)
    test = evaluate.evaluate(model, res.best_params, x_test, batch_size=cfg.train.eval_batch_size)
    xs, _ = sampling.sample(model, res.best_params, jax.random.PRNGKey(cfg.train.seed), cfg.num_samples)
    shape = data_registry.info(spec)["shape"]
    images.save_png_grid(np.asarray(xs).reshape(-1, *shape), run.path("samples.png"))
    run.result(model="nade", dataset=cfg.dataset, split="test", metric="nll", value=round(test["nll_nats"], 3),
               unit="nats/example", steps=res.steps, params=param_count(res.best_params),
               best_step=res.best_step, valid_nll=round(res.best_valid_nll, 3), valid_images=len(x_valid),
               bits_per_dim=round(test["bits_per_dim"], 4), paper_nll=88.33 if cfg.dataset == "binarized_mnist" else None)


if __name__ == "__main__":
    experiment.cli(main)
