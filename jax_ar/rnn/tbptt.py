"""Truncated back-propagation through time over a token stream, with carried state.

The stream is cut into ``batch_size`` contiguous rows.  Each row is read in
consecutive windows of ``window`` tokens; the recurrent state at the end of
one window is the initial state of the next (so the model conditions on
everything before), but gradients stop at the window boundary.  Row ``i``
starts with the beginning-of-sequence token and a zero state, exactly like
the model contract's ``log_prob``; every epoch starts at a new random offset
so window boundaries move.

Works with any model exposing ``forward(params, inputs_BxT, state) ->
(logits_BxTxV, state)`` and ``initial_state(params, batch)`` (e.g.
:class:`jax_ar.models.rnn.CharRNNModel`).  The optimizer comes from
:func:`jax_ar.optim.make_optimizer`; with a ``workdir`` the best parameters
are saved by :class:`jax_ar.checkpoint.Checkpointer` (``best/<step>``) and
every logged record goes to ``metrics.jsonl``.  Every ``ckpt_every`` steps
the whole training state is checkpointed (``ckpt/<step>``): parameters,
optimizer state, the carried recurrent state, the position in the stream
and the epoch; ``resume=True`` continues from there and reproduces an
uninterrupted run exactly.
"""
from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path
from typing import Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jax_ar import checkpoint, errors, metrics, optim
from jax_ar.config import at_least


@dataclasses.dataclass(frozen=True)
class TBPTTConfig:
    steps: int = 1000
    batch_size: int = 32
    window: int = 64
    lr: float = 2e-3
    optimizer: str = "adam"
    schedule: str = "cosine"
    warmup_steps: int = 50
    min_lr_ratio: float = 0.1
    b1: float = 0.9
    b2: float = 0.99
    weight_decay: float = 0.0
    clip_norm: float = 1.0
    eval_every: int = 500
    eval_tokens: int = 0        # 0: the whole validation stream
    ckpt_every: int = 500       # full training-state checkpoint (for resume); also at the last step
    seed: int = 0

    def validate(self):
        at_least(self, 1, "steps batch_size window eval_every ckpt_every")
        at_least(self, 0, "eval_tokens warmup_steps seed")
        errors.check_positive(self.lr, "lr")


def check_stream(stream, vocab_size: int, name: str = "stream") -> np.ndarray:
    """A 1-D integer token stream with ids in [0, vocab_size); clear error otherwise."""
    a = np.asarray(stream)
    if a.ndim != 1:
        raise errors.ShapeError(f"{name} must be a 1-D array of token ids, got shape {a.shape}")
    if a.shape[0] < 2:
        raise errors.ShapeError(f"{name} has {a.shape[0]} tokens; need at least 2")
    errors.check_sequences(a[None, :], seq_len=a.shape[0], kind="categorical",
                           vocab_size=vocab_size, name=name)
    return a.astype(np.int32)


def stream_rows(stream: np.ndarray, batch_size: int, bos: int, offset: int = 0):
    """Cut ``stream[offset:]`` into ``batch_size`` rows: ``(inputs_BxL, targets_BxL)``.

    ``targets`` are the tokens; ``inputs`` are the same rows shifted right by
    one with ``bos`` in front (so input t is token t-1 of the row).
    """
    s = stream[offset:]
    L = s.shape[0] // batch_size
    if L < 1:
        raise errors.ConfigError(f"stream of {s.shape[0]} tokens is too short for {batch_size} rows")
    targets = s[:batch_size * L].reshape(batch_size, L)
    inputs = np.concatenate([np.full((batch_size, 1), bos, np.int32), targets[:, :-1]], axis=1)
    return inputs, targets


def _window_nll(model, params, state, inp_BxW, tgt_BxW):
    logits, state = model.forward(params, inp_BxW, state)
    nll_BxW = -model.dist.log_prob(logits, tgt_BxW)
    return nll_BxW.mean(), state


