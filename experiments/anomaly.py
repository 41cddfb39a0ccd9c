"""Likelihood-based anomaly detection and PixelDefend-style purification on binarized MNIST.

    python -m experiments.anomaly --budget=quick --data_dir=../shared/data

Trains a MADE (exact log-likelihood), scores test digits against anomaly sets (Bernoulli noise at
the data's pixel density, flipped / inverted / shifted digits, random and adversarial pixel flips
against a small MLP classifier trained here) by raw NLL, by a likelihood ratio against the
independent-Bernoulli background model, by a typicality test and by input complexity (NLL minus the
zlib-compressed length); writes the AUROC table
(auroc.md), example PNGs per anomaly type, and the classifier's accuracy before and after
purification.  The MNIST files have no labels: the classifier learns k-means cluster ids.
"""
import dataclasses

import jax
import numpy as np

from experiments import at_least, check_image_data, image_splits, within
from jax_ar import experiment, images
from jax_ar.anomaly import attack, classifier, pipeline, purify, scores
from jax_ar.contract import param_count
from jax_ar.data import registry as data_registry
from jax_ar.data.batching import ArrayData
from jax_ar.models import made, registry
from jax_ar.models.bernoulli import fit_mle
from jax_ar.train import TrainConfig, fit


@dataclasses.dataclass(frozen=True)
class Config:
    dataset: str = "binarized_mnist"     # or bars_and_stripes (synthetic, n x n; no data files needed)
    bas_n: int = 6
    hidden_sizes: tuple[int, ...] = (500,)
    train_limit: int = 0
    num_test: int = 1000                  # test digits scored (random subset) (and anomalies of each type)
    shift_px: int = 3                     # shift down and right by this many pixels
    adv_pixels: int = 20                  # pixels flipped by the attack (and by the random-flip control)
    adv_rounds: int = 5
    num_clusters: int = 10                # k-means pseudo-labels for the classifier
    cluster_limit: int = 10000
    clf_hidden: tuple[int, ...] = (256,)
    clf_steps: int = 1500
    purify_budget: int = 20               # pixels purification may change
    purify_per_round: int = 2
    num_examples: int = 16
    train: TrainConfig = TrainConfig()

    def validate(self):
        check_image_data(self)
        side = 28 if self.dataset == "binarized_mnist" else self.bas_n
        at_least(self, 0, "train_limit purify_budget")
        at_least(self, 1, "hidden_sizes num_test adv_rounds clf_hidden clf_steps purify_per_round num_examples")
        within(self, "shift_px", 1, max(side - 1, 1))
        within(self, "adv_pixels", 0, side * side)
        at_least(self, 2, "num_clusters")          # k-means needs as many training images as clusters
        at_least(self, self.num_clusters, "cluster_limit" + (" train_limit" if self.train_limit else ""))


BUDGETS = {
    "smoke": Config(dataset="bars_and_stripes", hidden_sizes=(32,), num_test=200, shift_px=1, adv_pixels=2,
                    adv_rounds=2, num_clusters=4, cluster_limit=1000, clf_hidden=(32,), clf_steps=100,
                    purify_budget=2, purify_per_round=1, num_examples=8,
                    train=TrainConfig(steps=100, batch_size=32, lr=0.01, eval_every=50, ckpt_every=100)),
    "quick": Config(train=TrainConfig(steps=2000, batch_size=100, lr=1e-3, schedule="cosine", warmup_steps=100,
                                      eval_every=500, ckpt_every=500)),
    "full": Config(num_test=10000, train=TrainConfig(steps=50000, batch_size=100, lr=1e-3, schedule="cosine",
                                                     warmup_steps=1000, eval_every=5000, ckpt_every=5000)),
}


