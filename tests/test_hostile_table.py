"""The README's bad-input table, one row per case: what the user does, the exception type, the message.

Every row is checked here (type and message fragment).  ``PYTHONPATH=. python tests/test_hostile_table.py``
prints the table in markdown with the exact messages (temporary paths shown as DIR).
"""
import dataclasses
import json
import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from jax_ar import config, decoding, errors, experiment, runs, sampling, tokenizers
from jax_ar.errors import CheckpointError, ConfigError, DataFileError, ShapeError, ValueRangeError
from jax_ar.train import TrainConfig


@dataclasses.dataclass(frozen=True)
class Cfg:
    width: int = 8
    train: TrainConfig = TrainConfig()


BUDGETS = {"smoke": Cfg(), "quick": Cfg(), "full": Cfg()}


def start(tmp, *args):
    return experiment.start("demo", Cfg, BUDGETS, [f"--workdir={tmp / 'run'}", *args])


def amat(tmp, raw: bytes, split="test"):
    d = tmp / "binarized_mnist"
    d.mkdir(exist_ok=True)
    (d / f"binarized_mnist_{split}.amat").write_bytes(raw)
    from jax_ar.data import binarized_mnist
    return binarized_mnist.load(split, tmp)


def wav(tmp, channels=1, width=2, rate=8000, frames=10, raw=None):
    p = tmp / "clip.wav"
    if raw is None:
        with wave.open(str(p), "wb") as w:
            w.setnchannels(channels)
            w.setsampwidth(width)
            w.setframerate(rate)
            w.writeframes(b"\x01" * frames * channels * width)
    else:
        p.write_bytes(raw)
    from jax_ar.data import spoken_digit
    return spoken_digit.read_wav(p)


def tok_file(tmp, raw: bytes):
    p = tmp / "tok.json"
    p.write_bytes(raw)
    return tokenizers.load(p)


def model(name, **kw):
    from jax_ar.models import registry
    return registry.build(name, **kw)


def log_prob(x, name="fvsbn", **kw):
    kw = kw or {"seq_len": 6}
    return model(name, **kw).log_prob(None, np.asarray(x))   # input is checked before params are used


def run_dir(tmp, info=None, raw=None):
    d = tmp / "run"
    d.mkdir(exist_ok=True)
    if raw is not None:
        (d / "run.json").write_text(raw)
    elif info is not None:
        base = {"jax_ar_version": "0.1.0", "topic": "t", "model": "fvsbn", "model_kwargs": {"seq_len": 4},
                "dataset": {"name": "bars_and_stripes", "n": 2}}
        base.update(info)
        (d / "run.json").write_text(json.dumps({k: v for k, v in base.items() if v is not None}))
    return d


def eval_cli(*args):
    from jax_ar import eval as eval_mod
    return eval_mod.main(list(args))


def sample_cli(*args):
    from jax_ar import sample as sample_mod
    return sample_mod.main(list(args))


def escape_symlink(tmp):
    run = start(tmp, "--budget=smoke")
    (run.dir / "link").symlink_to(tmp)
    return run.path("link/outside.txt")


def fit_twice(tmp):
    from jax_ar.data.batching import ArrayData
    from jax_ar.train import fit
    m = model("fvsbn", seq_len=4)
    x = np.random.default_rng(0).integers(0, 2, (16, 4))
    cfg = TrainConfig(steps=1, batch_size=8, eval_every=1, ckpt_every=1)
    fit(m, cfg, ArrayData(x), x, workdir=tmp / "run", progress=False)
    fit(m, cfg, ArrayData(x), x, workdir=tmp / "run", progress=False)


def cli_subprocess(tmp):
    r = subprocess.run([sys.executable, "-m", "experiments.anomaly", "--budget=huge", f"--workdir={tmp}/r"],
                       capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1], timeout=300)
    assert r.returncode == 2 and r.stdout == "", (r.returncode, r.stdout)
    raise ConfigError(r.stderr.strip())   # re-raised so the row checks the text the user saw


HF_JSON = json.dumps({"version": "1.0", "model": {"type": "BPE"}, "pre_tokenizer": None}).encode()
TOK_V99 = json.dumps({"format": "jax_ar.tokenizer", "version": 99, "type": "char", "chars": ["a"]}).encode()
ROW = "0 " * 783 + "0\n"

