"""Re-evaluate a saved run: ``python -m jax_ar.eval --workdir=RUN [--split=test] [--data_dir=DIR]``.

Prints the NLL summary and a final ``RESULT {json}`` line.
"""
from __future__ import annotations

import json
import sys
import time

from jax_ar import evaluate, experiment, lm_text
from jax_ar.contract import param_count
from jax_ar.data import registry as data_registry, texts
from jax_ar.runs import load_run, load_tokenizer, parse_cli


def main(argv=None):
    t0 = time.time()
    argv = sys.argv[1:] if argv is None else argv
    workdir, data_dir, opts = parse_cli(argv, "jax_ar.eval", {"split": (str, "test")},
                                        "--workdir, --split, --data_dir")
    split = opts["split"]
    info, model, params = load_run(workdir)
    tokenizer = load_tokenizer(workdir, info)
    x, cond = data_registry.load_split(info["dataset"], split, data_dir, seq_len=model.seq_len,
                                       tokenizer=tokenizer)
    s = evaluate.evaluate(model, params, x, cond)
    rec = {"topic": info["topic"], "model": info["model"], "dataset": info["dataset"].get("name"),
           "split": split, "metric": "nll", "value": round(s["nll_nats"], 4), "unit": "nats/example",
           "steps": info["best_step"], "seconds": round(time.time() - t0, 2), "params": param_count(params),
           "bits_per_dim": round(s["bits_per_dim"], 5), "workdir": str(workdir)}
    if info["dataset"].get("name") in texts.TEXTS:        # the text experiments' per-character figures
        summary = lm_text.loss_summary(lm_text.per_position_nll(model, params, x))
        rec.update({k: round(v, 4) for k, v in summary.items()}, windows=int(x.shape[0]))
        if tokenizer is not None:                            # as experiments.transformer reports a BPE run
            chars = len(tokenizer.decode([int(t) for t in x.ravel()]))
            rec.update(bits_per_char=round(lm_text.bits_per_char(summary["loss_all_positions"], x.size, chars), 4),
                       bits_per_char_nanogpt_positions=round(
                           lm_text.bits_per_char(summary["loss_nanogpt"], x.size, chars), 4),
                       tokens_per_char=round(x.size / chars, 4))
    print("RESULT " + json.dumps(rec), flush=True)
    return rec


if __name__ == "__main__":
    experiment.cli(main)
