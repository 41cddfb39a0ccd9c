"""End to end: the FVSBN experiment on embedded data, then jax_ar.eval and jax_ar.sample on its run."""
import json

import numpy as np
import pytest

from experiments import fvsbn
from jax_ar import eval as eval_cli
from jax_ar import sample as sample_cli
from jax_ar.errors import CheckpointError


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("fvsbn")
    fvsbn.main(["--budget=smoke", f"--workdir={d}", "--train.steps=20", "--train.eval_every=10"])
    return d


def test_smoke_run_writes_result_samples_and_config(smoke_run, capsys):
    res = json.loads((smoke_run / "result.json").read_text())
    assert res["topic"] == "fvsbn" and res["split"] == "test" and res["steps"] == 20
    assert res["value"] >= res["true_nll"] - 0.5  # cannot beat the true entropy by much on 1000 samples
    assert (smoke_run / "samples.png").is_file() and (smoke_run / "run.json").is_file()


def test_eval_and_sample_cli_rebuild_the_run(smoke_run, capsys):
    rec = eval_cli.main([f"--workdir={smoke_run}", "--split=test"])
    saved = json.loads((smoke_run / "result.json").read_text())
    assert rec["value"] == pytest.approx(saved["value"], abs=1e-3)
    assert rec["steps"] == saved["best_step"]               # the step of the evaluated (best) params
    sample_cli.main([f"--workdir={smoke_run}", "--num=4"])
    assert (smoke_run / "samples_cli.png").is_file()


def test_workdir_of_another_model_is_refused(smoke_run):
    saved = {f: (smoke_run / f).read_bytes() for f in ("run.json", "config.json")}
    with pytest.raises(CheckpointError, match=r"already holds checkpoints .*pass --resume"):
        fvsbn.main(["--budget=smoke", f"--workdir={smoke_run}", "--bas_n=3"])
    # resuming with other model settings: the message names what differs
    with pytest.raises(CheckpointError, match=r"holds a run of 'fvsbn' with other model settings "
                                              r"\(seq_len: saved 16, now 9\); pass the saved settings"):
        fvsbn.main(["--budget=smoke", f"--workdir={smoke_run}", "--bas_n=3", "--resume"])
    for f, b in saved.items():   # nothing the run saved was rewritten
        assert (smoke_run / f).read_bytes() == b, f


def test_eval_refuses_other_code_version(smoke_run, tmp_path):
    import shutil
    d = tmp_path / "old"
    shutil.copytree(smoke_run, d)
    info = json.loads((d / "run.json").read_text())
    info["jax_ar_version"] = "0.0.1"
    (d / "run.json").write_text(json.dumps(info))
    with pytest.raises(CheckpointError, match="written by jax_ar 0.0.1"):
        eval_cli.main([f"--workdir={d}"])
    with pytest.raises(CheckpointError, match="not a jax_ar run directory"):
        eval_cli.main([f"--workdir={tmp_path}"])


def test_weight_penalty_counts_only_used_weights_and_grows_with_distance():
    import jax.numpy as jnp
    import numpy as np
    from jax_ar.errors import ConfigError
    from jax_ar.models.fvsbn import pixel_distances, weight_penalty
    W = jnp.ones((4, 4))                       # 6 used weights below the diagonal
    assert float(weight_penalty(W, l2=2.0)) == pytest.approx(6.0)
    assert float(weight_penalty(W, l1=1.0)) == pytest.approx(6.0)
    d = pixel_distances((2, 2))
    assert d[0, 3] == pytest.approx(np.sqrt(2)) and d[1, 2] == pytest.approx(np.sqrt(2)) and d[0, 1] == 1
    want = sum(1 + d[i, j] / 2.0 for i in range(4) for j in range(i))
    assert float(weight_penalty(W, l1=1.0, radius=2.0, image_shape=(2, 2))) == pytest.approx(want, rel=1e-6)
    with pytest.raises(ConfigError, match="image shape"):
        weight_penalty(W, l1=1.0, radius=2.0, image_shape=(3, 3))


def test_log_penalty_matches_l1_near_zero_and_grows_logarithmically():
    import jax
    import jax.numpy as jnp
    from jax_ar.models.fvsbn import weight_penalty
    W = jnp.tril(jnp.full((4, 4), 3.0), -1)   # 6 used weights of 3
    s = 0.5
    assert float(weight_penalty(W, l1=1.0, log_scale=s)) == pytest.approx(6 * s * np.log1p(3.0 / s), rel=1e-6)
    assert float(weight_penalty(W, l1=1.0, log_scale=s)) < float(weight_penalty(W, l1=1.0))
    g = jax.grad(lambda w: weight_penalty(w, l1=2.0, log_scale=s))(jnp.full((4, 4), 1e-6))
    assert float(g[3, 0]) == pytest.approx(2.0, rel=1e-4) and float(g[0, 3]) == 0.0   # L1's slope; unused weight


def test_smoke_run_with_elastic_net(tmp_path):
    fvsbn.main(["--budget=smoke", f"--workdir={tmp_path}", "--train.steps=10", "--train.eval_every=10",
                "--l1=1e-4", "--l2=1e-4", "--l1_radius=2", "--l1_log_scale=0.5"])
    assert json.loads((tmp_path / "result.json").read_text())["value"] > 0
