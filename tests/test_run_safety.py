"""Run directories: nothing saved is overwritten without --resume, --resume needs a run to continue;
the tour and the run tools reject bad arguments and answer --help."""
import dataclasses
import json

import pytest

from experiments import tour
from jax_ar import eval as eval_cli
from jax_ar import experiment
from jax_ar import sample as sample_cli
from jax_ar.errors import CheckpointError, ConfigError
from jax_ar.train import TrainConfig


@dataclasses.dataclass(frozen=True)
class Cfg:
    width: int = 8
    train: TrainConfig = TrainConfig()


@dataclasses.dataclass(frozen=True)
class MultiCfg:
    num_processes: int = 2
    process_id: int = 0


def start(workdir, *args, cfg=Cfg):
    return experiment.start("t", cfg, {"smoke": cfg()}, ["--budget=smoke", f"--workdir={workdir}", *args])


def finished_run(d):
    run = start(d)
    run.describe(model="fvsbn", model_kwargs={"seq_len": 4})
    run.result(model="fvsbn", dataset="d", split="test", metric="nll", value=1.0, unit="nats", steps=1, params=2)
    return {p.name: p.read_bytes() for p in d.iterdir()}


def test_rerun_without_resume_keeps_saved_results(tmp_path):
    d = tmp_path / "run"
    saved = finished_run(d)
    assert set(saved) == {"config.json", "run.json", "result.json"}
    with pytest.raises(CheckpointError, match=r"--workdir '.*run' already holds files \(config.json, result.json, "
                                              r"run.json\); pass --resume to continue that run or choose a new"):
        start(d, "--width=3")
    assert {p.name: p.read_bytes() for p in d.iterdir()} == saved


def test_users_own_folder_is_not_written(tmp_path):
    (tmp_path / "config.json").write_text("mine")
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(CheckpointError, match=r"already holds files \(config.json, notes.txt\)"):
        start(tmp_path)
    assert (tmp_path / "config.json").read_text() == "mine"


def test_workdir_holding_only_an_empty_log_is_accepted(tmp_path):
    (tmp_path / "log.txt").touch()                   # `... --workdir=D > D/log.txt` creates it first
    start(tmp_path)
    assert (tmp_path / "config.json").exists() and (tmp_path / "log.txt").read_text() == ""
    d = tmp_path / "other"
    d.mkdir()
    (d / "log.txt").touch()
    (d / "sub").mkdir()                              # an empty directory still counts as something there
    with pytest.raises(CheckpointError, match=r"already holds files \(sub\)"):
        start(d)


def test_empty_or_new_workdir_and_resume_of_a_run_are_accepted(tmp_path):
    start(tmp_path)                                  # exists, empty
    assert json.loads((tmp_path / "config.json").read_text())["width"] == 8
    start(tmp_path / "a" / "b")                      # created
    assert (tmp_path / "a" / "b" / "config.json").is_file()
    finished_run(tmp_path / "r")
    assert start(tmp_path / "r", "--resume").resume


def test_after_a_crash_resume_continues_and_a_plain_rerun_is_refused(tmp_path):
    # what a run killed after its first checkpoint leaves behind
    run = start(tmp_path)
    run.describe(model="fvsbn", model_kwargs={"seq_len": 4})
    (tmp_path / "ckpt" / "4").mkdir(parents=True)
    (tmp_path / "metrics.jsonl").write_text("{}\n")
    with pytest.raises(CheckpointError, match=r"already holds checkpoints \(steps \[4\]\); pass --resume"):
        start(tmp_path)
    assert start(tmp_path, "--resume").resume


def test_processes_of_one_multi_process_run_share_a_new_workdir(tmp_path):
    for pid in (0, 1):   # each process checks the directory; none writes before all have checked
        start(tmp_path, f"--process_id={pid}", cfg=MultiCfg)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("make, msg", [
    (lambda t: t / "nope", r"--resume: '.*nope' does not exist"),
    (lambda t: t, r"--resume: '.*' holds no run to resume \(no run.json, config.json or ckpt\)"),
    (lambda t: (t / "notes.txt").write_text("x") and t, r"holds no run to resume"),
])
def test_resume_needs_a_run(tmp_path, make, msg):
    d = make(tmp_path)
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(CheckpointError, match=msg):
        start(d, "--resume")
    assert sorted(tmp_path.rglob("*")) == before   # nothing created


