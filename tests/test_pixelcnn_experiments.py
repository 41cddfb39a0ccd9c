"""Smoke runs of the PixelCNN experiment, benchmark and receptive-field scripts (slow: excluded by default)."""
import os
from pathlib import Path

import pytest

DATA = Path(os.environ.get("JAX_AR_DATA_DIR", Path(__file__).resolve().parents[1].parent / "shared" / "data"))
needs_data = pytest.mark.skipif(not (DATA / "binarized_mnist").exists(), reason="binarized MNIST not found")


@pytest.mark.slow
@needs_data
@pytest.mark.parametrize("extra", [[], ["--gated=true", "--num_classes=3"]])
def test_pixelcnn_experiment_smoke(tmp_path, extra):
    from experiments import pixelcnn
    pixelcnn.main(["--budget=smoke", "--dataset=binarized_mnist", f"--data_dir={DATA}", f"--workdir={tmp_path}"] + extra)
    assert (tmp_path / "result.json").exists()
    assert (tmp_path / ("samples_by_class.png" if extra else "samples.png")).exists()


@pytest.mark.slow
def test_pixelcnn_smoke_runs_on_embedded_data(tmp_path):
    import json
    from experiments import pixelcnn
    pixelcnn.main(["--budget=smoke", "--gated=true", f"--workdir={tmp_path}"])   # bars-and-stripes: no files
    res = json.loads((tmp_path / "result.json").read_text())
    assert res["dataset"] == "bars_and_stripes" and res["gap_to_true"] > 0


@pytest.mark.slow
@needs_data
def test_bench_pixelcnn_smoke(tmp_path):
    from experiments import bench_pixelcnn
    bench_pixelcnn.main(["--budget=smoke", f"--data_dir={DATA}", f"--workdir={tmp_path}"])
    assert (tmp_path / "result.json").exists()


@pytest.mark.slow
def test_receptive_field_smoke(tmp_path):
    import json
    from experiments import receptive_field
    receptive_field.main(["--budget=smoke", f"--workdir={tmp_path}"])
    res = json.loads((tmp_path / "result.json").read_text())
    assert res["pixelcnn"]["seen_at_or_after"] == 0 and res["gated_pixelcnn"]["seen_at_or_after"] == 0
    assert (tmp_path / "receptive_field_pixelcnn.png").exists()