# (area, what the user does, callable(tmp), exception type, regex the message must match)
ROWS = [
    ("command line", "unknown budget `--budget=huge`", lambda t: start(t, "--budget=huge"),
     ConfigError, r"unknown --budget='huge'; choose one of smoke, quick, full"),
    ("command line", "what the shell shows: `python -m experiments.anomaly --budget=huge` (exit code 2)",
     cli_subprocess, ConfigError, r"^error: unknown --budget='huge'; choose one of smoke, quick, full$"),
    ("command line", "argument without `--key=value` form: `lr=3`", lambda t: start(t, "lr=3"),
     ConfigError, r"argument 'lr=3' is not of the form --key=value"),
    ("command line", "bad `--resume=maybe`", lambda t: start(t, "--resume=maybe"),
     ConfigError, r"--resume='maybe' is not a valid bool"),
    ("command line", "`--workdir` names an existing file", lambda t: (t / "f").write_text("x") and
     experiment.start("demo", Cfg, BUDGETS, [f"--workdir={t / 'f'}"]),
     ConfigError, r"--workdir '.*f' exists and is not a directory"),
    ("config override", "unknown key `--train.lrr=1`", lambda t: start(t, "--train.lrr=1"),
     ConfigError, r"unknown config key 'train.lrr'; valid keys: .*train\.lr"),
    ("config override", "wrong type `--train.steps=abc`", lambda t: start(t, "--train.steps=abc"),
     ConfigError, r"--train.steps='abc' is not a valid int"),
    ("config override", "fraction for an int `--width=2.5`", lambda t: start(t, "--width=2.5"),
     ConfigError, r"--width='2.5' is not a valid int"),
    ("config override", "out of range `--train.lr=-1`", lambda t: start(t, "--train.lr=-1"),
     ConfigError, r"lr must be > 0, got -1.0"),
    ("config override", "out of range `--train.steps=0`", lambda t: start(t, "--train.steps=0"),
     ConfigError, r"steps must be >= 1, got 0"),
    ("config override", "unknown choice `--train.compute_dtype=float16`",
     lambda t: start(t, "--train.compute_dtype=float16"),
     ConfigError, r"compute_dtype must be float32 or bfloat16, got 'float16'"),
    ("config override", "malformed mesh `--train.mesh=model:2`",
     lambda t: __import__("jax_ar.train", fromlist=["x"]).make_mesh("model:2"),
     ConfigError, r"mesh must look like 'data:N'.*got 'model:2'"),
    ("config override", "more devices than visible `--train.mesh=data:4096`",
     lambda t: __import__("jax_ar.train", fromlist=["x"]).make_mesh("data:4096"),
     ConfigError, r"mesh .*asks for 4096 devices but only \d+ are visible"),
    ("config file", "saved config with an unknown key", lambda t: config.from_dict(Cfg, {"widht": 3}),
     ConfigError, r"unknown config key\(s\) \['widht'\] for Cfg"),
    ("data reader", "`--data_dir` that does not exist",
     lambda t: __import__("jax_ar.data.files", fromlist=["x"]).resolve_data_dir(t / "nope"),
     DataFileError, r"data directory '.*nope' \(from --data_dir\) does not exist"),
    ("data reader", "binarized MNIST file missing", lambda t: __import__(
        "jax_ar.data.binarized_mnist", fromlist=["x"]).load("test", t),
     DataFileError, r"missing data file 'binarized_mnist/binarized_mnist_test.amat': looked for .*expected sha256"),
    ("data reader", "truncated `.amat` file", lambda t: amat(t, ROW.encode()[:-7]),
     DataFileError, r"corrupt data file .*is not a whole number of 784-pixel lines"),
    ("data reader", "`.amat` pixel value 2", lambda t: amat(t, ("2" + ROW[1:]).encode()),
     DataFileError, r"corrupt data file .*pixel values other than 0 and 1"),
    ("data reader", "`.amat` with the wrong number of images", lambda t: amat(t, ROW.encode()),
     DataFileError, r"corrupt data file .*1 images, expected 10000"),
    ("data reader", "unknown split `dev`", lambda t: __import__(
        "jax_ar.data.binarized_mnist", fromlist=["x"]).load("dev", t),
     ConfigError, r"unknown binarized MNIST split 'dev'; choose from train, valid, test"),
    ("data reader", "unknown data set name in a run/config", lambda t: __import__(
        "jax_ar.data.registry", fromlist=["x"]).load_split({"name": "cifar"}, "test"),
     ConfigError, r"unknown dataset 'cifar'; known: binarized_mnist, bars_and_stripes, markov, tiny_shakespeare, markov_text"),
    ("data reader", "stereo WAV", lambda t: wav(t, channels=2),
     DataFileError, r"has 2 channels; only mono audio is supported"),
    ("data reader", "WAV at 44.1 kHz", lambda t: wav(t, rate=44100),
     DataFileError, r"has sample rate 44100 Hz; expected 8000 Hz"),
    ("data reader", "8-bit WAV", lambda t: wav(t, width=1),
     DataFileError, r"has 8-bit samples; expected 16-bit PCM"),
    ("data reader", "zero-length WAV", lambda t: wav(t, frames=0),
     DataFileError, r"is an empty \(zero-length\) clip"),
    ("data reader", "a text file named .wav", lambda t: wav(t, raw=b"hello, not audio"),
     DataFileError, r"corrupt or non-WAV audio file .*clip.wav"),
    ("data reader", "spoken digit split `valid`", lambda t: __import__(
        "jax_ar.data.spoken_digit", fromlist=["x"]).load("valid", t),
     ConfigError, r"unknown spoken digit split 'valid'; choose 'train' \(index 5-49\) or 'test' \(0-4\)"),
    ("tokeniser", "tokenizer file of random bytes", lambda t: tok_file(t, b"\xff\x00garbage"),
     DataFileError, r"tokenizer file .*tok.json' is damaged: not valid UTF-8 JSON"),
    ("tokeniser", "a Hugging Face tokenizer.json", lambda t: tok_file(t, HF_JSON),
     DataFileError, r"is not a jax_ar tokenizer file: format is None.*looks like a Hugging Face"),
    ("tokeniser", "tokenizer file from a newer version", lambda t: tok_file(t, TOK_V99),
     DataFileError, r"has version 99; this jax_ar reads version 1"),
    ("tokeniser", "decode an id outside the vocabulary",
     lambda t: tokenizers.CharTokenizer.fit("abc").decode([0, 7]),
     ValueRangeError, r"token id 7 is outside the vocabulary \[0, 2\]"),
    ("tokeniser", "encode a character the vocabulary lacks",
     lambda t: tokenizers.CharTokenizer.fit("abc").encode("abz"),
     ValueRangeError, r"character 'z' is not in the vocabulary"),
    ("tokeniser", "BPE vocab_size below the 256 byte alphabet",
     lambda t: tokenizers.BPETokenizer.train("hello", 100),
     ConfigError, r"BPE vocab_size=100 is below the base alphabet"),
    ("model", "image of the wrong length (784 pixels into a 6-pixel model)",
     lambda t: log_prob(np.zeros((2, 784), np.int32)),
     ShapeError, r"x has sequence length 784 but this model is built for length 6"),
    ("model", "unflattened images [B, H, W]", lambda t: log_prob(np.zeros((2, 2, 3), np.int32)),
     ShapeError, r"x must have shape \[batch, 6\] but has shape \(2, 2, 3\)"),
    ("model", "string array", lambda t: log_prob(np.array([list("010101")])),
     ShapeError, r"x has dtype <U1; expected a real numeric array"),
    ("model", "grey-level pixel 2 into a binary model", lambda t: log_prob([[0, 1, 2, 0, 1, 0]]),
     ValueRangeError, r"x holds value 2 but a Bernoulli \(binary\) model accepts only 0 and 1 \(1 bad entries\)"),
    ("model", "pixel 0.5 into a binary model", lambda t: log_prob([[0, 1, 0.5, 0, 1, 0]]),
     ValueRangeError, r"x holds non-integer values for a binary model"),
    ("model", "NaN in the input", lambda t: log_prob([[0, 1, np.nan, 0, 1, 0]]),
     ValueRangeError, r"x holds 1 NaN/Inf value\(s\); inputs must be finite"),
    ("model", "token id outside the vocabulary", lambda t: log_prob(
        [[0, 1, 5, 2]], "made_categorical", seq_len=4, vocab_size=3, hidden_sizes=(6,)),
     ValueRangeError, r"x holds token id 5 outside the vocabulary \[0, 2\] \(1 bad entries\)"),
    ("model", "class label out of range (conditional model)",
     lambda t: errors.check_labels(np.array([1, 10]), num_classes=10),
     ValueRangeError, r"label 10 is outside the range \[0, 9\]"),
    ("model", "no labels for a conditional model", lambda t: errors.check_labels(None, num_classes=10),
     ValueRangeError, r"this model is conditional on 10 classes: pass labels \(integers in \[0, 9\]\)"),
    ("model", "unknown model name", lambda t: model("pixelrnn"),
     ConfigError, r"unknown model 'pixelrnn'; registered models: .*made"),
    ("model", "hidden layer of 0 units", lambda t: model("made", seq_len=4, hidden_sizes=(0,)),
     ConfigError, r"every hidden layer needs >= 1 unit, got hidden_sizes=\(0,\)"),
    ("sampler", "batch size 0", lambda t: sampling.sample(model("fvsbn", seq_len=4), None, None, 0),
     ConfigError, r"batch_size must be an integer >= 1, got 0"),
    ("sampler", "prompt of the wrong batch size", lambda t: sampling.sample(
        model("fvsbn", seq_len=4), None, None, 2, prompt=np.zeros((3, 2), np.int32)),
     ShapeError, r"prompt must have shape \[2, P\], got \(3, 2\)"),
    ("sampler", "prompt longer than the sequence", lambda t: sampling.sample(
        model("fvsbn", seq_len=4), None, None, 1, prompt=np.zeros((1, 5), np.int32)),
     ShapeError, r"prompt length 5 exceeds num_steps 4"),
    ("sampler", "temperature 0", lambda t: decoding._check_temperature(0),
     ConfigError, r"temperature must be finite and > 0, got 0.0; temperature 0 means greedy decoding"),
    ("trainer", "batch larger than the data set", lambda t: __import__(
        "jax_ar.data.batching", fromlist=["x"]).ArrayData(np.zeros((10, 4))).batch(0, 64, 0),
     ConfigError, r"batch_size 64 exceeds the 10 training examples"),
    ("trainer", "re-running into a run directory with checkpoints, without `--resume`", fit_twice,
     CheckpointError, r"already holds checkpoints \(steps \[1\]\); pass --resume to continue it"),
    ("run directory", "two different models in one `--workdir`", lambda t: [
        start(t, "--budget=smoke", *r).describe(model=m, model_kwargs={"seq_len": 4})
        for m, r in (("fvsbn", ()), ("nade", ("--resume",)))],
     CheckpointError, r"holds a run of model 'fvsbn' \(\{'seq_len': 4\}\), not 'nade'.*choose another --workdir"),
    ("run directory", "resuming a run with other model settings", lambda t: [
        start(t, "--budget=smoke", *r).describe(model="fvsbn", model_kwargs={"seq_len": n})
        for n, r in ((4, ()), (6, ("--resume",)))],
     CheckpointError, r"holds a run of 'fvsbn' with other model settings \(seq_len: saved 4, now 6\); "
                      r"pass the saved settings \(its config.json lists them\)"),
    ("run directory", "`jax_ar.eval` on a directory that does not exist",
     lambda t: eval_cli(f"--workdir={t / 'nope'}"),
     CheckpointError, r"run directory '.*nope' does not exist"),
    ("run directory", "`jax_ar.eval` on a directory without run.json",
     lambda t: eval_cli(f"--workdir={run_dir(t)}"),
     CheckpointError, r"is not a jax_ar run directory: run.json is missing"),
    ("run directory", "corrupt run.json", lambda t: runs.read_run(run_dir(t, raw="{not json")),
     CheckpointError, r"run.json' is corrupt: Expecting property name"),
    ("run directory", "run.json not written by jax_ar", lambda t: runs.read_run(run_dir(t, {"model": None})),
     CheckpointError, r"lacks the key 'model'; it was not written by jax_ar"),
    ("run directory", "run from another jax_ar version", lambda t: runs.read_run(
        run_dir(t, {"jax_ar_version": "9.9.0"})),
     CheckpointError, r"was written by jax_ar 9.9.0; this is .* whose checkpoints are not compatible"),
    ("run directory", "run whose model arguments this code no longer accepts", lambda t: runs.load_run(
        run_dir(t, {"model_kwargs": {"seq_len": 4, "old_arg": 1}})),
     CheckpointError, r"was made with model arguments this code does not accept .*another code version"),
    ("run directory", "sampling a count-based (n-gram) run", lambda t: runs.load_run(
        run_dir(t, {"model": "ngram", "model_kwargs": {"orders": [3], "methods": ["kneser_ney"]}})),
     CheckpointError, r"is a count-based 'ngram' run: it saves no model parameters to sample or evaluate"),
    ("run directory", "run with no best checkpoint", lambda t: runs.load_run(run_dir(t, {})),
     CheckpointError, r"no best-validation checkpoint in '.*best'"),
    ("run directory", "`jax_ar.eval` with an unknown option", lambda t: eval_cli("--workdir=x", "--foo=1"),
     ConfigError, r"unknown option\(s\) \['foo'\]; jax_ar.eval takes --workdir, --split, --data_dir"),
    ("run directory", "`jax_ar.eval` without `--workdir`", lambda t: eval_cli(),
     ConfigError, r"--workdir=RUN is required"),
    ("run directory", "`jax_ar.sample` with an option of another decoding strategy",
     lambda t: sample_cli("--workdir=x", "--strategy=greedy", "--temperature=0.7"),
     ConfigError, r"--temperature do\(es\) not apply to --strategy=greedy \(it takes no options\)"),
    ("run directory", "`jax_ar.sample --strategy=top_k` without `--k`",
     lambda t: sample_cli("--workdir=x", "--strategy=top_k"),
     ConfigError, r"--strategy=top_k needs --k=K \(the number of tokens kept, >= 1\)"),
    ("output path", "output name with `..`", lambda t: start(t, "--budget=smoke").path("../outside.txt"),
     ConfigError, r"output name '../outside.txt' would escape the run directory"),
    ("output path", "absolute output name", lambda t: start(t, "--budget=smoke").path("/tmp/x.png"),
     ConfigError, r"output name '/tmp/x.png' would escape the run directory"),
    ("output path", "output through a symlink that leaves the run directory", escape_symlink,
     ConfigError, r"output name 'link/outside.txt' would escape the run directory"),
    ("anomaly", "NaN anomaly scores into AUROC",
     lambda t: __import__("jax_ar.anomaly.auroc", fromlist=["x"]).auroc([0.0, 1.0], [np.nan]),
     ValueRangeError, r"scores_out holds 1 NaN/Inf value\(s\)"),
    ("run directory", "re-running into a directory that holds a finished run's files, without `--resume`",
     lambda t: [start(t, "--budget=smoke").path("notes.txt").write_text("mine") for _ in range(2)],
     CheckpointError, r"already holds files \(.*notes.txt.*\); pass --resume to continue that run or choose a new"),
    ("run directory", "`--resume` of a directory that does not exist (a mistyped path)",
     lambda t: start(t, "--budget=smoke", "--resume"),
     CheckpointError, r"--resume: .*run' does not exist"),
    ("model", "an option the model does not take", lambda t: model("fvsbn", seq_len=4, hidden=8),
     ConfigError, r"model 'fvsbn' has no option 'hidden'; it takes seq_len"),
    ("sampler", "more steps than a fixed-length model has positions", lambda t: sampling.sample(
        model("fvsbn", seq_len=4), None, None, 1, num_steps=6),
     ConfigError, r"num_steps 6 exceeds what this model's cache holds \(4 positions\)"),
    ("sampler", "a token-picking strategy on a continuous model", lambda t: sampling.sample(
        model("ar_linear", seq_len=4, order=1), None, None, 1, pick=decoding.Greedy()),
     ConfigError, r"decoding strategies pick token ids, but this model's events are continuous"),
    ("model", "an AR(p) fit to a constant series", lambda t: __import__(
        "jax_ar.linear_ar", fromlist=["x"]).fit(np.ones(50), 2),
     ValueRangeError, r"AR\(2\) has no unique maximum-likelihood fit: the series is constant"),
    ("metric", "KL divergence given q instead of log q", lambda t: __import__(
        "jax_ar.metrics", fromlist=["x"]).kl_divergence(np.array([0.5, 0.5]), np.array([0.25, 0.75])),
     ValueRangeError, r"log_q must hold log-probabilities \(<= 0, no NaN\); pass log\(q\), not q"),
]


