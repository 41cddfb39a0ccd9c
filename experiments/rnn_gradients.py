"""The vanishing/exploding gradient story, in three measurements.

1. ||dL_T/dh_t|| against T - t for recurrent matrices with singular values
   below, at and above 1 (linear and tanh RNNs), and LSTM / GRU at init:
   gradient_norms.png.
2. Gradient clipping and training stability: a vanilla RNN char LM in the
   exploding regime trained with plain SGD, with and without clipping:
   clipping.png (needs Tiny Shakespeare; skipped without --data_dir).
3. Long-range dependency: recall the first symbol after ``lag`` noise
   symbols, vanilla RNN vs LSTM vs GRU: long_range.png.

    python -m experiments.rnn_gradients --budget=quick --data_dir=../shared/data
"""
import dataclasses
import json

import numpy as np

from experiments import at_least, check_items, items
from jax_ar import experiment
from jax_ar.errors import DataFileError
from jax_ar.rnn import char_lm, clipping, gradients, long_range, plot


RECALL_CELLS = ("rnn", "lstm", "lstm_fb3", "gru")


@dataclasses.dataclass(frozen=True)
class Config:
    hidden: int = 64
    horizon: int = 100               # T for the gradient-norm curves
    sigmas: str = "0.9,1.0,1.1,2.0"
    clip: clipping.ClipStudyConfig = clipping.ClipStudyConfig()
    clip_train_chars: int = 200_000
    recall_cells: str = "rnn,lstm,lstm_fb3,gru"   # lstm_fb3: LSTM with forget-gate bias 3
    recall_lags: str = "20,50,100"
    recall: long_range.RecallConfig = long_range.RecallConfig(steps=1000)

    def validate(self):
        at_least(self, 1, "hidden horizon")
        at_least(self, 0, "clip_train_chars")        # 0 = all
        check_items(self, "sigmas", float, lambda s: s > 0, "numbers > 0")
        check_items(self, "recall_cells", ok=lambda c: c in RECALL_CELLS, want="cells among " + ", ".join(RECALL_CELLS))
        check_items(self, "recall_lags", int, lambda n: n >= 0, "integers >= 0")


BUDGETS = {
    "smoke": Config(hidden=16, horizon=20, clip=clipping.ClipStudyConfig(hidden=16, steps=20, window=20),
                    clip_train_chars=5000, recall_cells="rnn,gru", recall_lags="5",
                    recall=long_range.RecallConfig(steps=20, hidden=8)),
    "quick": Config(),
    "full": Config(hidden=128, horizon=200, clip=clipping.ClipStudyConfig(steps=3000),
                   recall_lags="20,50,100,200", recall=long_range.RecallConfig(steps=5000)),
}


def _at(norms, k):
    return float(norms[min(k, len(norms) - 1)])


def main(argv=None):
    run = experiment.start("rnn_gradients", Config, BUDGETS, argv)
    cfg = run.cfg
    run.describe(model="rnn_cells", model_kwargs={"hidden": cfg.hidden}, dataset={"name": "synthetic + tiny_shakespeare"})
    summary = {}

    # 1. gradient norms
    sig = tuple(items(cfg.sigmas, float))
    norms = gradients.gradient_story(hidden=cfg.hidden, steps=cfg.horizon, sigmas=sig)
    lags = np.arange(cfg.horizon)
    plot.line_plot({k: (lags, v) for k, v in norms.items()}, run.path("gradient_norms.png"), log_y=True,
                   title=f"||dL_T/dh_t|| vs T-t (H={cfg.hidden}, W_h = sigma * orthogonal)",
                   xlabel="T - t", ylabel="gradient norm")
    summary["grad_norms"] = {k: {f"T-t={j}": _at(v, j) for j in (0, 10, 50, cfg.horizon - 1)} for k, v in norms.items()}
    for k, v in summary["grad_norms"].items():
        print(f"{k:16s} " + "  ".join(f"{a}: {b:.3g}" for a, b in v.items()), flush=True)

    # 2. clipping
    try:
        vocab, streams = char_lm.load_streams(run.data_dir, cfg.clip_train_chars)
        clip = clipping.clipping_study(streams["train"], len(vocab), cfg.clip)
        plot.line_plot({f"clip={c:g}" if c else "no clipping": (r["curve_steps"], r["curve_loss"])
                        for c, r in clip.items()}, run.path("clipping.png"),
                       title=f"vanilla RNN, W_h singular values {cfg.clip.recurrent_scale}, SGD lr {cfg.clip.lr}",
                       xlabel="step", ylabel="train loss (nats/char, 10-step mean)")
        summary["clipping"] = {str(c): {k: v for k, v in r.items() if not k.startswith("curve")}
                               for c, r in clip.items()}
        print(json.dumps(summary["clipping"]), flush=True)
    except DataFileError as e:
        print(f"clipping study skipped: {e}", flush=True)

    # 3. long-range recall
    rec = {}
    curves = {}
    for cell in items(cfg.recall_cells):
        for lag in items(cfg.recall_lags, int):
            base = dataclasses.replace(cfg.recall, cell=cell.split("_")[0], lag=lag,
                                       lstm_forget_bias=3.0 if cell == "lstm_fb3" else cfg.recall.lstm_forget_bias)
            r = long_range.train_recall(base)
            rec[f"{cell} lag={lag}"] = {k: v for k, v in r.items() if k not in ("losses", "accuracies")}
            curves[f"{cell}"] = curves.get(cell, ([], []))
            curves[cell][0].append(lag)
            curves[cell][1].append(r["test_accuracy"])
            print(f"recall {cell:9s} lag {lag:4d}: test accuracy {r['test_accuracy']:.3f} "
                  f"(chance {r['chance_accuracy']:.2f}), loss {r['test_loss_nats']:.3f} nats", flush=True)
    plot.line_plot(curves, run.path("long_range.png"), title="recall the first symbol after `lag` noise symbols",
                   xlabel="lag", ylabel="test accuracy")
    summary["recall"] = rec
    run.path("summary.json").write_text(json.dumps(summary, indent=2, default=float))
    key = next((k for k in rec if k.startswith("lstm ")), next(iter(rec)))
    run.result(model="rnn_cells", dataset="recall task", split="test", metric="recall_accuracy",
               value=rec[key]["test_accuracy"], unit="fraction", steps=cfg.recall.steps,
               params=rec[key]["params"], which=key, summary=summary)


if __name__ == "__main__":
    experiment.cli(main)
