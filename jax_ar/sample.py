"""Draw samples from a saved run::

    python -m jax_ar.sample --workdir=RUN [--num=16] [--seed=0] [--length=N] [--prompt=TEXT]
                            [--strategy=sample|greedy|top_k|top_p|beam] [--temperature=T] [--k=K] [--p=P]
                            [--width=W] [--length_penalty=A]

Writes a PNG grid (images), a text file (tokens/text) or WAV files (audio)
into the run directory, according to the data set recorded in ``run.json``;
earlier samples are kept.  ``--prompt`` (text runs) is encoded with the run's
character vocabulary or its saved tokenizer; ``--length`` new elements may run
past a Transformer's context (it then slides over its last ``seq_len - 1``).
Decoding strategies (:mod:`jax_ar.decoding`) apply to models over token ids.
"""
from __future__ import annotations

import sys

import jax
import numpy as np

from jax_ar import decoding, errors, experiment, generation, images, sampling
from jax_ar.beam_search import beam_search
from jax_ar.data import registry as data_registry
from jax_ar.errors import ConfigError
from jax_ar.runs import load_run, load_tokenizer, parse_cli


def _unused(d, stem: str, suffix: str):
    """``d/stem+suffix``, or ``stem-1``, ``stem-2``, ... : an earlier call's samples are kept."""
    p, i = d / f"{stem}{suffix}", 0
    while p.exists():
        i += 1
        p = d / f"{stem}-{i}{suffix}"
    return p


def write_samples(info: dict, x: np.ndarray, workdir, tokenizer=None) -> list:
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
        p = _unused(d, "samples_cli", ".txt")
        p.write_text("\n\n".join(decode_row(meta, tokenizer, row) for row in x) + "\n")
        out.append(p)
    return out


def decode_row(meta: dict, tokenizer, row) -> str:
    """Text of one row of token ids: the run's character vocabulary, its saved tokenizer, or the ids."""
    ids = [int(t) for t in row]
    if tokenizer is not None:
        return tokenizer.decode(ids)
    vocab = meta.get("vocab")
    return "".join(vocab[i] for i in ids) if vocab else " ".join(map(str, ids))


def encode_prompt(meta: dict, tokenizer, text: str) -> np.ndarray:
    """``--prompt`` as token ids [P] with the run's character vocabulary or saved tokenizer."""
    if not text:
        raise ConfigError("--prompt is empty; give at least one character (or leave it out)")
    if tokenizer is not None:
        return np.asarray(tokenizer.encode(text), np.int32)
    vocab = meta.get("vocab")
    if not vocab:
        raise ConfigError("--prompt needs a text run (a character vocabulary or a saved tokenizer in the run "
                          "directory); this run's data is not text")
    index = {c: i for i, c in enumerate(vocab)}
    unknown = sorted({c for c in text if c not in index})
    if unknown:
        raise ConfigError(f"--prompt has characters outside the run's vocabulary: {unknown}")
    return np.asarray([index[c] for c in text], np.int32)


STRATEGY_OPTIONS = {"sample": ("temperature",), "greedy": (), "top_k": ("k", "temperature"),
                    "top_p": ("p", "temperature"), "beam": ("width", "length_penalty")}
OPTIONS = {"num": (int, 16), "seed": (int, 0), "length": (int, 0), "prompt": (str, ""),
           "strategy": (str, "sample"), "temperature": (float, 1.0), "k": (int, 0), "p": (float, 1.0),
           "width": (int, 0), "length_penalty": (float, 0.0)}
TAKES = ("--workdir, --num, --seed, --length (new elements; 0: up to the model's context), --prompt (text runs), "
         "--strategy (sample | greedy | top_k | top_p | beam), --temperature, --k (top_k), --p (top_p), "
         "--width and --length_penalty (beam: writes the width best sequences, best first)")


def make_pick(opts: dict):
    """The decoding strategy the options ask for (None: the model's own distribution, untouched)."""
    name = opts["strategy"]
    if name not in STRATEGY_OPTIONS:
        raise ConfigError(f"unknown --strategy={name!r}; choose one of {', '.join(STRATEGY_OPTIONS)}")
    given = {k for k in ("temperature", "k", "p", "width", "length_penalty") if opts[k] != OPTIONS[k][1]}
    stray = sorted(given - set(STRATEGY_OPTIONS[name]))
    if stray:
        raise ConfigError(f"--{', --'.join(stray)} do(es) not apply to --strategy={name} (it takes "
                          f"{', '.join('--' + k for k in STRATEGY_OPTIONS[name]) or 'no options'})")
    if "temperature" in given and not opts["temperature"] > 0:
        raise ConfigError(f"--temperature must be > 0, got {opts['temperature']}; temperature 0 is greedy "
                          f"decoding: --strategy=greedy")
    if name == "top_k" and "k" not in given:
        raise ConfigError("--strategy=top_k needs --k=K (the number of tokens kept, >= 1)")
    if name == "beam":
        if "width" not in given:
            raise ConfigError("--strategy=beam needs --width=W (the number of beams, >= 1)")
        if opts["num"] != OPTIONS["num"][1] or opts["seed"] != OPTIONS["seed"][1]:
            raise ConfigError("--num and --seed do not apply to --strategy=beam: it is deterministic and writes "
                              "its --width best sequences")
        return None
    if name == "sample" and not given:
        return None
    return decoding.from_name(name, **{k: opts[k] for k in STRATEGY_OPTIONS[name]})