def main(argv=None):
    run = experiment.start("anomaly", Config, BUDGETS, argv)
    cfg = run.cfg
    spec, x_train, x_valid, x_test = image_splits(cfg, run.data_dir, train_limit=cfg.train_limit)
    # random subsets: the MNIST test file is sorted by digit
    x_valid, x_test = pipeline.subsample(x_valid, cfg.num_test, 1), pipeline.subsample(x_test, cfg.num_test, 2)
    shape, D = data_registry.info(spec)["shape"], x_train.shape[1]

    # 1. the likelihood model (MADE, one raster-order mask) and the background model
    kwargs = {"seq_len": D, "hidden_sizes": list(cfg.hidden_sizes)}
    run.describe(model="made", model_kwargs=kwargs, dataset=spec)
    model = registry.build("made", **kwargs)
    init = made.init_from_data(model, jax.random.PRNGKey(cfg.train.seed), x_train)
    res = fit(model, cfg.train, ArrayData(x_train), x_valid, workdir=run.dir, resume=run.resume, init_params=init)
    bg_model, bg_params = registry.build("bernoulli", seq_len=D), fit_mle(x_train)
    nll_fn = lambda x: scores.nll(model, res.best_params, x)
    bg_fn = lambda x: scores.nll(bg_model, bg_params, x)

    # 2. classifier on k-means pseudo-labels, and the adversarial flips against it
    lab, centres = classifier.kmeans_labels(x_train[:cfg.cluster_limit], cfg.num_clusters, seed=cfg.train.seed)
    net, cp = classifier.train(x_train[:cfg.cluster_limit], lab, hidden=cfg.clf_hidden,
                               num_classes=cfg.num_clusters, steps=cfg.clf_steps, seed=cfg.train.seed)
    y_test = np.argmin(((x_test[:, None, :] - centres[None]) ** 2).sum(-1), 1)   # nearest k-means centre
    x_adv = attack.flip_attack(net, cp, x_test, classifier.predict(net, cp, x_test), cfg.adv_pixels,
                               rounds=cfg.adv_rounds)

    # 3. score every set, AUROC per anomaly type and score
    sets = {"test": x_test, **pipeline.image_anomalies(
        x_test, shape, density=float(x_train.mean()), shift_px=cfg.shift_px, random_flips=cfg.adv_pixels,
        seed=cfg.train.seed), f"adversarial_{cfg.adv_pixels}_flips": x_adv}
    scored = pipeline.score_sets(nll_fn, bg_fn, sets, nll_fn(x_valid))
    table = pipeline.auroc_table(scored)
    md = pipeline.markdown_table(table, scored)
    run.path("auroc.md").write_text(md)
    print(md)
    ex = np.linspace(0, len(x_test) - 1, cfg.num_examples).astype(int)   # spread over the digit-sorted file
    for name, x in sets.items():
        images.save_png_grid(x[ex].reshape(-1, *shape), run.path(f"examples_{name}.png"), scale=3)

    # 4. PixelDefend-style purification of the adversarial (and clean) digits
    x_pur, _ = purify.purify(model, res.best_params, x_adv, budget=cfg.purify_budget, per_round=cfg.purify_per_round)
    x_pur_clean, _ = purify.purify(model, res.best_params, x_test, budget=cfg.purify_budget,
                                   per_round=cfg.purify_per_round)
    acc = {k: round(classifier.accuracy(net, cp, x, y_test), 4) for k, x in
           (("clean", x_test), ("adversarial", x_adv), ("purified_adversarial", x_pur),
            ("purified_clean", x_pur_clean))}
    nll_pur = nll_fn(x_pur)
    images.save_png_grid(np.concatenate([x_test[ex], x_adv[ex], x_pur[ex]]).reshape(-1, *shape),
                         run.path("purification.png"), ncols=len(ex), scale=3)
    print("classifier accuracy (k-means labels):", acc)
    mean_lr = float(np.mean([t["likelihood_ratio"] for t in table.values()]))
    run.result(model="made", dataset=cfg.dataset, split="test", metric="mean_auroc_likelihood_ratio",
               value=round(mean_lr, 4), unit="auroc", steps=res.steps, params=param_count(res.best_params),
               test_nll=round(float(scored["test"]["model_nll"].mean()), 3),
               auroc={n: {s: round(v, 4) for s, v in t.items()} for n, t in table.items()},
               mean_auroc_nll=round(float(np.mean([t["nll"] for t in table.values()])), 4),
               mean_auroc_typicality=round(float(np.mean([t["typicality"] for t in table.values()])), 4),
               mean_auroc_complexity=round(float(np.mean([t["complexity"] for t in table.values()])), 4),
               classifier_accuracy=acc, purified_adversarial_nll=round(float(nll_pur.mean()), 3),
               adversarial_nll=round(float(scored[f"adversarial_{cfg.adv_pixels}_flips"]["model_nll"].mean()), 3),
               num_test=len(x_test))


if __name__ == "__main__":
    experiment.cli(main)
