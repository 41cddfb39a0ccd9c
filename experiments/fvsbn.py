"""FVSBN and the independent-Bernoulli baseline on binarized MNIST (or bars-and-stripes).

    python -m experiments.fvsbn --budget=quick --data_dir=../shared/data
"""
import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from experiments import at_least, check_image_data, image_splits
from jax_ar import evaluate, experiment, images, sampling
from jax_ar.data.batching import ArrayData
from jax_ar.train import TrainConfig, fit
from jax_ar.contract import param_count
from jax_ar.data import registry as data_registry
from jax_ar.models import fvsbn, registry
from jax_ar.models.bernoulli import fit_mle


@dataclasses.dataclass(frozen=True)
class Config:
    dataset: str = "binarized_mnist"   # or bars_and_stripes (embedded synthetic data, n x n)
    bas_n: int = 4
    train_limit: int = 0               # use only the first N training images (0 = all)
    num_samples: int = 64
    l2: float = 0.0                    # loss = NLL/D + l2/2 ||W||^2 + l1 sum c r(W) (models.fvsbn.weight_penalty)
    l1: float = 0.0
    l1_radius: float = 0.0             # > 0: L1 cost c = 1 + pixel distance / l1_radius (0: plain L1)
    l1_log_scale: float = 0.0          # > 0: the L1 term becomes l1 s log(1 + |W|/s), s = l1_log_scale
    train: TrainConfig = TrainConfig()

    def validate(self):
        check_image_data(self)
        at_least(self, 0, "train_limit l2 l1 l1_radius l1_log_scale")
        at_least(self, 1, "num_samples")


BUDGETS = {
    "smoke": Config(dataset="bars_and_stripes", train=TrainConfig(steps=60, batch_size=32, lr=0.05, eval_every=30, ckpt_every=30)),
    # the best 2-core CPU configuration measured, chosen on validation (BENCHMARKS.md): a log penalty
    # l1 s log(1 + |W|/s) with slope 2e-7 and s = 0.5, no L2; Adam, cosine decay; ~5 min on 2 cores
    "quick": Config(l1=2e-7, l1_log_scale=0.5, train=TrainConfig(
        steps=60000, batch_size=100, lr=0.01, schedule="cosine", min_lr_ratio=0.01, eval_every=5000,
        ckpt_every=10000)),
    # not run: a longer schedule of the same recipe
    "full": Config(l1=2e-7, l1_log_scale=0.5, train=TrainConfig(
        steps=200000, batch_size=100, lr=0.01, schedule="cosine", min_lr_ratio=0.01, eval_every=10000,
        ckpt_every=10000)),
}


def penalized_loss(model, cfg, image_shape):
    def loss_fn(params, x, cond, key):
        nll = -jnp.mean(model.log_prob(params, x, cond)) / model.seq_len
        return nll + fvsbn.weight_penalty(params["W"], l1=cfg.l1, l2=cfg.l2, radius=cfg.l1_radius,
                                          log_scale=cfg.l1_log_scale, image_shape=image_shape)
    return loss_fn


def main(argv=None):
    run = experiment.start("fvsbn", Config, BUDGETS, argv)
    cfg = run.cfg
    spec, x_train, x_valid, x_test = image_splits(cfg, run.data_dir, train_limit=cfg.train_limit)
    D = x_train.shape[1]
    kwargs = {"seq_len": D}
    run.describe(model="fvsbn", model_kwargs=kwargs, dataset=spec)

    # independent-Bernoulli baseline: exact (add-one smoothed) MLE, no training
    bern = registry.build("bernoulli", **kwargs)
    bern_test = evaluate.evaluate(bern, fit_mle(x_train), x_test)["nll_nats"]
    print(f"independent Bernoulli (add-one MLE): test NLL {bern_test:.2f} nats")

    model = registry.build("fvsbn", **kwargs)
    shape = data_registry.info(spec)["shape"]
    res = fit(model, cfg.train, ArrayData(x_train), x_valid, workdir=run.dir, resume=run.resume,
              loss_fn=penalized_loss(model, cfg, shape))
    test = evaluate.evaluate(model, res.best_params, x_test)
    xs, _ = sampling.sample(model, res.best_params, jax.random.PRNGKey(cfg.train.seed), cfg.num_samples)
    images.save_png_grid(np.asarray(xs).reshape(-1, *shape), run.path("samples.png"))
    true = data_registry.true_nll(spec)
    run.result(model="fvsbn", dataset=cfg.dataset, split="test", metric="nll", value=round(test["nll_nats"], 3),
               unit="nats/example", steps=res.steps, params=param_count(res.best_params),
               best_step=res.best_step, valid_nll=round(res.best_valid_nll, 3),
               bernoulli_test_nll=round(bern_test, 3), bits_per_dim=round(test["bits_per_dim"], 4),
               true_nll=true, gap_to_true=None if true is None else round(test["nll_nats"] - true, 4))


if __name__ == "__main__":
    experiment.cli(main)
