"""Smoke runs of the Transformer experiment scripts (slow: excluded by default; need ../shared/data)."""
import os
from pathlib import Path

import pytest

DATA = Path(os.environ.get("JAX_AR_DATA_DIR", Path(__file__).resolve().parents[1].parent / "shared" / "data"))
needs_text = pytest.mark.skipif(not (DATA / "tiny_shakespeare").exists(), reason="Tiny Shakespeare not found")
needs_mnist = pytest.mark.skipif(not (DATA / "binarized_mnist").exists(), reason="binarized MNIST not found")


@pytest.mark.slow
@needs_text
def test_transformer_experiment_smoke(tmp_path):
    from experiments import transformer
    from jax_ar import runs
    transformer.main(["--budget=smoke", "--text=tiny_shakespeare", f"--data_dir={DATA}", f"--workdir={tmp_path}", "--matmul_dtype=bfloat16"])
    assert (tmp_path / "result.json").exists() and (tmp_path / "samples.txt").exists()
    info, model, _ = runs.load_run(tmp_path)          # the saved run rebuilds the mixed-precision model
    assert info["model_kwargs"]["matmul_dtype"] == "bfloat16" and model.module.matmul_dtype == "bfloat16"


@pytest.mark.slow
@needs_text
def test_decoding_experiment_smoke(tmp_path):
    from experiments import decoding
    decoding.main(["--budget=smoke", "--text=tiny_shakespeare", f"--data_dir={DATA}", f"--workdir={tmp_path}"])
    for f in ("temperature.png", "strategies.md", "drift.md", "result.json"):
        assert (tmp_path / f).exists()


@pytest.mark.slow
@needs_mnist
def test_image_gpt_experiment_smoke(tmp_path):
    from experiments import image_gpt
    image_gpt.main(["--budget=smoke", "--dataset=binarized_mnist", f"--data_dir={DATA}", f"--workdir={tmp_path}"])
    assert (tmp_path / "samples.png").exists()


@pytest.mark.slow
def test_image_gpt_smoke_runs_on_embedded_data(tmp_path):
    import json
    from experiments import image_gpt
    image_gpt.main(["--budget=smoke", f"--workdir={tmp_path}"])       # bars-and-stripes: no data files
    res = json.loads((tmp_path / "result.json").read_text())
    assert res["dataset"] == "bars_and_stripes" and res["gap_to_true"] > 0


@pytest.mark.slow
def test_bench_transformer_smoke():
    from experiments import bench_transformer
    bench_transformer.main(["--new_tokens=4", "--prompt=2", "--context=16", "--repeats=1", "--batches=1",
                            "--eval_batch=2"])
