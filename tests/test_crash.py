"""Crash safety: SIGKILL mid-run then --resume is bitwise identical to an uninterrupted run;
a damaged newest checkpoint is skipped with a warning naming its step; an interrupted save
never costs an older checkpoint."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np
import pytest

from jax_ar.checkpoint import Checkpointer
from jax_ar.data import synthetic
from jax_ar.data.batching import ArrayData
from jax_ar.models import registry
from jax_ar.train import TrainConfig, fit

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--budget=smoke", "--train.steps=16", "--train.ckpt_every=4", "--train.eval_every=4"]
X = synthetic.bars_and_stripes_dataset(3, 256)


def _env(**extra):
    return {**os.environ, "JAX_PLATFORMS": "cpu", "JAX_DEFAULT_MATMUL_PRECISION": "highest",
            "PYTHONPATH": str(ROOT), **extra}


def _train(workdir, *extra, env=None):
    return subprocess.Popen([sys.executable, "-m", "experiments.train_generic", *ARGS,
                             f"--workdir={workdir}", *extra], env=env or _env(), cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _steps(workdir):
    return sorted(int(p.name) for p in (Path(workdir) / "ckpt").iterdir() if p.name.isdigit())


def test_sigkill_then_resume_is_bitwise_identical(tmp_path):
    ref = _train(tmp_path / "ref")           # uninterrupted, same seed (runs alongside)
    crash = _train(tmp_path / "crash", env=_env(JAX_AR_TEST_HANG_AFTER_STEP="10"))
    try:
        # the child stops dead after step 10 (no timing involved): checkpoints 4 and 8 are
        # complete, 12 is not yet started
        while not (tmp_path / "crash" / "hanging").exists():
            assert crash.poll() is None, crash.communicate()[0][-3000:]
            time.sleep(0.2)
        assert _steps(tmp_path / "crash") == [4, 8]
        os.kill(crash.pid, signal.SIGKILL)
        crash.wait(timeout=60)
        assert crash.returncode == -signal.SIGKILL
        out = ref.communicate(timeout=600)[0]
        assert ref.returncode == 0, out[-3000:]
    finally:
        for p in (ref, crash):
            if p.poll() is None:
                p.kill()
    resumed = _train(tmp_path / "crash", "--resume")
    out = resumed.communicate(timeout=600)[0]
    assert resumed.returncode == 0, out[-3000:]
    assert '"steps": 16' in out
    a, b = np.load(tmp_path / "ref" / "params.npz"), np.load(tmp_path / "crash" / "params.npz")
    assert sorted(a) == sorted(b)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])   # bitwise


def _model():
    return registry.build("fvsbn", seq_len=9)


CFG = TrainConfig(steps=12, batch_size=32, lr=0.05, eval_every=4, ckpt_every=4, keep=3)


def _damage(step_dir: Path, how: str):
    files = sorted(p for p in step_dir.rglob("*") if p.is_file())
    assert files
    for f in files:
        data = f.read_bytes()
        f.write_bytes(data[: len(data) // 2] if how == "truncate" else b"\x00garbage" * 3)


@pytest.mark.parametrize("how", ["truncate", "garbage"])
def test_damaged_latest_checkpoint_resumes_from_newest_good_one(tmp_path, how):
    m = _model()
    full = fit(m, CFG, ArrayData(X), X[:64], workdir=tmp_path, progress=False)
    assert _steps(tmp_path) == [4, 8, 12]
    _damage(tmp_path / "ckpt" / "12", how)
    with pytest.warns(UserWarning, match=r"checkpoint at step 12 .* is unreadable"):
        again = fit(m, CFG, ArrayData(X), X[:64], workdir=tmp_path, resume=True, progress=False)
    assert (tmp_path / "corrupt" / "ckpt-12").is_dir()      # kept aside for inspection
    assert _steps(tmp_path) == [4, 8, 12]                   # older ones untouched, 12 rewritten
    for a, b in zip(jax.tree_util.tree_leaves(full.params), jax.tree_util.tree_leaves(again.params)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_all_checkpoints_damaged_is_a_clear_error(tmp_path):
    from jax_ar.errors import CheckpointError
    m = _model()
    fit(m, TrainConfig(**{**CFG.__dict__, "steps": 4}), ArrayData(X), None, workdir=tmp_path, progress=False)
    _damage(tmp_path / "ckpt" / "4", "garbage")
    with pytest.warns(UserWarning, match="step 4"), pytest.raises(CheckpointError, match="no readable checkpoint"):
        fit(m, CFG, ArrayData(X), None, workdir=tmp_path, resume=True, progress=False)


def test_interrupted_save_keeps_the_older_checkpoint(tmp_path, monkeypatch):
    state = {"w": np.arange(4.0, dtype=np.float32)}
    ck = Checkpointer(tmp_path, keep=1)
    ck.save(1, state)

    from orbax.checkpoint._src.path import atomicity

    async def die(self, *a, **k):  # the process "dies" after writing, before the commit rename
        raise KeyboardInterrupt("killed during save")
    monkeypatch.setattr(atomicity.AtomicRenameTemporaryPath, "finalize", die)
    with pytest.raises(KeyboardInterrupt):
        ck.save(2, {"w": np.arange(4.0, dtype=np.float32) + 1})
    monkeypatch.undo()
    ck.close()
    assert _steps(tmp_path) == [1]                           # with keep=1, step 1 is still there
    ck = Checkpointer(tmp_path, keep=1)
    step, got = ck.restore_latest(state)
    ck.close()
    assert step == 1
    np.testing.assert_array_equal(np.asarray(got["w"]), state["w"])


def test_bfloat16_nan_step_stops_with_step_number_and_keeps_checkpoint(tmp_path):
    import jax.numpy as jnp
    from jax_ar.train import TrainingDivergedError
    m = _model()

    def loss_fn(params, x, cond, key):  # params arrive in bfloat16; NaN once the biases moved
        assert params["b"].dtype == jnp.bfloat16
        base = -jnp.mean(m.log_prob(params, x, cond)) / m.seq_len
        return jnp.where(jnp.abs(params["b"].astype(jnp.float32)).sum() > 0.5, jnp.inf, base)

    cfg = TrainConfig(steps=50, batch_size=32, lr=0.05, ckpt_every=1, eval_every=100, compute_dtype="bfloat16")
    with pytest.raises(TrainingDivergedError,
                       match=r"non-finite loss/gradient at step (\d+).*last good checkpoint \(step \1\)"):
        fit(m, cfg, ArrayData(X), None, workdir=tmp_path, loss_fn=loss_fn, progress=False)
    last = _steps(tmp_path)[-1]
    ck = Checkpointer(tmp_path)
    step, state = ck.restore_latest(None)
    ck.close()
    assert step == last and all(np.isfinite(np.asarray(a)).all() for a in jax.tree_util.tree_leaves(state))
    assert np.asarray(state["params"]["b"]).dtype == np.float32   # float32 master params
