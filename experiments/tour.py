"""The tour: train and evaluate every topic at a small budget, print one results table.

    python -m experiments.tour [--budget=smoke] [--data_dir=DIR] [--workdir=runs/tour-...] [--topics=a,b]

Each topic's experiment runs in its own sub-directory of the tour's run
directory with ``--budget=smoke`` (seconds each); samples (PNG/WAV/text) land
there.  Without the real data sets (``../shared/data`` or ``--data_dir``) only
the topics with embedded synthetic data at that budget run (all but ar_linear
and wavenet: bars-and-stripes images, the ``markov_text`` character chain, and
mdn without its speech part); the others are reported as SKIPPED.  A topic
that fails is reported in the table, the tour goes on, and it exits with 1.
"""
from __future__ import annotations

import importlib
import json
import sys
import time
import traceback
from pathlib import Path

from jax_ar.data.files import data_available, resolve_data_dir
from jax_ar.errors import ConfigError, DataFileError
from jax_ar.experiment import check_new_workdir, cli, refuse_non_directory

TOPICS = ["fvsbn", "ar_linear", "ngram", "tokenization", "nade", "made", "pixelcnn", "rnn",
          "mdn", "wavenet", "transformer", "decoding", "image_gpt", "anomaly"]
BUDGETS = ("smoke", "quick", "full")


def parse(argv) -> dict:
    """The tour's options; a malformed or unknown argument, budget or topic is a ConfigError."""
    opts = {"budget": "smoke"}
    for a in argv:
        if a in ("-h", "--help"):
            print("usage: " + __doc__.splitlines()[2].strip() + f"\ntopics: {', '.join(TOPICS)}")
            raise SystemExit(0)
        key, eq, value = a[2:].partition("=") if a.startswith("--") else ("", "", "")
        if not eq or key not in ("budget", "data_dir", "workdir", "topics"):
            raise ConfigError(f"unknown argument {a!r}; the tour takes --budget=, --data_dir=, --workdir= "
                              f"and --topics=a,b")
        opts[key] = value
    if opts["budget"] not in BUDGETS:
        raise ConfigError(f"unknown --budget={opts['budget']!r}; choose one of {', '.join(BUDGETS)}")
    opts["topics"] = opts["topics"].split(",") if "topics" in opts else TOPICS
    bad = [t for t in opts["topics"] if t not in TOPICS]
    if bad:
        raise ConfigError(f"unknown topic(s) {bad} in --topics; choose from {', '.join(TOPICS)}")
    return opts


def main(argv=None):
    opts = parse(sys.argv[1:] if argv is None else argv)
    budget = opts["budget"]
    root = Path(opts.get("workdir", f"runs/tour-{time.strftime('%Y%m%d-%H%M%S')}"))
    refuse_non_directory(root)
    check_new_workdir(root, "choose a new --workdir")   # results.md and every topic's run go there
    root.mkdir(parents=True, exist_ok=True)
    data_dir = opts.get("data_dir") or (str(resolve_data_dir()) if data_available() else None)
    rows = []
    for topic in opts["topics"]:
        args = [f"--budget={budget}", f"--workdir={root / topic}"]
        if data_dir:
            args.append(f"--data_dir={data_dir}")
        t0 = time.time()
        print(f"\n=== {topic} ===", flush=True)
        try:
            importlib.import_module(f"experiments.{topic}").main(args)
            res = json.loads((root / topic / "result.json").read_text())
            rows.append((topic, res.get("model"), res.get("dataset"), res.get("split"), res.get("metric"),
                         res.get("value"), res.get("unit"), f"{time.time() - t0:.0f}s"))
        except Exception as e:  # report and go on
            if isinstance(e, DataFileError) and not data_dir:   # no embedded data for it at this budget
                print(f"{topic}: skipped, it needs the real data set: {e}", flush=True)
                status, what = "SKIPPED", "needs the real data (--data_dir)"
            else:
                traceback.print_exc()
                status, what = "FAILED", f"{type(e).__name__}: {str(e)[:60]}"
            rows.append((topic, "-", "-", "-", status, what, "", f"{time.time() - t0:.0f}s"))
    head = ("topic", "model", "dataset", "split", "metric", "value", "unit", "time")
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    fmt = " | ".join(f"{{:{w}}}" for w in widths)
    table = "\n".join([fmt.format(*head), "-+-".join("-" * w for w in widths)] + [fmt.format(*map(str, r)) for r in rows])
    print("\n" + table)
    (root / "results.md").write_text(table + "\n")
    failed = [r[0] for r in rows if r[4] == "FAILED"]
    skipped = [r[0] for r in rows if r[4] == "SKIPPED"]
    if skipped:
        print(f"\n{len(skipped)} topic(s) skipped for want of the real data ({', '.join(skipped)}): "
              f"put the data sets of ../shared/data (README, Data) in a directory and pass --data_dir=DIR")
    summary = {"topics": len(rows), "failed": failed, "skipped": skipped, "workdir": str(root)}
    print("RESULT " + json.dumps(summary), flush=True)
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    cli(main)
