"""Decoding strategies on a trained character Transformer: temperature figure, table, drift.

    python -m experiments.decoding --budget=quick --model_dir=runs/transformer-quick-... --data_dir=../shared/data

* ``temperature.png``: softmax of the lecture's a = (3, 0, 1) across temperatures.
* ``strategies.md``: per strategy (greedy, temperatures, top-k, top-p, beam) the
  model's log-likelihood per token of its own samples against diversity
  (distinct n-grams), with a sample each.
* ``drift.md``: free-running samples' unigram/bigram statistics against the
  validation text, per segment of positions, beside the teacher-forced loss.
Without ``--model_dir`` a small model is trained first (train.steps) on
``--text`` (Tiny Shakespeare, or ``markov_text``: embedded synthetic text, the
smoke budget's).
"""
import dataclasses
import json

import jax
import numpy as np

from experiments import at_least
from jax_ar import decoding_study, experiment, lm_text, runs
from jax_ar.contract import param_count
from jax_ar.data import texts
from jax_ar.data.batching import WindowData
from jax_ar.models import transformer
from jax_ar.train import TrainConfig, fit


@dataclasses.dataclass(frozen=True)
class Config:
    model_dir: str = ""              # a finished experiments.transformer run (char tokenizer)
    text: str = "tiny_shakespeare"   # without model_dir: or markov_text (embedded; jax_ar.data.texts)
    batch: int = 32                  # samples per strategy
    num_new: int = 62                # new tokens after a 1-token prompt (context 64 = BOS + 63)
    beam_width: int = 4
    drift_batch: int = 16
    drift_tokens: int = 600
    drift_segment: int = 100
    train: TrainConfig = TrainConfig(steps=300, batch_size=12, optimizer="adamw", lr=1e-3, b2=0.99,
                                     eval_every=300, ckpt_every=300)

    def validate(self):
        texts.check(self.text)
        at_least(self, 1, "batch num_new beam_width drift_batch drift_tokens drift_segment")


BUDGETS = {
    "smoke": Config(text="markov_text", batch=4, num_new=20, drift_batch=2, drift_tokens=60, drift_segment=20,
                    train=TrainConfig(steps=10, batch_size=8, eval_every=10, ckpt_every=10)),
    "quick": Config(),
    "full": Config(batch=128, drift_batch=64, drift_tokens=2000, drift_segment=250),
}


def main(argv=None):
    run = experiment.start("decoding", Config, BUDGETS, argv)
    cfg = run.cfg
    probs = decoding_study.temperature_figure(run.path("temperature.png"))
    print("softmax(a/T), a=(3,0,1):", np.round(probs, 3).tolist(), flush=True)
    text = cfg.text
    if cfg.model_dir:
        info, model, params = runs.load_run(cfg.model_dir)
        steps = info.get("config", {}).get("train", {}).get("steps", 0)
        text = info.get("dataset", {}).get("name", text)       # the text the model was trained on
        texts.check(text)
    data = lm_text.shakespeare_streams(run.data_dir, scheme="nanogpt", text=text)
    if not cfg.model_dir:
        block = 32 if run.budget == "smoke" else 64
        model = transformer.build(vocab_size=data["vocab_size"], seq_len=block,
                                  num_layers=1 if run.budget == "smoke" else 2, width=64)
        res = fit(model, cfg.train, WindowData(data["train"], block), workdir=run.dir, resume=run.resume,
                  valid_fn=None)
        params, steps = res.best_params, res.steps
    run.describe(model="transformer_prenorm", model_kwargs={"vocab_size": model.dist.vocab_size,
                 "seq_len": model.seq_len}, dataset={"name": text, "split": "nanogpt"},
                 source_model_dir=cfg.model_dir)
    num_new = min(cfg.num_new, model.seq_len - 1)
    rng = np.random.default_rng(1)
    starts = rng.integers(0, len(data["validation"]) - 1, cfg.batch)
    prompt = data["validation"][starts][:, None].astype(np.int32)
    decode = lambda ids: lm_text.decode(data, ids)
    rows = decoding_study.strategy_table(model, params, prompt, num_new, key=jax.random.PRNGKey(0),
                                         beam_widths=(cfg.beam_width,), decode=decode)
    valid_w = lm_text.eval_windows(data["validation"], model.seq_len)[:512]
    tf = lm_text.loss_summary(lm_text.per_position_nll(model, params, valid_w))
    keys = ["strategy", "loglik_per_token", "distinct_1", "distinct_2", "distinct_3", "distinct_4", "sample"]
    table = decoding_study.markdown_table(rows, keys)
    drift = decoding_study.drift(model, params, data["validation"], key=jax.random.PRNGKey(2),
                                 batch=cfg.drift_batch, num_new=cfg.drift_tokens, segment=cfg.drift_segment)
    drift_md = decoding_study.markdown_table(drift, ["positions", "unigram_tv", "bigram_tv"])
    free = next(r for r in rows if r["strategy"] == "sample T=1")["loglik_per_token"]
    gap = (f"teacher-forced validation loss {tf['loss_all_positions']:.4f} nats/token; free-running "
           f"samples (T=1) score {-free:.4f} nats/token under the model")
    run.path("strategies.md").write_text(table + "\n")
    run.path("drift.md").write_text(gap + "\n\n" + drift_md + "\n")
    run.path("strategies.json").write_text(json.dumps(rows, indent=1))
    print(table, "\n", gap, "\n", drift_md, flush=True)
    run.result(model="transformer", dataset=text, split="validation", metric="loglik_per_token_T1",
               value=round(free, 4), unit="nats/token", steps=int(steps), params=param_count(params),
               teacher_forced_loss=round(tf["loss_all_positions"], 4),
               greedy_distinct_2=next(r for r in rows if r["strategy"] == "greedy")["distinct_2"],
               sample_distinct_2=next(r for r in rows if r["strategy"] == "sample T=1")["distinct_2"],
               drift_first=drift[0], drift_last=drift[-2], drift_real=drift[-1])


if __name__ == "__main__":
    experiment.cli(main)