def make_train_step(model, tx):
    @jax.jit
    def train_step(params, opt_state, state, inp_BxW, tgt_BxW):
        (loss, state), grads = jax.value_and_grad(
            lambda p: _window_nll(model, p, state, inp_BxW, tgt_BxW), has_aux=True)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        gnorm = optax.global_norm(grads)
        return optax.apply_updates(params, updates), opt_state, state, loss, gnorm
    return train_step


def stream_nll(model, params, stream, *, batch_size: int = 8, window: int = 256,
               max_tokens: int = 0) -> dict:
    """Negative log-likelihood of a token stream with the state carried throughout.

    The stream (first ``max_tokens`` if > 0) is cut into ``batch_size`` rows,
    each read from BOS and a zero state; returns nats and bits per token.
    """
    stream = check_stream(stream, model.dist.vocab_size)
    if max_tokens:
        stream = stream[:max_tokens]
    inputs, targets = stream_rows(stream, batch_size, model.module.vocab_size)
    L = inputs.shape[1]
    step = _eval_step(model)
    state = model.initial_state(params, batch_size)
    total, count = 0.0, 0
    for a in range(0, L, window):
        inp, tgt = inputs[:, a:a + window], targets[:, a:a + window]
        s, state = step(params, state, jnp.asarray(inp), jnp.asarray(tgt))
        total += float(s)
        count += tgt.size
    nats = total / count
    return {"nats_per_token": nats, "bits_per_token": metrics.nats_to_bits(nats), "tokens": count}


def _eval_step(model):
    @jax.jit
    def step(params, state, inp, tgt):
        logits, state = model.forward(params, inp, state)
        return -model.dist.log_prob(logits, tgt).sum(), state
    return step


