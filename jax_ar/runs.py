"""Rebuilding a model and its best params from a run directory alone."""
from __future__ import annotations

import json
from pathlib import Path

import jax

import jax_ar
from jax_ar.checkpoint import Checkpointer
from jax_ar.errors import CheckpointError, ConfigError
from jax_ar.experiment import RUN_FILE
from jax_ar.models import registry


def parse_cli(argv, tool: str, options: dict, takes: str):
    """Parse ``--workdir``/``--data_dir`` plus typed tool options ``{name: (type, default)}``.

    Returns ``(workdir, data_dir, values)``; an unknown option or a missing
    ``--workdir`` is a ConfigError naming what ``tool`` takes; ``-h``/``--help``
    prints the usage and exits.
    """
    from jax_ar.config import _coerce
    from jax_ar.experiment import parse_argv
    values = {k: d for k, (_, d) in options.items()}
    rest = []
    for a in argv:
        key, _, text = a[2:].partition("=") if a.startswith("--") else ("", "", "")
        if key in options and "=" in a:
            values[key] = _coerce(key, text, options[key][0])
        else:
            rest.append(a)
    common, extra = parse_argv(rest)
    if common["help"]:
        defaults = " ".join(f"[--{k}={d}]" for k, (_, d) in options.items())
        print(f"usage: python -m {tool} --workdir=RUN {defaults}\n{tool} takes {takes}")
        raise SystemExit(0)
    if extra:
        raise ConfigError(f"unknown option(s) {sorted(extra)}; {tool} takes {takes}")
    if not common["workdir"]:
        raise ConfigError("--workdir=RUN is required")
    return common["workdir"], common["data_dir"], values


def read_run(workdir) -> dict:
    d = Path(workdir)
    if not d.is_dir():
        raise CheckpointError(f"run directory {str(d)!r} does not exist")
    f = d / RUN_FILE
    if not f.is_file():
        raise CheckpointError(f"{str(d)!r} is not a jax_ar run directory: {RUN_FILE} is missing")
    try:
        info = json.loads(f.read_text())
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{str(f)!r} is corrupt: {e}") from None
    for k in ("model", "model_kwargs", "jax_ar_version"):
        if k not in info:
            raise CheckpointError(f"{str(f)!r} lacks the key {k!r}; it was not written by jax_ar")
    ours = jax_ar.__version__.split(".")[:2]
    theirs = str(info["jax_ar_version"]).split(".")[:2]
    if ours != theirs:
        raise CheckpointError(f"{str(d)!r} was written by jax_ar {info['jax_ar_version']}; this is "
                              f"{jax_ar.__version__}, whose checkpoints are not compatible")
    return info


TOKENIZER_FILE = "tokenizer.json"


def load_tokenizer(workdir, info: dict):
    """The tokenizer a text run saved in its directory (``dataset["tokenizer_file"]``), or None for
    character runs (their vocabulary is in ``run.json``) and runs that saved none."""
    name = info.get("dataset", {}).get("tokenizer_file")
    if not name:
        return None
    f = Path(workdir) / name
    if not f.is_file():
        raise CheckpointError(f"run {str(workdir)!r} names its tokenizer file {name!r}, which is missing; "
                              f"without it the token ids cannot be read as text")
    from jax_ar import tokenizers
    return tokenizers.load(f)


def load_run(workdir):
    """(info, model, best_params) of a saved run; ``info["best_step"]`` is the step those params come from."""
    info = read_run(workdir)
    subruns = sorted(p.parent.name for p in Path(workdir).glob(f"*/{RUN_FILE}"))
    if subruns and not (Path(workdir) / "best").is_dir():
        raise CheckpointError(f"run {str(workdir)!r} ({info['model']!r}) keeps each model it trained in a directory "
                              f"of its own: give --workdir={Path(workdir) / '<name>'} with <name> one of "
                              f"{', '.join(subruns)}")
    if not registry.entry(info["model"]).trainable:
        raise CheckpointError(f"run {str(workdir)!r} is a count-based {info['model']!r} run: it saves no model "
                              f"parameters to sample or evaluate (its tables and samples are in the directory)")
    try:
        model = registry.build(info["model"], **registry.saved_kwargs(info["model"], info["model_kwargs"]))
    except (TypeError, registry.UnknownOptionError) as e:
        raise CheckpointError(f"run {str(workdir)!r} was made with model arguments this code does not "
                              f"accept ({e}); it comes from another code version") from None
    template = model.init(jax.random.PRNGKey(0))
    ck = Checkpointer(workdir)
    try:
        step, params = ck.restore_best(template)
    finally:
        ck.close()
    return dict(info, best_step=int(step)), model, params
