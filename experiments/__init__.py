"""Experiment and benchmark scripts (``python -m experiments.<name>``).

Importing the package tunes the host allocator for XLA:CPU
(:func:`jax_ar.host.keep_freed_memory`; ``JAX_AR_MALLOC=system`` opts out).

A script's ``Config.validate()``, which :func:`jax_ar.config.apply_overrides` calls
before any work starts, checks its fields with the helpers of :mod:`jax_ar.config`
(``at_least``, ``positive``, ``within``, ``one_of``, ... re-exported here) and the
ones below: a bad value is a :class:`~jax_ar.errors.ConfigError` naming the field, the
value and what is allowed.
"""
from jax_ar import host as _host
from jax_ar.config import at_least, check, nonempty, one_of, positive, within  # noqa: F401  (re-exported)
from jax_ar.errors import ConfigError

_host.keep_freed_memory()

IMAGE_DATASETS = ("binarized_mnist", "bars_and_stripes")


def items(text: str, kind=str) -> list:
    """The comma-separated items of a config string (blanks skipped), each parsed as ``kind``."""
    return [kind(s.strip()) for s in text.split(",") if s.strip()]


def check_items(cfg, key: str, kind=str, ok=lambda v: True, want: str = "") -> None:
    """ConfigError unless ``cfg.key`` is a non-empty comma-separated list of ``kind`` values passing ``ok``."""
    text = getattr(cfg, key)
    try:
        vals = items(text, kind)
    except ValueError:
        vals = []
    if not vals or not all(ok(v) for v in vals):
        raise ConfigError(f"{key} must be a comma-separated list of {want or kind.__name__ + ' values'}, "
                          f"got {text!r}")


def check_image_data(cfg) -> None:
    """``dataset`` and ``bas_n`` of the scripts that train on binarized MNIST or bars-and-stripes."""
    from jax_ar.data import synthetic
    one_of(cfg, "dataset", IMAGE_DATASETS)
    synthetic.check_bas_n(cfg.bas_n, "bas_n")


def image_splits(cfg, data_dir, *, train_limit: int = 0, valid_limit: int = 0):
    """``(spec, x_train, x_valid, x_test)`` of ``cfg.dataset`` (binarized MNIST, or bars-and-stripes of
    side ``cfg.bas_n``): the first ``train_limit`` / ``valid_limit`` examples (0: all); ``spec`` is
    the data set as a run records it (``run.describe``)."""
    from jax_ar.data import registry as data_registry
    spec = {"name": cfg.dataset} if cfg.dataset == "binarized_mnist" else {"name": cfg.dataset, "n": cfg.bas_n}
    x_train, x_valid, x_test = (data_registry.load_split(spec, s, data_dir)[0] for s in ("train", "valid", "test"))
    return spec, x_train[:train_limit or None], x_valid[:valid_limit or None], x_test


# ---------------------------------------------- benchmark scripts (argparse / hand-parsed options)
def hand_options(argv, known: tuple, doc: str) -> dict:
    """``--key=value`` options of a hand-parsed benchmark script: ``--help`` prints the usage line of
    ``doc`` (the script's docstring) and exits; an unknown or malformed argument is a ConfigError."""
    usage = next((ln.strip() for ln in doc.splitlines() if ln.strip().startswith("python -m")), "")
    opts = {}
    for a in argv:
        if a in ("-h", "--help"):
            print(f"usage: {usage}")
            raise SystemExit(0)
        key, eq, value = a[2:].partition("=") if a.startswith("--") else ("", "", "")
        if not eq or key not in known:
            raise ConfigError(f"unknown argument {a!r}; this script takes "
                              + ", ".join(f"--{k}=" for k in known))
        opts[key] = value
    return opts


def int_option(opts: dict, key: str, default: int, lo: int = 1) -> int:
    """A hand-parsed ``--key=N`` option: an integer >= ``lo``, else a ConfigError naming it."""
    text = opts.get(key, default)
    try:
        v = int(text)
    except (TypeError, ValueError):
        raise ConfigError(f"--{key} must be an integer, got {text!r}") from None
    if v < lo:
        raise ConfigError(f"--{key} must be >= {lo}, got {v}")
    return v


def check_args(args, names: str, lo: int = 1) -> None:
    """Parsed argparse options: each named integer (each element of a list option) must be >= ``lo``."""
    for n in names.split():
        v = getattr(args, n)
        for x in (v if isinstance(v, list) else [v]):
            if x is not None and x < lo:
                raise ConfigError(f"--{n} must be >= {lo}, got {x}")
