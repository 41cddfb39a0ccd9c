"""Orbax checkpoints of a run directory.

Layout of a run directory::

    run.json          what was run: topic, model name + kwargs, dataset, config, code version
    ckpt/<step>/      latest training states (params, optimizer state, step, PRNG key)
    best/<step>/      params with the best validation NLL so far
    metrics.jsonl     one JSON object per logged step / evaluation

Orbax writes each checkpoint to a temporary directory and renames it when
complete, and deletes old ones only after a newer one is complete.  On
restore, an unreadable newest checkpoint is skipped with a warning naming
its step, and the newest readable one is used.
"""
from __future__ import annotations

import logging
import warnings
from pathlib import Path

import orbax.checkpoint as ocp

from jax_ar import rundir
from jax_ar.errors import CheckpointError

log = logging.getLogger(__name__)


def saved_steps(workdir) -> list[int]:
    """Steps of the training states under ``workdir/ckpt``, read from the directory names
    (orbax names a complete checkpoint by its step), without opening a manager."""
    ckpt = Path(workdir) / "ckpt"
    if not ckpt.is_dir():
        return []
    return sorted(int(p.name) for p in ckpt.iterdir() if p.is_dir() and p.name.isdigit())


def holds_checkpoints_error(workdir, steps) -> CheckpointError:
    """The refusal for a run directory that already holds checkpoints, without ``--resume``."""
    return CheckpointError(f"{str(workdir)!r} already holds checkpoints (steps {steps}); "
                           f"pass --resume to continue it, or choose a new --workdir")


def _manager(path: Path, keep: int) -> ocp.CheckpointManager:
    opts = ocp.CheckpointManagerOptions(max_to_keep=keep, create=True, enable_async_checkpointing=False)
    return ocp.CheckpointManager(path.resolve(), options=opts)


def _replace(manager: ocp.CheckpointManager, step: int, state) -> None:
    """Save ``state`` as ``step``, replacing a checkpoint of that same step: a resumed run
    redoes the steps after its last full checkpoint, and the interrupted run may already
    have saved one of them (a best-validation checkpoint).  Other steps are untouched."""
    manager.reload()
    if step in manager.all_steps():
        manager.delete(step)
    manager.save(step, args=ocp.args.StandardSave(state), force=True)
    manager.wait_until_finished()


class Checkpointer:
    def __init__(self, workdir, keep: int = 2):
        self.workdir = rundir.guard(workdir)
        self.latest = _manager(self.workdir / "ckpt", keep)
        self.best = _manager(self.workdir / "best", 1)

    # ------------------------------------------------------------ saving
    def save(self, step: int, state) -> None:
        _replace(self.latest, int(step), state)

    def save_best(self, step: int, params) -> None:
        _replace(self.best, int(step), {"params": params})

    # ----------------------------------------------------------- restoring
    def steps(self) -> list[int]:
        self.latest.reload()
        return sorted(self.latest.all_steps())

    def restore_latest(self, template):
        """(step, state) from the newest readable checkpoint, or None if there is none.

        ``template`` (arrays with shardings) says where the restored arrays go,
        so a checkpoint written on N devices restores onto any other mesh.
        Unreadable newer checkpoints are skipped with a warning naming their
        step and moved to ``corrupt/`` (so training can write that step again);
        older ones are never touched.
        """
        bad = []
        for step in reversed(self.steps()):
            try:
                state = self.latest.restore(step, args=ocp.args.StandardRestore(template))
            except Exception as e:  # corrupted or truncated checkpoint
                warnings.warn(f"checkpoint at step {step} in {self.workdir / 'ckpt'} is unreadable "
                              f"({type(e).__name__}: {str(e)[:200]}); trying an older one", stacklevel=2)
                bad.append(step)
                continue
            for b in bad:
                self._quarantine(b)
            return step, state
        return None

    def resume_state(self, template, resume: bool):
        """``(step, state)`` to continue from, or None for a fresh run.

        A directory that already holds checkpoints is refused unless ``resume``;
        with ``resume`` the newest readable checkpoint is restored (an error if
        none is readable).
        """
        existing = self.steps()
        if not existing:
            return None
        if not resume:
            raise holds_checkpoints_error(self.workdir, existing)
        got = self.restore_latest(template)
        if got is None:
            raise CheckpointError(f"no readable checkpoint in {str(self.workdir / 'ckpt')!r}")
        return got

    def _quarantine(self, step: int) -> None:
        import jax
        src = self.workdir / "ckpt" / str(step)
        dst = self.workdir / "corrupt" / f"ckpt-{step}"
        if jax.process_index() == 0 and src.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            i = 0
            while dst.exists():
                i += 1
                dst = self.workdir / "corrupt" / f"ckpt-{step}.{i}"
            src.rename(dst)
            log.warning("moved unreadable checkpoint %s to %s", src, dst)
        if jax.process_count() > 1:
            from jax.experimental import multihost_utils
            multihost_utils.sync_global_devices(f"jax_ar_quarantine_{step}")
        self.latest.reload()

    def restore_best(self, params_template):
        self.best.reload()
        step = self.best.latest_step()
        if step is None:
            raise CheckpointError(f"no best-validation checkpoint in {str(self.workdir / 'best')!r}")
        try:
            got = self.best.restore(step, args=ocp.args.StandardRestore({"params": params_template}))
        except Exception as e:
            raise CheckpointError(f"cannot restore params from {str(self.workdir / 'best')!r} "
                                  f"step {step}: {type(e).__name__}: {str(e)[:300]}") from None
        return step, got["params"]

    def close(self):
        self.latest.close()
        self.best.close()