def _check_length(length) -> None:
    errors.check_integer(length, "--length", lo=0, hint=" (0: up to the model's context)")


def beams(model, params, width: int, *, prompt_P=None, length: int = 0, length_penalty: float = 0.0):
    """The ``width`` best sequences of one beam search [width, P + new] (best first) and their
    log-probabilities [width]; ``length`` new elements (0: up to the model's context)."""
    _check_length(length)
    prompt = None if prompt_P is None else np.asarray(prompt_P)[None]
    tokens, _, logp, _ = beam_search(model, params, width, prompt=prompt, num_steps=length or None,
                                     length_penalty=length_penalty)
    x = np.asarray(tokens)[0]
    if prompt_P is not None:
        x = np.concatenate([np.tile(prompt_P, (width, 1)), x], axis=1)
    return x, np.asarray(logp)[0]


def draw(model, params, key, num: int, *, prompt_P=None, length: int = 0, pick=None):
    """``num`` sequences [num, P + new]: the prompt (if any) then ``length`` new elements (0: up to the
    model's context).  Past the context, a model that takes prefixes (the Transformer) continues by
    sliding over its last ``seq_len - 1`` elements; other models with per-position parameters stop there."""
    P = 0 if prompt_P is None else len(prompt_P)
    _check_length(length)
    new = length or model.seq_len - P
    if new < 1:
        raise ConfigError(f"the {P}-element prompt fills the model's context of {model.seq_len}; "
                          f"give --length=N for N new elements")
    cond = np.arange(num) % model.num_classes if model.num_classes else None
    limit = model.max_steps
    if limit is None or P + new <= limit:
        prompt = None if prompt_P is None else np.tile(prompt_P, (num, 1))
        x, _ = sampling.sample(model, params, key, num, cond=cond, prompt=prompt, num_steps=P + new, pick=pick)
        return np.asarray(x)
    if not getattr(model, "prefixes", False):
        raise ConfigError(f"this model has parameters for {limit} positions, so one sample holds at most {limit} "
                          f"elements; ask for --length <= {limit - P}")
    k0, k1 = jax.random.split(key)
    if prompt_P is None:           # a first full context, then slide
        first = draw(model, params, k0, num, length=model.seq_len, pick=pick)
        head, new = first, new - model.seq_len
    else:
        head = np.tile(prompt_P, (num, 1))
    tail = generation.generate_sliding(model, params, k1, head, new, pick=pick)
    return np.concatenate([head, np.asarray(tail)], axis=1)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    workdir, _, opts = parse_cli(argv, "jax_ar.sample", OPTIONS, TAKES)
    num, seed = opts["num"], opts["seed"]
    if num < 1:
        raise ConfigError(f"--num must be >= 1, got {num}")
    pick = make_pick(opts)
    info, model, params = load_run(workdir)
    meta = {**data_registry.info(info.get("dataset", {})), **info.get("dataset", {})}
    tokenizer = load_tokenizer(workdir, info)
    prompt = encode_prompt(meta, tokenizer, opts["prompt"]) if opts["prompt"] else None
    if meta.get("modality") == "image" and opts["length"] not in (0, model.seq_len):
        raise ConfigError(f"an image run samples whole images ({model.seq_len} pixels); leave out --length")
    if opts["strategy"] == "beam":
        x, logp = beams(model, params, opts["width"], prompt_P=prompt, length=opts["length"],
                        length_penalty=opts["length_penalty"])
        print("beam log-probabilities of the new elements (nats, best first): "
              + ", ".join(f"{v:.3f}" for v in logp))
    else:
        x = draw(model, params, jax.random.PRNGKey(seed), num, prompt_P=prompt, length=opts["length"], pick=pick)
    for p in write_samples(info, x, workdir, tokenizer):
        print(f"wrote {p}")
    if meta.get("modality", "tokens") == "tokens" and (meta.get("vocab") or tokenizer is not None):
        print(decode_row(meta, tokenizer, x[0])[:1000])


if __name__ == "__main__":
    experiment.cli(main)