def test_resume_without_workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CheckpointError, match=r"--resume needs --workdir=RUN"):
        experiment.start("t", Cfg, {"smoke": Cfg()}, ["--budget=smoke", "--resume"])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("arg, msg", [
    ("--topics=fvsbm", r"unknown topic\(s\) \['fvsbm'\] in --topics; choose from fvsbn, ar_linear"),
    ("--topics=fvsbn,", r"unknown topic\(s\) \[''\]"),
    ("--topic=fvsbn", r"unknown argument '--topic=fvsbn'; the tour takes --budget="),
    ("--resume", r"unknown argument '--resume'"),
    ("fvsbn", r"unknown argument 'fvsbn'"),
    ("--budget=huge", r"unknown --budget='huge'; choose one of smoke, quick, full"),
])
def test_tour_rejects_bad_arguments(tmp_path, arg, msg):
    with pytest.raises(ConfigError, match=msg):
        tour.main([arg, f"--workdir={tmp_path / 'tour'}"])
    assert not (tmp_path / "tour").exists()


def test_tour_refuses_a_used_workdir_and_prints_help(tmp_path, capsys):
    (tmp_path / "results.md").write_text("earlier tour")
    with pytest.raises(CheckpointError, match=r"already holds files \(results.md\); choose a new --workdir"):
        tour.main(["--topics=fvsbn", f"--workdir={tmp_path}"])
    assert (tmp_path / "results.md").read_text() == "earlier tour"
    with pytest.raises(SystemExit) as e:
        tour.main(["--help"])
    assert e.value.code == 0 and "usage: python -m experiments.tour" in capsys.readouterr().out


@pytest.mark.parametrize("mod, opt", [(eval_cli, "--split=test"), (sample_cli, "--num=16")])
@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_run_tools_print_usage_on_help(mod, opt, flag, capsys):
    with pytest.raises(SystemExit) as e:
        mod.main([flag])
    out = capsys.readouterr().out
    assert e.value.code == 0 and out.startswith("usage: python -m jax_ar.") and "--workdir=RUN" in out and opt in out


def test_tour_skips_topics_whose_data_is_absent(tmp_path, monkeypatch, capsys):
    import types
    from jax_ar.errors import DataFileError

    def main(args):
        raise DataFileError("no data directory found: pass --data_dir=DIR")

    monkeypatch.setattr(tour, "importlib", types.SimpleNamespace(import_module=lambda name: types.SimpleNamespace(main=main)))
    monkeypatch.setattr(tour, "data_available", lambda *a, **k: False)
    tour.main(["--topics=ngram", f"--workdir={tmp_path / 't1'}"])          # skipped is not failed: no exit 1
    out = capsys.readouterr().out
    assert "SKIPPED" in out and '"skipped": ["ngram"]' in out and '"failed": []' in out
    with pytest.raises(SystemExit):                                         # with a data directory it is a failure
        tour.main(["--topics=ngram", f"--workdir={tmp_path / 't2'}", f"--data_dir={tmp_path}"])
    assert '"failed": ["ngram"]' in capsys.readouterr().out


def test_sample_writes_wav_files_for_spoken_digit_runs(tmp_path):
    import numpy as np
    x = np.random.default_rng(0).integers(0, 256, size=(2, 100))
    out = sample_cli.write_samples({"dataset": {"name": "spoken_digit", "split": "official"}}, x, tmp_path)
    assert [p.suffix for p in out] == [".wav", ".wav"] and all(p.stat().st_size > 200 for p in out)


def test_image_gpt_model_settings_are_checked_before_the_run_directory(tmp_path):
    from experiments import image_gpt
    for argv, msg in ((["--positions=sinusoid"], "positions must be one of"),
                      (["--train.optimizer=adamx"], "unknown optimizer")):
        with pytest.raises(ConfigError, match=msg):
            image_gpt.main(argv + [f"--workdir={tmp_path / 'run'}", "--budget=smoke"])
        assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("script, arg", [("bench_fvsbn", "--chunks=5"), ("bench_ngram", "--nltk=1"),
                                         ("bench_fvsbn", "chunk=5")])
def test_hand_parsed_bench_scripts_refuse_unknown_options(script, arg):
    import importlib
    with pytest.raises(ConfigError, match=f"unknown argument '{arg}'; this script takes --data_dir="):
        importlib.import_module(f"experiments.{script}").main([arg])
