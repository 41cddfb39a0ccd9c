"""Data parallelism and FSDP on 8 simulated CPU devices (in a child process, so the rest of
the suite keeps its single device), and mesh-spec errors."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from jax_ar import distributed
from jax_ar.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
# the suite's compile settings (conftest.py), without any device count of the caller's
SUITE_XLA_FLAGS = " ".join(f for f in os.environ.get("XLA_FLAGS", "").split() if "device_count" not in f)


def run_child(code: str, devices: int, timeout: int = 600) -> dict:
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "JAX_DEFAULT_MATMUL_PRECISION": "highest",
           "XLA_FLAGS": f"{SUITE_XLA_FLAGS} --xla_force_host_platform_device_count={devices}", "PYTHONPATH": str(ROOT)}
    p = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, cwd=ROOT,
                       capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("OUT ")][-1]
    return json.loads(line[4:])


CHILD = """
import json, shutil, sys, tempfile, warnings
from pathlib import Path
import jax, numpy as np
from jax_ar.data import synthetic
from jax_ar.data.batching import ArrayData
from jax_ar.models import registry
from jax_ar.train import TrainConfig, fit

assert len(jax.devices()) == 8, jax.devices()
X = synthetic.bars_and_stripes_dataset(3, 256)
fv = registry.build("fvsbn", seq_len=9)
out = {}

def leaves(t):
    return [np.asarray(a) for a in jax.tree_util.tree_leaves(t)]

def maxdiff(a, b):
    return max(float(np.max(np.abs(u - v))) for u, v in zip(leaves(a), leaves(b)))

def losses(res):
    return [r["loss"] for r in res.history if "loss" in r]

# SGD (with momentum) throughout: Adam divides by sqrt(v), which turns float noise in gradients
# that are ~0 in exact arithmetic into updates of +-lr, so two correct runs differ by up to lr.
# 1. one data-parallel step == one single-device step
base = TrainConfig(steps=1, batch_size=64, lr=0.1, optimizer="sgd", log_every=1, eval_every=100)
one = fit(fv, base, ArrayData(X), progress=False)
dp = fit(fv, TrainConfig(**{**base.__dict__, "mesh": "data:8"}), ArrayData(X), progress=False)
out["step"] = [maxdiff(one.params, dp.params), abs(losses(one)[0] - losses(dp)[0])]
out["dp_sharding"] = str(jax.tree_util.tree_leaves(dp.params)[0].sharding.spec)
try:
    fit(fv, TrainConfig(**{**base.__dict__, "batch_size": 12, "mesh": "data:8"}), ArrayData(X), progress=False)
except Exception as e:
    out["indivisible"] = f"{type(e).__name__}: {e}"

# 2. FSDP (params + optimizer state split over a second axis) for the Transformer
tf = registry.build("transformer_prenorm", vocab_size=2, seq_len=9, num_layers=1, num_heads=2, width=16,
                    mlp_ratio=2)
base = TrainConfig(steps=2, batch_size=32, lr=0.1, optimizer="sgd", log_every=1, eval_every=100)
one = fit(tf, base, ArrayData(X), progress=False)
fs = fit(tf, TrainConfig(**{**base.__dict__, "mesh": "data:2,fsdp:4"}), ArrayData(X), progress=False)
out["fsdp"] = [maxdiff(one.params, fs.params), max(abs(a - b) for a, b in zip(losses(one), losses(fs)))]
out["fsdp_specs"] = sorted({str(a.sharding.spec) for a in jax.tree_util.tree_leaves(fs.params)})

# 3. written on 8 devices, restored on 1 and on 4, training continues with the same loss
tmp = Path(tempfile.mkdtemp(prefix="jax_ar_tests_dist_"))
cfg = TrainConfig(steps=10, batch_size=32, lr=0.5, optimizer="sgd", log_every=1, eval_every=5,
                  ckpt_every=5, keep=5, mesh="data:8")
