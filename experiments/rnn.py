"""Character LMs on Tiny Shakespeare: vanilla RNN vs LSTM vs GRU at matched parameter counts.

Trained with truncated BPTT (state carried between consecutive windows).
Reports validation and test bits/char (TFDS 90/5/5 split) and the nats on
nanoGPT's 10% validation split; writes generated text to the run directory.

    python -m experiments.rnn --budget=quick --data_dir=../shared/data

``--text=markov_text`` (the smoke budget's) uses embedded synthetic text with a
known entropy rate instead (``true_bits_per_char``).
"""
import dataclasses
import json
import math

import jax

from experiments import at_least, check_items, items
from jax_ar import experiment
from jax_ar.contract import param_count
from jax_ar.data import texts
from jax_ar.rnn import char_lm, tbptt


CELLS = ("rnn", "lstm", "gru")


@dataclasses.dataclass(frozen=True)
class Config:
    text: str = "tiny_shakespeare"  # or markov_text (embedded, known entropy rate; jax_ar.data.texts)
    cells: str = "rnn,lstm,gru"     # comma-separated cell types, trained one after another
    target_params: int = 800_000    # ~ nanoGPT's 4-layer 128-wide CPU transformer (0.80M)
    layers: int = 1
    embed: int = 64
    train_limit: int = 0            # use only the first N training characters (0 = all)
    eval_window: int = 256
    sample_chars: int = 600
    prompt: str = "ROMEO:"
    train: tbptt.TBPTTConfig = tbptt.TBPTTConfig()

    def validate(self):
        texts.check(self.text)
        check_items(self, "cells", ok=lambda c: c in CELLS, want="cells among " + ", ".join(CELLS))
        at_least(self, 1, "target_params layers embed eval_window sample_chars")
        at_least(self, 0, "train_limit")


BUDGETS = {
    "smoke": Config(text="markov_text", target_params=20_000, embed=16, train_limit=20_000, sample_chars=80,
                    train=tbptt.TBPTTConfig(steps=20, batch_size=8, window=32, eval_every=10,
                                            eval_tokens=2000, warmup_steps=5)),
    # nanoGPT's CPU budget: 2,000 steps of 12 x 64 characters
    "quick": Config(train=tbptt.TBPTTConfig(steps=2000, batch_size=12, window=64, lr=2e-3, warmup_steps=100,
                                            eval_every=500, eval_tokens=20_000)),
    "full": Config(layers=2, target_params=3_000_000,
                   train=tbptt.TBPTTConfig(steps=20_000, batch_size=64, window=128, lr=2e-3, warmup_steps=500,
                                           eval_every=2000, eval_tokens=0)),
}


def main(argv=None):
    run = experiment.start("rnn", Config, BUDGETS, argv)
    cfg = run.cfg
    vocab, streams = char_lm.load_streams(run.data_dir, cfg.train_limit, text=cfg.text)
    char_lm.prompt_ids(cfg.prompt, vocab)     # a --prompt outside the text's characters fails now, not after training
    V = len(vocab)
    cells = items(cfg.cells)
    kwargs_all = {c: char_lm.build_matched(c, V, cfg.target_params, layers=cfg.layers, embed=cfg.embed)[1]
                  for c in cells}
    run.describe(model="char_" + "+".join(cells), model_kwargs=kwargs_all,
                 dataset={"name": cfg.text, "split": "tfds 90/5/5 (+ nanoGPT 90/10)"})
    table = {}
    for cell in cells:
        model, kwargs = char_lm.build_matched(cell, V, cfg.target_params, layers=cfg.layers, embed=cfg.embed)
        print(f"== {cell}: {kwargs}", flush=True)
        run.describe(model=f"char_{cell}", model_kwargs=kwargs, subdir=cell,     # jax_ar.sample --workdir=RUN/cell
                     dataset={"name": cfg.text, "split": "tfds", "vocab": vocab})
        params, hist = tbptt.train(model, cfg.train, streams["train"], streams["validation"],
                                   workdir=run.path(cell), resume=run.resume)
        ev = char_lm.evaluate_streams(model, params, {k: streams[k] for k in ("validation", "test", "nanogpt_val")},
                                      window=cfg.eval_window)
        samples = char_lm.sample_text(model, params, vocab, jax.random.PRNGKey(cfg.train.seed),
                                      num_chars=cfg.sample_chars, prompt=cfg.prompt, num_samples=2)
        run.path(f"samples_{cell}.txt").write_text("\n\n----------\n\n".join(samples))
        table[cell] = {"params": param_count(params), "hidden": kwargs["hidden"],
                       "valid_bpc": round(ev["validation"]["bits_per_token"], 4),
                       "test_bpc": round(ev["test"]["bits_per_token"], 4),
                       "nanogpt_val_nats": round(ev["nanogpt_val"]["nats_per_token"], 4),
                       "final_train_loss_nats": round(hist["train"][-1]["loss"], 4),
                       "diverged": hist["diverged"],
                       "train_seconds": hist["train"][-1].get("seconds")}
        print(json.dumps({cell: table[cell]}), flush=True)
        print(samples[0][:300], flush=True)
    run.path("table.json").write_text(json.dumps(table, indent=2))
    main_cell = "lstm" if "lstm" in table else cells[0]
    m = table[main_cell]
    true = texts.entropy_rate(cfg.text)
    run.result(model=f"char_{main_cell}", dataset=cfg.text, split="test", metric="bits_per_char",
               value=m["test_bpc"], unit="bits/char", steps=cfg.train.steps, params=m["params"], table=table,
               true_bits_per_char=None if true is None else round(true / math.log(2), 4))


if __name__ == "__main__":
    experiment.cli(main)
