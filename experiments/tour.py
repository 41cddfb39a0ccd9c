"""The tour: train and evaluate every topic at a small budget, print one results table.

    python -m experiments.tour [--budget=smoke] [--data_dir=DIR] [--workdir=runs/tour-...]

Each topic's experiment runs in its own sub-directory of the tour's run
directory with ``--budget=smoke`` (seconds each, embedded synthetic data where
the topic has it); samples (PNG/WAV/text) land there.  A topic that fails
is reported in the table, and the tour goes on.
"""
from __future__ import annotations

import importlib
import json
import sys
import time
import traceback
from pathlib import Path

from jax_ar.data.files import data_available, resolve_data_dir

TOPICS = ["fvsbn", "ar_linear", "ngram", "tokenization", "nade", "made", "pixelcnn", "rnn",
          "mdn", "wavenet", "transformer", "decoding", "image_gpt", "anomaly"]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    opts = dict(a[2:].split("=", 1) for a in argv if a.startswith("--") and "=" in a)
    budget = opts.get("budget", "smoke")
    root = Path(opts.get("workdir", f"runs/tour-{time.strftime('%Y%m%d-%H%M%S')}"))
    root.mkdir(parents=True, exist_ok=True)
    data_dir = opts.get("data_dir") or (str(resolve_data_dir()) if data_available() else None)
    only = opts.get("topics")
    rows = []
    for topic in (only.split(",") if only else TOPICS):
        try:
            mod = importlib.import_module(f"experiments.{topic}")
        except ModuleNotFoundError:
            continue
        args = [f"--budget={budget}", f"--workdir={root / topic}"]
        if data_dir:
            args.append(f"--data_dir={data_dir}")
        t0 = time.time()
        print(f"\n=== {topic} ===", flush=True)
        try:
            mod.main(args)
            res = json.loads((root / topic / "result.json").read_text())
            rows.append((topic, res.get("model"), res.get("dataset"), res.get("split"), res.get("metric"),
                         res.get("value"), res.get("unit"), f"{time.time() - t0:.0f}s"))
        except Exception as e:  # report and go on
            traceback.print_exc()
            rows.append((topic, "-", "-", "-", "FAILED", f"{type(e).__name__}: {str(e)[:60]}", "", f"{time.time() - t0:.0f}s"))
    head = ("topic", "model", "dataset", "split", "metric", "value", "unit", "time")
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    fmt = " | ".join(f"{{:{w}}}" for w in widths)
    table = "\n".join([fmt.format(*head), "-+-".join("-" * w for w in widths)] + [fmt.format(*map(str, r)) for r in rows])
    print("\n" + table)
    (root / "results.md").write_text(table + "\n")
    failed = [r[0] for r in rows if r[4] == "FAILED"]
    summary = {"topics": len(rows), "failed": failed, "workdir": str(root)}
    print("RESULT " + json.dumps(summary), flush=True)
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
