"""MADE (Germain et al. 2015) on binarized MNIST: one mask, and order/connectivity-agnostic
training with a test-time mask ensemble (log-mean-exp of the K masks' likelihoods).

    python -m experiments.made --budget=quick --data_dir=../shared/data            # K-mask pool
    python -m experiments.made --budget=quick_one_mask --data_dir=../shared/data   # a single fixed mask
    python -m experiments.made --budget=full_one_mask --data_dir=../shared/data    # best one-mask recipe, ~5 min

Paper figures to meet: 88.40 nats (one mask), 86.64 nats (mask ensemble).
The checkpoint is chosen on the validation NLL of the first ``valid_masks`` masks' ensemble.
"""
import dataclasses

import jax
import numpy as np

from experiments import at_least, check_image_data, image_splits, within
from jax_ar import experiment, images, sampling
from jax_ar.contract import param_count
from jax_ar.data import registry as data_registry
from jax_ar.data.batching import ArrayData
from jax_ar.models import made, made_ensemble, registry
from jax_ar.train import TrainConfig, fit


@dataclasses.dataclass(frozen=True)
class Config:
    dataset: str = "binarized_mnist"   # or bars_and_stripes (synthetic, n x n)
    bas_n: int = 4
    hidden_sizes: tuple[int, ...] = (500,)
    num_masks: int = 1                 # K, the pool drawn from per minibatch
    order_agnostic: bool = False
    connectivity_agnostic: bool = False
    direct: bool = False
    activation: str = "relu"
    mask_seed: int = 0
    valid_masks: int = 1               # ensemble size used to pick the checkpoint
    test_masks: int = 0                # ensemble size at test time (0 = all K)
    data_bias_init: bool = True        # output biases start at the logit of the pixel means
    train_limit: int = 0
    valid_limit: int = 0
    num_samples: int = 100
    train: TrainConfig = TrainConfig()

    def validate(self):
        check_image_data(self)
        at_least(self, 1, "hidden_sizes num_masks num_samples")
        at_least(self, 0, "train_limit valid_limit")
        within(self, "valid_masks", 1, self.num_masks)
        within(self, "test_masks", 0, self.num_masks)


_quick_train = TrainConfig(steps=3000, batch_size=100, lr=1e-3, schedule="cosine", warmup_steps=100,
                           eval_every=500, ckpt_every=500)
_full_train = TrainConfig(steps=100000, batch_size=100, lr=1e-3, schedule="cosine", warmup_steps=1000,
                          eval_every=5000, ckpt_every=5000)
# one mask, best measured recipe (BENCHMARKS.md): direct connection + AdamW decay 0.1 on the weight
# matrices; without them the 500-unit MADE overfits after ~15k-25k steps.  ~5 min on a 2-core CPU.
_one_mask_train = TrainConfig(steps=30000, batch_size=100, lr=1e-3, schedule="cosine", warmup_steps=1000,
                              eval_every=2500, ckpt_every=2500, optimizer="adamw", weight_decay=0.1,
                              decay="matrices")
BUDGETS = {
    "smoke": Config(dataset="bars_and_stripes", hidden_sizes=(32,), num_masks=4, order_agnostic=True,
                    connectivity_agnostic=True, valid_masks=2, num_samples=16,
                    train=TrainConfig(steps=60, batch_size=32, lr=0.01, eval_every=30, ckpt_every=30)),
    # 2-core CPU, minutes
    "quick_one_mask": Config(hidden_sizes=(500,), train=_quick_train),
    "quick": Config(hidden_sizes=(500,), num_masks=8, order_agnostic=True, connectivity_agnostic=True,
                    valid_masks=2, train=_quick_train),
    "full_one_mask": Config(hidden_sizes=(500,), direct=True, train=_one_mask_train),
    # paper scale (GPU)
    "full": Config(hidden_sizes=(8000,), num_masks=32, order_agnostic=True, connectivity_agnostic=True,
                   valid_masks=4, train=_full_train),
}


def main(argv=None):
    run = experiment.start("made", Config, BUDGETS, argv)
    cfg = run.cfg
    spec, x_train, x_valid, x_test = image_splits(cfg, run.data_dir, train_limit=cfg.train_limit,
                                                  valid_limit=cfg.valid_limit)
    kwargs = {"seq_len": x_train.shape[1], "hidden_sizes": list(cfg.hidden_sizes), "num_masks": cfg.num_masks,
              "order_agnostic": cfg.order_agnostic, "connectivity_agnostic": cfg.connectivity_agnostic,
              "direct": cfg.direct, "activation": cfg.activation, "mask_seed": cfg.mask_seed}
    run.describe(model="made", model_kwargs=kwargs, dataset=spec)
    model = registry.build("made", **kwargs)
    bs = cfg.train.eval_batch_size

    def valid_fn(p):
        lp = made_ensemble.ensemble_log_prob(model, p, x_valid, num_masks=cfg.valid_masks, batch_size=bs)
        return -float(np.mean(lp))

    init = (made.init_from_data(model, jax.random.PRNGKey(cfg.train.seed), x_train)
            if cfg.data_bias_init else None)
    res = fit(model, cfg.train, ArrayData(x_train), workdir=run.dir, resume=run.resume, init_params=init,
              loss_fn=made_ensemble.mask_sampling_loss(model), valid_fn=valid_fn)
    K = cfg.test_masks or cfg.num_masks
    lp_KxN = made_ensemble.per_mask_log_prob(model, res.best_params, x_test, num_masks=K, batch_size=bs)
    summ = made_ensemble.ensemble_summary(lp_KxN)
    ens = summ["ensemble_nll"][K]
    m0 = model.with_mask(0)
    seq, _ = sampling.sample(m0, res.best_params, jax.random.PRNGKey(cfg.train.seed), cfg.num_samples)
    shape = data_registry.info(spec)["shape"]
    images.save_png_grid(np.asarray(m0.to_image(seq)).reshape(-1, *shape), run.path("samples.png"))
    paper = {1: 88.40}.get(K, 86.64) if cfg.dataset == "binarized_mnist" else None
    run.result(model="made" if K == 1 else f"made_ensemble{K}", dataset=cfg.dataset, split="test", metric="nll",
               value=round(ens, 3), unit="nats/example", steps=res.steps, params=param_count(res.best_params),
               best_step=res.best_step, valid_nll=round(res.best_valid_nll, 3), valid_images=len(x_valid),
               mask0_nll=round(summ["mask0_nll"], 3), mean_single_mask_nll=round(summ["mean_single_mask_nll"], 3),
               ensemble_nll={k: round(v, 3) for k, v in summ["ensemble_nll"].items()}, paper_nll=paper)


if __name__ == "__main__":
    experiment.cli(main)
