"""What every experiment script shares: argument parsing, the run directory, the RESULT line.

    python -m experiments.<topic> --budget=smoke|quick|full --data_dir=DIR --workdir=DIR \
        [--resume] [--key=value ...]

* ``--budget`` picks one of the script's preset configs (smoke: seconds, for
  tests; quick: minutes on a 2-core CPU; full: the paper-scale config).
* ``--key=value`` overrides any config field, type-checked (dots for nested
  fields); an unknown key is an error listing the valid keys.
* The run directory (default ``runs/<topic>-<budget>-<time>``) receives
  ``run.json`` (resolved config, model, dataset, code version), checkpoints,
  ``metrics.jsonl``, samples and ``result.json``.  A ``--workdir`` that already
  holds files is refused unless ``--resume`` continues the run saved there.
* The last line printed is ``RESULT {json}`` with at least the keys
  topic, model, dataset, split, metric, value, unit, steps, seconds, params.
"""
from __future__ import annotations

import dataclasses
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import jax_ar
from jax_ar import config as config_lib
from jax_ar import checkpoint, host, rundir
from jax_ar.errors import CheckpointError, ConfigError, JaxArError
from jax_ar.models import registry

RUN_FILE = "run.json"
CONFIG_FILE = "config.json"
RESULT_KEYS = ("topic", "model", "dataset", "split", "metric", "value", "unit", "steps", "seconds", "params")


@dataclasses.dataclass
class Run:
    topic: str
    budget: str
    cfg: Any
    dir: Path
    data_dir: str | None
    resume: bool
    started: float = dataclasses.field(default_factory=time.time)

    def describe(self, *, model: str, model_kwargs: dict, dataset: dict | None = None, subdir: str | None = None,
                 **extra) -> None:
        """Record what this run trains, so the run directory alone can rebuild it.

        ``subdir``: a model trained in a sub-directory of the run (one of several
        models a script trains, each with its own checkpoints); ``jax_ar.eval`` /
        ``jax_ar.sample`` then take ``--workdir=RUN/subdir``.  Refuses a run
        directory that holds a run of a different model or of the same model
        with other settings, before anything in it is rewritten.
        """
        model_kwargs = registry.record_kwargs(model, model_kwargs)
        path = self.path(f"{subdir}/{RUN_FILE}") if subdir else self.dir / RUN_FILE
        info = {"jax_ar_version": jax_ar.__version__, "topic": self.topic, "budget": self.budget,
                "model": model, "model_kwargs": model_kwargs, "dataset": dataset or {},
                "config": config_lib.to_dict(self.cfg), **extra}
        if path.exists():
            old = json.loads(path.read_text())
            old_kwargs = registry.saved_kwargs(model, old.get("model_kwargs") or {})
            new_kwargs = json.loads(json.dumps(model_kwargs))
            if old.get("model") != model:
                raise CheckpointError(
                    f"--workdir {str(self.dir)!r} holds a run of model {old.get('model')!r} "
                    f"({old.get('model_kwargs')}), not {model!r} ({model_kwargs}); choose another --workdir")
            if old_kwargs != new_kwargs:
                diff = ", ".join(f"{k}: saved {old_kwargs.get(k, '(absent)')!r}, now {new_kwargs.get(k, '(absent)')!r}"
                                 for k in sorted(set(old_kwargs) | set(new_kwargs))
                                 if old_kwargs.get(k, "(absent)") != new_kwargs.get(k, "(absent)"))
                raise CheckpointError(
                    f"--workdir {str(self.dir)!r} holds a run of {model!r} with other model settings ({diff}); "
                    f"pass the saved settings (its {CONFIG_FILE} lists them) or choose another --workdir")
        path.write_text(json.dumps(info, indent=2, sort_keys=True, default=str))
        (self.dir / CONFIG_FILE).write_text(config_lib.dumps(self.cfg))

    def result(self, *, model: str, dataset: str, split: str, metric: str, value: float, unit: str,
               steps: int, params: int, **extra) -> dict:
        rec = {"topic": self.topic, "model": model, "dataset": dataset, "split": split, "metric": metric,
               "value": _jsonable(value), "unit": unit, "steps": int(steps),
               "seconds": round(time.time() - self.started, 2), "params": int(params),
               "budget": self.budget, "workdir": str(self.dir)}
        rec.update({k: _jsonable(v) for k, v in extra.items()})
        (self.dir / "result.json").write_text(json.dumps(rec, indent=2))
        sys.stdout.flush()
        print("RESULT " + json.dumps(rec), flush=True)
        return rec

    def path(self, name: str) -> Path:
        """A file inside the run directory (names may not escape it)."""
        p = (self.dir / name).resolve()
        if self.dir.resolve() not in p.parents:
            raise ConfigError(f"output name {name!r} would escape the run directory {str(self.dir)!r}")
        p.parent.mkdir(parents=True, exist_ok=True)
        return p


