"""PixelCNN / Gated PixelCNN (optionally class-conditional) on binarized MNIST (or bars-and-stripes).

    python -m experiments.pixelcnn --budget=quick --data_dir=../shared/data
    python -m experiments.pixelcnn --budget=quick --gated=true
    python -m experiments.pixelcnn --budget=quick --gated=true --num_classes=10

The checkpoint is chosen on the validation split (the first ``valid_limit``
images when set); the reported figure is the test NLL in nats per image.
The fixed-binarization files carry no digit labels, so the conditional model
is conditioned on k-means cluster ids of the training images (10 clusters,
found once with a fixed seed; validation/test images get their nearest
centre); its sample grid has one row per cluster.  ``--dataset=bars_and_stripes``
(``--bas_n=N``: N x N images, exact entropy known; the smoke budget's data) needs
no data files.
"""
import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from experiments import at_least, check_image_data, image_splits
from jax_ar import evaluate, experiment, images, sampling
from jax_ar.contract import param_count
from jax_ar.data import registry as data_registry
from jax_ar.data.batching import ArrayData
from jax_ar.errors import ConfigError
from jax_ar.models import registry
from jax_ar.train import TrainConfig, fit


@dataclasses.dataclass(frozen=True)
class Config:
    dataset: str = "binarized_mnist"   # or bars_and_stripes (embedded synthetic data, bas_n x bas_n)
    bas_n: int = 4
    gated: bool = False
    num_classes: int = 0          # gated only; > 0: conditional on k-means cluster ids
    features: int = 16
    depth: int = 4                # residual blocks (PixelCNN) or gated layers (Gated PixelCNN)
    first_kernel: int = 7
    kernel: int = 3
    head_features: int = 32
    train_limit: int = 0          # 0 = all 50,000
    valid_limit: int = 0          # 0 = all 10,000
    test_limit: int = 0           # 0 = all 10,000 (only smoke runs limit it)
    num_samples: int = 64
    kmeans_iters: int = 15
    train: TrainConfig = TrainConfig()

    def validate(self):
        check_image_data(self)
        at_least(self, 1, "features first_kernel kernel head_features num_samples")
        at_least(self, 1 if self.gated else 0, "depth")
        at_least(self, 0, "num_classes train_limit valid_limit test_limit kmeans_iters")
        if self.num_classes and not self.gated:
            raise ConfigError(f"num_classes={self.num_classes} needs --gated=true (only Gated PixelCNN is conditional)")
        if self.num_classes and self.train_limit:
            at_least(self, self.num_classes, "train_limit")   # k-means picks num_classes distinct images


BUDGETS = {
    "smoke": Config(dataset="bars_and_stripes", features=4, depth=1, first_kernel=3, head_features=8, train_limit=256, valid_limit=64,
                    test_limit=64, num_samples=4, kmeans_iters=2,
                    train=TrainConfig(steps=4, batch_size=16, lr=1e-3, eval_every=2, ckpt_every=2,
                                      log_every=2, eval_batch_size=64)),
    "quick": Config(features=16, depth=4, valid_limit=1000,
                    train=TrainConfig(steps=400, batch_size=32, lr=2e-3, schedule="cosine", warmup_steps=20,
                                      eval_every=200, ckpt_every=200, eval_batch_size=500)),
    "full": Config(features=64, depth=15, head_features=256,
                   train=TrainConfig(steps=100000, batch_size=64, lr=1e-3, schedule="cosine", warmup_steps=1000,
                                     clip_norm=1.0, eval_every=5000, ckpt_every=5000, eval_batch_size=1000)),
}


def kmeans_labels(x_train, k: int, iters: int, seed: int = 0):
    """k-means centres of binary images (Lloyd's algorithm, numpy); returns (labels, centres)."""
    rng = np.random.default_rng(seed)
    x = x_train.astype(np.float32)
    centres = x[rng.choice(len(x), k, replace=False)]
    for _ in range(iters):
        labels = nearest(x, centres)
        centres = np.stack([x[labels == c].mean(0) if (labels == c).any() else centres[c] for c in range(k)])
    return nearest(x, centres), centres


def nearest(x, centres):
    x = x.astype(np.float32)
    d = (x * x).sum(1)[:, None] - 2.0 * x @ centres.T + (centres * centres).sum(1)[None, :]
    return d.argmin(1).astype(np.int32)


def main(argv=None):
    run = experiment.start("pixelcnn", Config, BUDGETS, argv)
    cfg = run.cfg
    spec, x_train, x_valid, x_test = image_splits(cfg, run.data_dir, train_limit=cfg.train_limit,
                                                  valid_limit=cfg.valid_limit)
    x_test = x_test[:cfg.test_limit or None]
    H, W = data_registry.info(spec)["shape"]
    c_train = c_valid = c_test = None
    if cfg.num_classes:
        c_train, centres = kmeans_labels(x_train, cfg.num_classes, cfg.kmeans_iters, cfg.train.seed)
        c_valid, c_test = nearest(x_valid, centres), nearest(x_test, centres)
        images.save_png_grid(centres.reshape(-1, H, W), run.path("cluster_centres.png"), scale=3)

    name = ("gated_pixelcnn_conditional" if cfg.num_classes else "gated_pixelcnn") if cfg.gated else "pixelcnn"
    kwargs = dict(height=H, width=W, features=cfg.features, first_kernel=cfg.first_kernel, kernel=cfg.kernel,
                  head_features=cfg.head_features)
    kwargs["num_layers" if cfg.gated else "num_blocks"] = cfg.depth
    if cfg.num_classes:
        kwargs["num_classes"] = cfg.num_classes
    run.describe(model=name, model_kwargs=kwargs, dataset=spec,
                 labels="k-means cluster ids" if cfg.num_classes else None)
    model = registry.build(name, **kwargs)

    res = fit(model, cfg.train, ArrayData(x_train, c_train), x_valid, c_valid, workdir=run.dir, resume=run.resume)
    test = evaluate.evaluate(model, res.best_params, x_test, c_test, batch_size=cfg.train.eval_batch_size)

    key = jax.random.PRNGKey(cfg.train.seed + 1)
    if cfg.num_classes:
        per = max(cfg.num_samples // cfg.num_classes, 1)
        cond = jnp.repeat(jnp.arange(cfg.num_classes, dtype=jnp.int32), per)
        xs, _ = sampling.sample(model, res.best_params, key, int(cond.shape[0]), cond=cond)
        images.save_png_grid(np.asarray(xs).reshape(-1, H, W), run.path("samples_by_class.png"), ncols=per,
                             scale=3)
    else:
        xs, _ = sampling.sample(model, res.best_params, key, cfg.num_samples)
        images.save_png_grid(np.asarray(xs).reshape(-1, H, W), run.path("samples.png"), scale=3)

    true_nll = data_registry.true_nll(spec)
    extra = ({"paper_nll": 81.30} if true_nll is None else
             {"true_nll": round(true_nll, 4), "gap_to_true": round(test["nll_nats"] - true_nll, 4)})
    run.result(model=name, dataset=cfg.dataset, split="test", metric="nll",
               value=round(test["nll_nats"], 3), unit="nats/example", steps=res.steps,
               params=param_count(res.best_params), best_step=res.best_step,
               valid_nll=round(res.best_valid_nll, 3), valid_images=len(x_valid), test_images=len(x_test),
               bits_per_dim=round(test["bits_per_dim"], 4), train_seconds=round(res.seconds, 1), **extra)


if __name__ == "__main__":
    experiment.cli(main)