def train(model, cfg: TBPTTConfig, train_stream, valid_stream=None, *, workdir=None,
          params=None, resume: bool = False, log: Optional[Callable[[str], None]] = print):
    """Train with truncated BPTT; returns ``(best_params, history)``.

    Validation bits/token (``stream_nll``) every ``eval_every`` steps and at the
    end; the best parameters are kept (and saved under ``workdir/best``).
    A non-finite loss stops training and is recorded as ``"diverged"`` (the
    last checkpoint, from before it, is kept).  A ``workdir`` that already
    holds checkpoints is refused unless ``resume=True``, which continues from
    the newest readable one.
    """
    V = model.dist.vocab_size
    train_stream = check_stream(train_stream, V, "train_stream")
    if valid_stream is not None:
        valid_stream = check_stream(valid_stream, V, "valid_stream")
    for k in ("steps", "batch_size", "window", "ckpt_every"):
        errors.check_positive(getattr(cfg, k), k)
    tx, sched = optim.make_optimizer(cfg)
    key = jax.random.PRNGKey(cfg.seed)
    params = model.init(key) if params is None else params
    opt_state = tx.init(params)
    train_step = make_train_step(model, tx)
    rng = np.random.default_rng(cfg.seed)
    ckpt = checkpoint.Checkpointer(workdir) if workdir else None
    history = {"train": [], "valid": [], "diverged": False}
    best, best_params = math.inf, params
    inputs = targets = None
    w = cfg.window
    pos, epoch, offset, start = 0, 0, 0, 0
    state = None
    if ckpt is not None:
        template = _train_state(params, opt_state, model.initial_state(params, cfg.batch_size), 0, 0, 0, 0, math.inf)
        try:
            got = ckpt.resume_state(template, resume)
        except errors.CheckpointError:
            ckpt.close()
            raise
        if got is not None:
            r = got[1]
            params, opt_state, state = r["params"], r["opt_state"], r["rnn_state"]
            start, pos, epoch, offset = (int(r[k]) for k in ("step", "pos", "epoch", "offset"))
            best = float(r["best"])
            for _ in range(max(0, epoch - 1)):          # the epoch offsets drawn so far
                rng.integers(0, w)
            if epoch:
                inputs, targets = stream_rows(train_stream, cfg.batch_size, model.module.vocab_size, offset)
            best_params = ckpt.restore_best(params)[1] if ckpt.best.latest_step() is not None else params
            history = _read_history(Path(workdir) / "metrics.jsonl", start)
    metrics_file = open(Path(workdir) / "metrics.jsonl", "a") if workdir else None

    def record(kind, rec):
        history[kind].append(rec)
        if metrics_file:
            metrics_file.write(json.dumps({"kind": kind, **rec}) + "\n")
            metrics_file.flush()
    t0 = time.time()
    run_loss, run_n, run_gmax = 0.0, 0, 0.0

    def evaluate(step):
        nonlocal best, best_params
        if valid_stream is None:
            return
        r = stream_nll(model, params, valid_stream, max_tokens=cfg.eval_tokens)
        r.update(step=step, seconds=round(time.time() - t0, 1))
        record("valid", r)
        if r["bits_per_token"] < best:
            best, best_params = r["bits_per_token"], params
            if ckpt:
                ckpt.save_best(step, params)
        if log:
            log(f"step {step}: valid {r['bits_per_token']:.4f} bits/token ({r['seconds']} s)")

    step = start
    for step in range(start + 1, cfg.steps + 1):
        if inputs is None or pos + w > inputs.shape[1]:
            offset = int(rng.integers(0, w)) if epoch else 0
            inputs, targets = stream_rows(train_stream, cfg.batch_size, model.module.vocab_size, offset)
            state, pos, epoch = model.initial_state(params, cfg.batch_size), 0, epoch + 1
            if inputs.shape[1] < w:
                raise errors.ConfigError(f"window {w} is longer than each of the {cfg.batch_size} rows "
                                         f"({inputs.shape[1]} tokens) of the training stream")
        params, opt_state, state, loss, gnorm = train_step(
            params, opt_state, state, jnp.asarray(inputs[:, pos:pos + w]), jnp.asarray(targets[:, pos:pos + w]))
        pos += w
        loss = float(loss)
        if not math.isfinite(loss):
            history["diverged"] = True
            record("train", {"step": step, "loss": loss, "grad_norm": float(gnorm)})
            if log:
                log(f"step {step}: non-finite loss {loss}; stopping")
            break
        run_loss, run_n, run_gmax = run_loss + loss, run_n + 1, max(run_gmax, float(gnorm))
        if step % max(1, min(cfg.eval_every, 100)) == 0 or step == cfg.steps:
            record("train", {"step": step, "loss": run_loss / run_n, "grad_norm": float(gnorm),
                             "grad_norm_max": run_gmax, "lr": float(sched(step)),
                             "seconds": round(time.time() - t0, 1)})
            run_loss, run_n, run_gmax = 0.0, 0, 0.0
        if step % cfg.eval_every == 0 or step == cfg.steps:
            evaluate(step)
        if ckpt and (step % cfg.ckpt_every == 0 or step == cfg.steps):
            ckpt.save(step, _train_state(params, opt_state, state, step, pos, epoch, offset, best))
    if valid_stream is None:
        best_params = params
        if ckpt:
            ckpt.save_best(step, params)
    if ckpt:
        ckpt.close()
    if metrics_file:
        metrics_file.close()
    return best_params, history


def _train_state(params, opt_state, rnn_state, step, pos, epoch, offset, best):
    """Everything a resumed run needs (the epoch's offset rebuilds its rows)."""
    i32 = lambda v: np.asarray(v, np.int32)
    return {"params": params, "opt_state": opt_state, "rnn_state": rnn_state, "step": i32(step),
            "pos": i32(pos), "epoch": i32(epoch), "offset": i32(offset), "best": np.asarray(best, np.float64)}


def _read_history(path: Path, upto: int) -> dict:
    """The records of ``metrics.jsonl`` up to step ``upto`` (later ones are redone on resume)."""
    history = {"train": [], "valid": [], "diverged": False}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue                               # a line cut off by a crash
            kind = rec.pop("kind", None)
            if kind in history and rec.get("step", 0) <= upto:
                history[kind].append(rec)
    return history


def load_params(model, workdir):
    """Restore the best parameters saved by :func:`train` in ``workdir``."""
    template = model.init(jax.random.PRNGKey(0))
    ck = checkpoint.Checkpointer(workdir)
    try:
        return ck.restore_best(template)[1]
    finally:
        ck.close()
