"""Draw samples from a saved run: ``python -m jax_ar.sample --workdir=RUN --num=N [--seed=S]``.

Writes a PNG grid (images), a text file (tokens/text) or WAV files (audio)
into the run directory, according to the data set recorded in ``run.json``.
"""
from __future__ import annotations

import sys

import jax
import numpy as np

from jax_ar import experiment, images, sampling
from jax_ar.data import registry as data_registry
from jax_ar.errors import ConfigError
from jax_ar.runs import load_run, parse_cli


def _unused(d, stem: str, suffix: str):
    """``d/stem+suffix``, or ``stem-1``, ``stem-2``, ... : an earlier call's samples are kept."""
    p, i = d / f"{stem}{suffix}", 0
    while p.exists():
        i += 1
        p = d / f"{stem}-{i}{suffix}"
    return p


def write_samples(info: dict, x: np.ndarray, workdir) -> list:
    from pathlib import Path
    d = Path(workdir)
    spec = info.get("dataset", {})
    meta = {**data_registry.info(spec), **spec}
    out = []
    if meta.get("modality") == "image":
        p = _unused(d, "samples_cli", ".png")
        images.save_png_grid(x.reshape(-1, *meta["shape"]), p)
        out.append(p)
    elif meta.get("modality") == "audio":
        from jax_ar.data.spoken_digit import write_wav
        stem = _unused(d, "sample_cli", "_0.wav").name[:-len("_0.wav")]
        for i, row in enumerate(x):
            wav = row
            if meta.get("mu_law"):
                from jax_ar.audio import mu_law_decode
                wav = np.asarray(mu_law_decode(row, meta["mu_law"]))
            p = d / f"{stem}_{i}.wav"
            write_wav(p, wav, meta.get("sample_rate", 8000))
            out.append(p)
    else:
        vocab = meta.get("vocab")
        lines = ["".join(vocab[int(t)] for t in row) if vocab else " ".join(map(str, row)) for row in x]
        p = _unused(d, "samples_cli", ".txt")
        p.write_text("\n\n".join(lines) + "\n")
        out.append(p)
    return out


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    workdir, _, opts = parse_cli(argv, "jax_ar.sample", {"num": (int, 16), "seed": (int, 0)},
                                 "--workdir, --num, --seed")
    num, seed = opts["num"], opts["seed"]
    if num < 1:
        raise ConfigError(f"--num must be >= 1, got {num}")
    info, model, params = load_run(workdir)
    cond = np.arange(num) % model.num_classes if model.num_classes else None
    x, _ = sampling.sample(model, params, jax.random.PRNGKey(seed), num, cond=cond)
    for p in write_samples(info, np.asarray(x), workdir):
        print(f"wrote {p}")


if __name__ == "__main__":
    experiment.cli(main)
