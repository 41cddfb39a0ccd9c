"""Train any registered model on a named fixed-length data set, on one or many devices / processes.

    python -m experiments.train_generic --budget=smoke --model=fvsbn --dataset=bars_and_stripes
    python -m experiments.train_generic --budget=quick --model=made --dataset=binarized_mnist \
        --data_dir=../shared/data --train.mesh=data:8
    # two processes (run each line on its own host / terminal; same coordinator everywhere)
    python -m experiments.train_generic --coordinator=10.0.0.1:1234 --num_processes=2 --process_id=0 ...
    python -m experiments.train_generic --coordinator=10.0.0.1:1234 --num_processes=2 --process_id=1 ...

Model keyword arguments: the model's registered tiny config, with ``seq_len``
set to the data's dimension, updated by ``--model_args='{"k": v}'`` (JSON).
Writes ``params.npz`` (final parameters) into the run directory.
"""
import dataclasses
import json
import os
import time

import numpy as np

from experiments import at_least, check_image_data, image_splits, within
from jax_ar import distributed, experiment
from jax_ar.errors import ConfigError
from jax_ar.train import TrainConfig


@dataclasses.dataclass(frozen=True)
class Config:
    model: str = "fvsbn"
    model_args: str = ""               # JSON object of extra build kwargs
    dataset: str = "bars_and_stripes"  # or binarized_mnist
    bas_n: int = 3
    num_train: int = 512               # first N training examples (0 = all)
    coordinator: str = ""              # host:port of process 0, or "auto" (TPU pods, SLURM, MPI)
    num_processes: int = 1
    process_id: int = 0
    train: TrainConfig = TrainConfig()

    def validate(self):
        check_image_data(self)
        at_least(self, 0, "num_train")
        if self.coordinator != "auto":                # "auto" reads both from the cluster
            at_least(self, 1, "num_processes")
            within(self, "process_id", 0, self.num_processes - 1)
        try:
            extra = json.loads(self.model_args) if self.model_args else {}
        except json.JSONDecodeError as e:
            raise ConfigError(f"--model_args must be a JSON object, got {self.model_args!r}: {e}") from None
        if not isinstance(extra, dict):
            raise ConfigError(f"--model_args must be a JSON object, got {self.model_args!r}")


BUDGETS = {
    "smoke": Config(train=TrainConfig(steps=20, batch_size=32, lr=0.05, eval_every=10, ckpt_every=5,
                                      log_every=1)),
    "quick": Config(train=TrainConfig(steps=2000, batch_size=64, lr=3e-3, eval_every=500, ckpt_every=500)),
    "full": Config(num_train=0, train=TrainConfig(steps=20000, batch_size=100, lr=3e-3, schedule="cosine",
                                                  eval_every=1000, ckpt_every=1000)),
}

HANG_ENV = "JAX_AR_TEST_HANG_AFTER_STEP"  # test hook: stop dead after this step (crash tests kill us there)


def flat_params(params) -> dict:
    import jax
    leaves = jax.tree_util.tree_flatten_with_path(params)[0]
    return {jax.tree_util.keystr(k): np.asarray(v) for k, v in leaves}


def main(argv=None):
    run = experiment.start("train_generic", Config, BUDGETS, argv)
    cfg = run.cfg
    distributed.initialize(cfg.coordinator, cfg.num_processes, cfg.process_id)  # before any device use

    from jax_ar import evaluate
    from jax_ar.contract import param_count
    from jax_ar.data.batching import ArrayData
    from jax_ar.models import registry
    from jax_ar.train import fit

    spec, x_train, x_valid, x_test = image_splits(cfg, run.data_dir, train_limit=cfg.num_train)
    extra = json.loads(cfg.model_args) if cfg.model_args else {}   # a JSON object (Config.validate)
    kwargs = {**registry.entry(cfg.model).tiny, "seq_len": int(x_train.shape[1]), **extra}
    run.describe(model=cfg.model, model_kwargs=kwargs, dataset=spec)
    model = registry.build(cfg.model, **kwargs)

    on_step = None
    if os.environ.get(HANG_ENV):
        hang_at = int(os.environ[HANG_ENV])

        def on_step(step):
            if step == hang_at:
                (run.dir / "hanging").write_text(str(step))
                while True:
                    time.sleep(60)

    res = fit(model, cfg.train, ArrayData(x_train), x_valid, workdir=run.dir, resume=run.resume,
              progress=False, on_step=on_step)
    params, best = distributed.to_host(res.params), distributed.to_host(res.best_params)
    test = evaluate.evaluate(model, best, x_test)
    losses = [r["loss"] for r in res.history if "loss" in r]
    if not distributed.is_main_process():  # process 0 writes the files and the RESULT line
        print(f"process {cfg.process_id} done: steps={res.steps} final_loss={losses[-1] if losses else None}")
        return
    np.savez(run.path("params.npz"), **flat_params(params))
    run.result(model=cfg.model, dataset=cfg.dataset, split="test", metric="nll",
               value=round(test["nll_nats"], 4), unit="nats/example", steps=res.steps,
               params=param_count(best), final_loss=losses[-1] if losses else None,
               processes=cfg.num_processes, mesh=cfg.train.mesh)


if __name__ == "__main__":
    experiment.cli(main)
