"""The TFDS route: prepare with TensorFlow once, read ArrayRecord data without it.

* ``prepare(name, tfds_dir, manual_dir)`` runs the TFDS builder with
  ``DownloadConfig(manual_dir=...)`` pointing at the raw files (for example
  ``../shared/data/binarized_mnist``); the builder needs TensorFlow
  (``pip install -e ".[prep]"``).  Command line::

      python -m jax_ar.data.tfds_route --name=binarized_mnist --tfds_dir=~/tfds \
          --manual_dir=../shared/data/binarized_mnist

* ``load(name, split, tfds_dir)`` reads prepared data with
  ``tfds.data_source`` (random access over ArrayRecord files, no TensorFlow)
  and returns the same arrays as the direct readers.

The direct readers in :mod:`jax_ar.data` need neither TFDS nor TensorFlow
and are what the experiments use by default.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from jax_ar.errors import ConfigError, DataFileError

KNOWN = {"binarized_mnist": "image", "tiny_shakespeare": "text"}


def _check_name(name):
    if name not in KNOWN:
        raise ConfigError(f"unknown TFDS data set {name!r}; supported: {', '.join(KNOWN)}")


def prepare(name: str, tfds_dir, manual_dir) -> Path:
    """Prepare ``name`` as ArrayRecord files under ``tfds_dir`` from the raw files in ``manual_dir``."""
    _check_name(name)
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        raise ConfigError("preparing TFDS data needs TensorFlow: pip install -e \".[prep]\" "
                          "(reading prepared data, and the direct readers, do not)") from None
    import tensorflow_datasets as tfds
    manual = Path(manual_dir).expanduser()
    if not manual.is_dir():
        raise DataFileError(f"manual_dir {str(manual)!r} does not exist")
    builder = tfds.builder(name, data_dir=str(Path(tfds_dir).expanduser()), file_format="array_record")
    cfg = tfds.download.DownloadConfig(manual_dir=str(manual))
    builder.download_and_prepare(download_config=cfg)
    return Path(builder.data_dir)


def load(name: str, split: str, tfds_dir):
    """Read prepared data with ``tfds.data_source`` (no TensorFlow needed)."""
    _check_name(name)
    import tensorflow_datasets as tfds
    d = Path(tfds_dir).expanduser()
    if not (d / name).is_dir():
        raise DataFileError(f"no prepared TFDS data set {name!r} under {str(d)!r}; run "
                            f"python -m jax_ar.data.tfds_route --name={name} --tfds_dir={d} --manual_dir=...")
    src = tfds.data_source(name, split=split, data_dir=str(d), download=False)
    if name == "binarized_mnist":
        return np.stack([np.asarray(r["image"]).reshape(-1) for r in src]).astype(np.uint8)
    return "".join(r["text"].decode() if isinstance(r["text"], bytes) else r["text"] for r in src)


if __name__ == "__main__":
    opts = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--") and "=" in a)
    try:
        print(prepare(opts["name"], opts["tfds_dir"], opts["manual_dir"]))
    except KeyError as e:
        print(f"error: missing --{e.args[0]}=...", file=sys.stderr)
        raise SystemExit(2)
    except (ConfigError, DataFileError) as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(2)