ref = fit(fv, cfg, ArrayData(X), X[:64], workdir=tmp / "a", progress=False)
for mesh in ("", "data:4"):
    d = tmp / ("b" + mesh.replace(":", ""))
    shutil.copytree(tmp / "a", d)
    shutil.rmtree(d / "ckpt" / "10")
    res = fit(fv, TrainConfig(**{**cfg.__dict__, "mesh": mesh}), ArrayData(X), X[:64], workdir=d,
              resume=True, progress=False)
    n_dev = len(jax.tree_util.tree_leaves(res.params)[0].sharding.device_set)
    out["resume_" + (mesh or "1dev")] = [len(losses(res)), n_dev,
                                        max(abs(a - b) for a, b in zip(losses(ref)[5:], losses(res))),
                                        maxdiff(ref.params, res.params)]
shutil.rmtree(tmp, ignore_errors=True)
print("OUT " + json.dumps(out))
"""


def test_eight_devices_data_parallel_fsdp_and_checkpoint_portability():
    out = run_child(CHILD, devices=8)
    print(out)  # the measured differences (pytest -s)
    params_diff, loss_diff = out["step"]
    # the state after the step agrees to 1e-6; the reported loss differs only by the
    # order of the batch reduction (8 partial sums), a few float32 ulps
    assert params_diff < 1e-6 and loss_diff < 1e-5, out
    assert out["dp_sharding"] in ("P()", "PartitionSpec()")
    assert out["indivisible"] == ("ConfigError: batch_size 12 must be divisible by the 8 devices of "
                                  "mesh 'data:8'"), out        # data parallel: params replicated
    params_diff, loss_diff = out["fsdp"]
    assert params_diff < 1e-5 and loss_diff < 1e-5, out
    assert any("fsdp" in s for s in out["fsdp_specs"]), out  # FSDP: params really are split
    for key, n_dev in (("resume_1dev", 1), ("resume_data:4", 4)):
        n_losses, got_dev, loss_diff, params_diff = out[key]
        assert (n_losses, got_dev) == (5, n_dev), out           # steps 6..10 on the new mesh
        assert loss_diff < 1e-5 and params_diff < 1e-5, (key, out)


@pytest.mark.parametrize("spec, msg", [
    ("data", "must look like"), ("data:0", "must look like"), ("model:2", "must look like"),
    ("data:2,data:2", "appears twice"), ("data:x", "must look like"),
])
def test_bad_mesh_spec(spec, msg):
    with pytest.raises(ConfigError, match=msg):
        distributed.parse_mesh(spec)


def test_mesh_larger_than_the_machine():
    with pytest.raises(ConfigError, match="asks for 4096 devices but only"):
        distributed.make_mesh("data:4096")


@pytest.mark.parametrize("kw, msg", [
    (dict(coordinator="localhost", num_processes=2), "host:port"),
    (dict(coordinator="127.0.0.1:1234", num_processes=2, process_id=2), r"process_id must be in \[0, 1\]"),
    (dict(num_processes=0), "num_processes must be >= 1"),
])
def test_bad_distributed_arguments(kw, msg):
    with pytest.raises(ConfigError, match=msg):
        distributed.initialize(**kw)


def test_fsdp_rule_splits_the_largest_divisible_dimension():
    assert distributed.fsdp_spec((16, 64), 4) == distributed.P(None, "fsdp")
    assert distributed.fsdp_spec((64, 16), 4) == distributed.P("fsdp")
    assert distributed.fsdp_spec((3, 5), 4) == distributed.P()


@pytest.mark.parametrize("arg, msg", [("--model_args=notjson", "must be a JSON object"),
                                      ("--model_args=[1]", "must be a JSON object"),
                                      ("--model=nosuchmodel", "nosuchmodel")])
def test_train_generic_bad_arguments(tmp_path, arg, msg):
    from experiments import train_generic
    with pytest.raises(ConfigError, match=msg):
        train_generic.main([arg, f"--workdir={tmp_path}", "--budget=smoke"])