def _jsonable(v):
    if isinstance(v, float) and (math.isinf(v) or math.isnan(v)):
        return str(v)
    try:
        import numpy as np
        if isinstance(v, np.generic):
            return _jsonable(v.item())
    except ImportError:
        pass
    return v


def parse_argv(argv: list[str]) -> tuple[dict, dict]:
    """Split argv into the common options and ``--key=value`` overrides."""
    common = {"budget": "quick", "data_dir": None, "workdir": None, "resume": False, "help": False}
    overrides = {}
    for a in argv:
        if a in ("-h", "--help"):
            common["help"] = True
            continue
        if a == "--resume":
            common["resume"] = True
            continue
        if not a.startswith("--") or "=" not in a:
            raise ConfigError(f"argument {a!r} is not of the form --key=value")
        k, v = a[2:].split("=", 1)
        if k in ("budget", "data_dir", "workdir"):
            common[k] = v
        elif k == "resume":
            common["resume"] = config_lib._coerce("resume", v, bool)
        else:
            overrides[k] = v
    return common, overrides


def start(topic: str, config_cls, budgets: dict, argv: list[str] | None = None) -> Run:
    argv = sys.argv[1:] if argv is None else list(argv)
    common, overrides = parse_argv(argv)
    if common["help"]:
        keys = config_lib.flat_keys(config_cls)
        print(f"usage: python -m experiments.{topic} --budget={'|'.join(budgets)} [--data_dir=DIR] "
              f"[--workdir=DIR] [--resume] [--key=value ...]\nconfig keys: " + ", ".join(sorted(keys)))
        raise SystemExit(0)
    if common["budget"] not in budgets:
        raise ConfigError(f"unknown --budget={common['budget']!r}; choose one of {', '.join(budgets)}")
    cfg = config_lib.apply_overrides(budgets[common["budget"]], overrides)
    workdir = common["workdir"] or f"runs/{topic}-{common['budget']}-{time.strftime('%Y%m%d-%H%M%S')}"
    d = Path(workdir)
    refuse_non_directory(d)
    rundir.guard(d)
    if common["resume"]:                 # checked before anything is created or rewritten
        if not common["workdir"]:
            raise CheckpointError("--resume needs --workdir=RUN, the run directory to continue")
        if not d.is_dir():
            raise CheckpointError(f"--resume: {workdir!r} does not exist; give the --workdir of the run to continue")
        if not any((d / n).exists() for n in (RUN_FILE, CONFIG_FILE, "ckpt")):
            raise CheckpointError(f"--resume: {workdir!r} holds no run to resume "
                                  f"(no {RUN_FILE}, {CONFIG_FILE} or ckpt)")
    else:
        steps = checkpoint.saved_steps(d)
        if steps:
            raise checkpoint.holds_checkpoints_error(d, steps)
        check_new_workdir(d, "pass --resume to continue that run or choose a new --workdir")
    d.mkdir(parents=True, exist_ok=True)
    # otherwise Run.describe writes it once the saved run matches; the processes of a multi-process
    # run write nothing here, so none of them finds the files of another in its check above
    if not (d / RUN_FILE).exists() and not _multi_process(cfg):
        (d / CONFIG_FILE).write_text(config_lib.dumps(cfg))
    print(f"[{topic}] budget={common['budget']} workdir={d}", flush=True)
    return Run(topic, common["budget"], cfg, d, common["data_dir"], common["resume"])


def refuse_non_directory(d: Path) -> None:
    """A ``--workdir`` that names an existing file (not a directory) is refused."""
    if d.exists() and not d.is_dir():
        raise ConfigError(f"--workdir {str(d)!r} exists and is not a directory")


def check_new_workdir(d: Path, hint: str) -> None:
    """Refuse a run directory that exists and holds anything, so nothing saved there is overwritten.

    Empty files are allowed: the log a shell creates when the run's output is
    redirected into its own directory (``> DIR/log.txt``) holds nothing yet.
    """
    names = sorted(p.name for p in d.iterdir() if not _empty_file(p)) if d.is_dir() else []
    if names:
        raise CheckpointError(f"--workdir {str(d)!r} already holds files ({', '.join(names[:5])}"
                              f"{', ...' if len(names) > 5 else ''}); {hint}")


def _empty_file(p: Path) -> bool:
    return p.is_file() and not p.is_symlink() and p.stat().st_size == 0


def _multi_process(cfg) -> bool:
    """Whether ``cfg`` asks for several processes (experiments.train_generic's fields)."""
    return getattr(cfg, "num_processes", 1) > 1 or bool(getattr(cfg, "coordinator", ""))


def cli(main) -> None:
    """Run ``main()`` turning library errors into a one-line message and exit code 2
    (after the host allocator tuning of :mod:`jax_ar.host`)."""
    host.keep_freed_memory()
    try:
        main()
    except JaxArError as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(2)
