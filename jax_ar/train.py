"""The trainer, written once against the model contract.

``fit(model, cfg, train_data, valid_x, ...)`` runs a jitted, state-donating
``train_step`` under a tqdm bar, evaluates on the validation set every
``eval_every`` steps (keeping the best params), checkpoints with orbax every
``ckpt_every`` steps, resumes exactly (params, optimizer state, step, PRNG
key and, because batches are a function of the step, data position), and
stops with a clear error on a non-finite loss, keeping the last good
checkpoint.
"""
from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path
from typing import Any, Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jax_ar import checkpoint, distributed, evaluate
from jax_ar.data.batching import ArrayData, WindowData  # noqa: F401  (re-exported)
from jax_ar.config import at_least
from jax_ar.errors import ConfigError, JaxArError
from jax_ar.optim import make_optimizer


class TrainingDivergedError(JaxArError):
    """The loss or gradient became NaN/Inf."""


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    steps: int = 1000
    batch_size: int = 64
    optimizer: str = "adam"          # adam | adamw | sgd
    lr: float = 1e-3
    schedule: str = "constant"       # constant | cosine | linear (after warm-up)
    warmup_steps: int = 0
    min_lr_ratio: float = 0.1
    b1: float = 0.9
    b2: float = 0.999
    weight_decay: float = 0.0
    decay: str = "all"               # AdamW decays: all | matrices (>= 2-D params only, as nanoGPT)
    clip_norm: float = 0.0           # 0 = no clipping
    eval_every: int = 500
    ckpt_every: int = 500
    keep: int = 2                    # latest checkpoints kept
    log_every: int = 50
    eval_batch_size: int = 1000
    seed: int = 0
    compute_dtype: str = "float32"   # float32 | bfloat16 (params stay float32)
    mesh: str = ""                   # "" (one device), "data:N" (data parallel) or "data:N,fsdp:M"

    def validate(self):
        at_least(self, 1, "steps batch_size eval_every ckpt_every log_every keep eval_batch_size")
        at_least(self, 0, "seed")
        if not self.lr > 0:
            raise ConfigError(f"lr must be > 0, got {self.lr}")
        if self.decay not in ("all", "matrices"):
            raise ConfigError(f"decay must be all or matrices, got {self.decay!r}")
        if self.compute_dtype not in ("float32", "bfloat16"):
            raise ConfigError(f"compute_dtype must be float32 or bfloat16, got {self.compute_dtype!r}")
        # checked here (before a run directory is written), not first when training starts
        if self.optimizer not in ("adam", "adamw", "sgd"):
            raise ConfigError(f"unknown optimizer {self.optimizer!r}; choose adam, adamw or sgd")
        if self.schedule not in ("constant", "cosine", "linear"):
            raise ConfigError(f"unknown schedule {self.schedule!r}; choose constant, cosine or linear")
        if self.mesh:
            n_dev = math.prod(distributed.parse_mesh(self.mesh).values())
            if self.batch_size % n_dev:
                raise ConfigError(f"batch_size {self.batch_size} must be divisible by the {n_dev} devices "
                                  f"of mesh {self.mesh!r}")


@dataclasses.dataclass
class TrainResult:
    params: Any
    best_params: Any
    best_valid_nll: float
    best_step: int
    steps: int
    seconds: float
    history: list


def default_loss(model):
    """Mean NLL per element (nats) of a batch, by teacher forcing."""
    def loss_fn(params, x, cond, key):
        return -jnp.mean(model.log_prob(params, x, cond)) / model.seq_len
    return loss_fn


def _cast_params(params, dtype):
    return jax.tree_util.tree_map(
        lambda a: a.astype(dtype) if jnp.issubdtype(a.dtype, jnp.floating) else a, params)


def make_mesh(spec: str):
    """``"data:N"`` or ``"data:N,fsdp:M"`` -> (Mesh, batch sharding, replicated sharding)."""
    mesh = distributed.make_mesh(spec)
    return mesh, distributed.batch_sharding(mesh), distributed.replicated(mesh)


