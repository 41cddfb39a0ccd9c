import dataclasses
import json

import pytest

from jax_ar import config, experiment
from jax_ar.errors import CheckpointError, ConfigError
from jax_ar.train import TrainConfig


@dataclasses.dataclass(frozen=True)
class Cfg:
    width: int = 8
    name: str = "a"
    dims: tuple[int, ...] = (1, 2)
    flag: bool = False
    opt: float | None = None
    train: TrainConfig = TrainConfig()


def test_typed_overrides_and_nested_keys():
    c = config.apply_overrides(Cfg(), {"width": "16", "dims": "3,4,5", "flag": "true",
                                       "opt": "none", "train.lr": "3e-4", "train.steps": "1e3"})
    assert c.width == 16 and c.dims == (3, 4, 5) and c.flag is True and c.opt is None
    assert c.train.lr == 3e-4 and c.train.steps == 1000
    assert config.from_dict(Cfg, json.loads(config.dumps(c))) == c


def test_unknown_key_lists_valid_keys():
    with pytest.raises(ConfigError, match=r"unknown config key 'widht'.*valid keys: .*train\.lr.*width"):
        config.apply_overrides(Cfg(), {"widht": "3"})


def test_bad_value_type():
    with pytest.raises(ConfigError, match=r"--width='abc' is not a valid int"):
        config.apply_overrides(Cfg(), {"width": "abc"})
    with pytest.raises(ConfigError, match="not a valid bool"):
        config.apply_overrides(Cfg(), {"flag": "maybe"})
    with pytest.raises(ConfigError, match="steps must be >= 1"):
        config.apply_overrides(Cfg(), {"train.steps": "0"})
    for text in ("1e400", "-1e400", "inf", "nan"):   # not an OverflowError
        with pytest.raises(ConfigError, match=rf"--train.steps='{text}' is not a valid int"):
            config.apply_overrides(Cfg(), {"train.steps": text})


def test_unknown_budget_and_malformed_argument(tmp_path):
    budgets = {"smoke": Cfg(), "quick": Cfg()}
    with pytest.raises(ConfigError, match="unknown --budget='huge'; choose one of smoke, quick"):
        experiment.start("t", Cfg, budgets, ["--budget=huge", f"--workdir={tmp_path}"])
    with pytest.raises(ConfigError, match="not of the form --key=value"):
        experiment.start("t", Cfg, budgets, ["width", f"--workdir={tmp_path}"])


def test_run_saves_config_and_refuses_other_model(tmp_path, capsys):
    run = experiment.start("t", Cfg, {"smoke": Cfg()}, ["--budget=smoke", f"--workdir={tmp_path}", "--width=3"])
    assert json.loads((tmp_path / "config.json").read_text())["width"] == 3
    run.describe(model="fvsbn", model_kwargs={"seq_len": 4})
    run.describe(model="fvsbn", model_kwargs={"seq_len": 4})  # same model: fine
    with pytest.raises(CheckpointError, match="holds a run of model 'fvsbn'"):
        run.describe(model="nade", model_kwargs={"seq_len": 4})
    rec = run.result(model="m", dataset="d", split="test", metric="nll", value=float("inf"), unit="nats",
                     steps=1, params=2)
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("RESULT ")
    got = json.loads(last[len("RESULT "):])
    for k in experiment.RESULT_KEYS:
        assert k in got
    assert got["value"] == "inf" and rec["value"] == "inf"
    with pytest.raises(ConfigError, match="escape"):
        run.path("../outside.txt")