@pytest.mark.parametrize("row", ROWS, ids=[f"{a}: {w}"[:60] for a, w, *_ in ROWS])
def test_row(row, tmp_path, monkeypatch):
    area, what, fn, exc, pattern = row
    monkeypatch.delenv("JAX_AR_DATA_DIR", raising=False)
    with pytest.raises(exc, match=pattern) as info:
        fn(tmp_path)
    assert isinstance(info.value, errors.JaxArError)


def test_table_is_large_and_distinct():
    assert len(ROWS) >= 25
    assert len({w for _, w, *_ in ROWS}) == len(ROWS)
    assert {a for a, *_ in ROWS} >= {"command line", "config override", "data reader", "tokeniser", "model",
                                     "sampler", "run directory", "output path"}


def markdown() -> str:
    import tempfile
    lines = ["| # | where | bad input | error type | message the user sees |", "|---|---|---|---|---|"]
    for i, (area, what, fn, exc, _) in enumerate(ROWS, 1):
        with tempfile.TemporaryDirectory() as d:
            os.chdir(d)
            try:
                fn(Path(d))
                msg, name = "(no error!)", "-"
            except errors.JaxArError as e:
                msg, name = str(e).replace(os.path.realpath(d), "DIR").replace(d, "DIR"), type(e).__name__
        if len(msg) > 300:
            msg = msg[:300] + " ..."
        msg = msg.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {i} | {area} | {what} | `{name}` | {msg} |")
    return "\n".join(lines)


if __name__ == "__main__":
    here = os.getcwd()
    out = markdown()
    os.chdir(here)
    print(out)