def make_train_step(model, cfg: TrainConfig, opt, loss_fn, state_sharding=None, replicated=None):
    dtype = jnp.bfloat16 if cfg.compute_dtype == "bfloat16" else jnp.float32

    def step_fn(state, x, cond):
        key = jax.random.fold_in(state["key"], state["step"])
        f = lambda p: loss_fn(_cast_params(p, dtype) if dtype != jnp.float32 else p, x, cond, key)
        loss, grads = jax.value_and_grad(f)(state["params"])
        loss = loss.astype(jnp.float32)
        gnorm = optax.global_norm(grads)
        updates, opt_state = opt.update(grads, state["opt_state"], state["params"])
        params = optax.apply_updates(state["params"], updates)
        ok = jnp.isfinite(loss) & jnp.isfinite(gnorm)
        new = {"params": params, "opt_state": opt_state, "step": state["step"] + 1, "key": state["key"]}
        # a non-finite step leaves the state untouched (the host then stops)
        new = jax.tree_util.tree_map(lambda n, o: jnp.where(ok, n, o), new, state)
        return new, {"loss": loss, "grad_norm": gnorm, "ok": ok}

    if state_sharding is None:
        return jax.jit(step_fn, donate_argnums=0)
    # keep the state's layout fixed from step to step; metrics are replicated scalars
    return jax.jit(step_fn, donate_argnums=0, out_shardings=(state_sharding, replicated))


