"""`jax_ar.eval` re-evaluates a saved character-level Transformer run on Tiny Shakespeare (a small
generated stand-in for the text file) and reproduces the experiment's own figures; `jax_ar.sample`
writes its samples as text."""
import json

import numpy as np
import pytest

from jax_ar import eval as eval_cli
from jax_ar import sample as sample_cli
from jax_ar.data import registry as data_registry
from jax_ar.data import shakespeare
from jax_ar.errors import ConfigError


@pytest.fixture(scope="module", autouse=True)
def other_text_allowed():
    with pytest.MonkeyPatch.context() as mp:        # the stand-in is not Tiny Shakespeare's length
        mp.setenv(shakespeare.ALLOW_OTHER_TEXT, "1")
        yield


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    from experiments import transformer
    data = tmp_path_factory.mktemp("data")
    (data / "tiny_shakespeare").mkdir()
    rng = np.random.default_rng(0)
    (data / "tiny_shakespeare" / "input.txt").write_text("".join(rng.choice(list("abc de\n"), 4000)))
    run = tmp_path_factory.mktemp("run")
    transformer.main(["--budget=smoke", f"--data_dir={data}", f"--workdir={run}", "--eval_windows=0",
                      "--sample_tokens=4", "--timing_steps=1"])
    return data, run


def test_eval_reproduces_the_experiments_validation_loss(text_run):
    data, run = text_run
    saved = json.loads((run / "result.json").read_text())
    rec = eval_cli.main([f"--workdir={run}", f"--data_dir={data}", "--split=validation"])
    assert rec["loss_nanogpt"] == saved["value"]
    assert rec["loss_all_positions"] == saved["loss_all_positions"]
    assert rec["windows"] == saved["validation_windows"] == 400 // 32


def test_eval_text_errors_name_the_problem(text_run):
    data, run = text_run
    with pytest.raises(ConfigError, match=r"'nanogpt' split has 0 test characters.*use --split=validation"):
        eval_cli.main([f"--workdir={run}", f"--data_dir={data}"])
    with pytest.raises(ConfigError, match=r"cannot be reloaded by name: only character-level"):
        data_registry.load_split({"name": "tiny_shakespeare", "split": "nanogpt", "tokenizer": "bpe"},
                                 "validation", data, seq_len=32)


def test_sample_cli_writes_characters(text_run):
    _, run = text_run
    before = set(run.glob("samples_cli*.txt"))
    sample_cli.main([f"--workdir={run}", "--num=2"])
    sample_cli.main([f"--workdir={run}", "--num=2", "--seed=1"])      # a second call keeps the first's file
    new = sorted(set(run.glob("samples_cli*.txt")) - before)
    assert len(new) == 2
    for p in new:
        text = p.read_text()
        assert len(text) >= 2 * 32 and set(text) <= set("abc de\n")


def test_a_text_of_another_length_is_refused_unless_allowed(tmp_path, monkeypatch):
    from jax_ar.errors import DataFileError
    (tmp_path / "tiny_shakespeare").mkdir()
    (tmp_path / "tiny_shakespeare" / "input.txt").write_text("First Citizen:\n" * 10)
    monkeypatch.delenv(shakespeare.ALLOW_OTHER_TEXT)
    with pytest.raises(DataFileError, match=r"150 characters, Tiny Shakespeare has 1,115,394.*JAX_AR_ALLOW_OTHER_TEXT=1"):
        shakespeare.load_text(tmp_path)
    monkeypatch.setenv(shakespeare.ALLOW_OTHER_TEXT, "1")
    assert len(shakespeare.load_text(tmp_path)) == 150