def fit(model, cfg: TrainConfig, train_data, valid_x=None, valid_cond=None, *,
        workdir=None, resume: bool = False, loss_fn: Optional[Callable] = None,
        init_params=None, progress: bool = True, valid_fn: Optional[Callable] = None,
        on_step: Optional[Callable[[int], None]] = None) -> TrainResult:
    """Train ``model`` on ``train_data`` (an object with ``batch(step, batch_size, seed)``).

    valid_x: examples for validation NLL (nats per example), used to keep the
    best params; or pass ``valid_fn(params) -> nll`` for custom validation.
    ``on_step(step)`` runs after each completed step (and its checkpoint, if any).
    """
    cfg.validate()
    t0 = time.time()
    k_init, k_train = jax.random.split(jax.random.PRNGKey(cfg.seed))
    params = init_params if init_params is not None else model.init(k_init)
    if not all(jnp.issubdtype(a.dtype, jnp.floating) for a in jax.tree_util.tree_leaves(params)):
        raise ConfigError(f"{type(model).__name__} has non-floating-point parameters: it is not trained by "
                          f"gradient descent (count-based models such as n-grams are fitted by counting)")
    if valid_x is not None and hasattr(model, "check_input"):
        model.check_input(valid_x, valid_cond)      # a clear error now, not an XLA one at the first evaluation
    opt, sched = make_optimizer(cfg)
    state = {"params": params, "opt_state": opt.init(params), "step": jnp.asarray(0, jnp.int32),
             "key": k_train}
    mesh_sh = make_mesh(cfg.mesh) if cfg.mesh else None
    state_sh = None
    if mesh_sh is not None:
        n_dev = mesh_sh[0].devices.size
        if cfg.batch_size % n_dev:
            raise ConfigError(f"batch_size {cfg.batch_size} must be divisible by the {n_dev} devices "
                              f"of mesh {cfg.mesh!r}")
        state_sh = {"params": distributed.state_shardings(state["params"], mesh_sh[0]),
                    "opt_state": distributed.state_shardings(state["opt_state"], mesh_sh[0]),
                    "step": mesh_sh[2], "key": mesh_sh[2]}
        state = distributed.put_global(state, state_sh)
    main_proc = distributed.is_main_process()
    ckpt = checkpoint.Checkpointer(workdir, cfg.keep) if workdir is not None else None
    if ckpt is not None:
        # the template carries the target shardings: a checkpoint written on any
        # number of devices is restored onto this run's mesh
        got = ckpt.resume_state(state, resume)
        if got is not None:
            state = got[1]
    custom_loss = loss_fn
    loss_fn = loss_fn or default_loss(model)
    train_step = make_train_step(model, cfg, opt, loss_fn, state_sh, None if mesh_sh is None else mesh_sh[2])
    if valid_fn is None and valid_x is not None:
        def valid_fn(p):
            if jax.process_count() > 1:  # evaluate the gathered params on this process's devices
                p = distributed.to_host(p)
            lp = evaluate.log_prob_batched(model, p, valid_x, valid_cond, batch_size=cfg.eval_batch_size)
            return -float(np.mean(lp))
    metrics_file = open(Path(workdir) / "metrics.jsonl", "a") if workdir is not None and main_proc else None
    history = []

    def log(rec):
        history.append(rec)
        if metrics_file:
            metrics_file.write(json.dumps(rec) + "\n")
            metrics_file.flush()

    best = {"nll": float("inf"), "step": -1, "params": None}
    if resume and ckpt is not None and ckpt.best.latest_step() is not None:
        b_step, b_params = ckpt.restore_best(state["params"])
        best.update(params=b_params, step=b_step,
                    nll=float(valid_fn(b_params)) if valid_fn else float("inf"))

    def do_eval(step):
        if valid_fn is None:
            return
        v = float(valid_fn(state["params"]))
        log({"step": step, "valid_nll": v, "time": time.time() - t0})
        if v < best["nll"]:
            best.update(nll=v, step=step, params=jax.tree_util.tree_map(lambda a: a.copy(), state["params"]))
            if ckpt is not None:
                ckpt.save_best(step, state["params"])

    start = int(state["step"])
    bar = None
    if progress and main_proc:
        from tqdm.auto import tqdm
        bar = tqdm(total=cfg.steps, initial=start, desc="train", dynamic_ncols=True, mininterval=1.0)
    step = start
    try:
        while step < cfg.steps:
            x, cond = train_data.batch(step, cfg.batch_size, cfg.seed)
            if step == start and custom_loss is None and hasattr(model, "check_input"):
                model.check_input(x, cond)          # the data meets the model (inside jit nothing checks)
            x = jnp.asarray(x).astype(model.input_dtype)
            cond = None if cond is None else jnp.asarray(cond, jnp.int32)
            if mesh_sh is not None:  # every process holds the global batch; each sends its own rows
                x = distributed.put_global(x, mesh_sh[1])
                cond = None if cond is None else distributed.put_global(cond, mesh_sh[1])
            state, m = train_step(state, x, cond)
            if not bool(m["ok"]):
                last = ckpt.steps()[-1] if ckpt is not None and ckpt.steps() else None
                raise TrainingDivergedError(
                    f"non-finite loss/gradient at step {step} (loss={float(m['loss'])}); training stopped"
                    + (f"; the last good checkpoint (step {last}) is kept in {workdir}" if last is not None
                       else "") + ". Try a lower --train.lr or --train.clip_norm=1.0")
            step += 1
            if bar is not None:
                bar.update(1)
            if step % cfg.log_every == 0 or step == cfg.steps:
                rec = {"step": step, "loss": float(m["loss"]), "grad_norm": float(m["grad_norm"]),
                       "lr": float(sched(step)), "time": time.time() - t0}
                log(rec)
                if bar is not None:
                    bar.set_postfix(loss=f"{rec['loss']:.4f}")
            if step % cfg.eval_every == 0 or step == cfg.steps:
                do_eval(step)
            if ckpt is not None and (step % cfg.ckpt_every == 0 or step == cfg.steps):
                ckpt.save(step, state)
            if on_step is not None:
                on_step(step)
    finally:
        if bar is not None:
            bar.close()
        if metrics_file:
            metrics_file.close()
        if ckpt is not None:
            ckpt.close()
    if best["params"] is None:
        best.update(params=state["params"], step=step)
    return TrainResult(state["params"], best["params"], best["nll"], best["step"], step,
                       time.time() - t0, history)
