"""Decoder-only Transformer character LM on Tiny Shakespeare (nanoGPT splits), or a BPE variant.

    python -m experiments.transformer --budget=quick --data_dir=../shared/data   # nanoGPT CPU config
    python -m experiments.transformer --budget=quick --tokenizer=bpe             # BPE tokens, bits/char
    python -m experiments.transformer --budget=full                              # nanoGPT GPU config

quick = nanoGPT's CPU configuration (4 layers, 4 heads, 128 wide, nanoGPT's
block of 64 tokens of context, which is ``block=65`` here (below), batch 12,
2000 iterations, dropout 0, no biases, AdamW b2 0.99 wd 0.1, clip 1,
lr 1e-3, 100 warm-up steps, cosine to 1e-4), with one change: the learned
position vectors start at Bishop's sinusoidal encoding (amplitude 0.1, the size
of the token vectors) instead of nanoGPT's N(0, 0.02) noise, which reaches a
lower validation loss in the same 2,000 iterations than either nanoGPT's
learned positions (``--positions=learned`` gives nanoGPT's model) or the fixed
sinusoid (``--positions=sinusoidal``); figures in BENCHMARKS.md.

nanoGPT's block of 64 is 64 tokens of context: each window gives 64
predictions, with 1-64 tokens of context.  Our model spends its first
position on a BOS token (so it also predicts the first token), hence
``block`` (the model's positions) is 65 = BOS + 64: the same 64 predictions
per window, the same validation loss definition, plus the first token's.
(``--block=64``, the quick runs' setting before this was understood, gives
63 tokens of context at most.)
The full budget likewise has 257 = BOS + nanoGPT's 256.  Also measures
steady-state milliseconds per training iteration with the trainer's own jitted step.
"""
import dataclasses
import time

import jax
import jax.numpy as jnp
import numpy as np

from experiments import at_least, one_of
from jax_ar import experiment, generation, lm_text, runs
from jax_ar.contract import param_count
from jax_ar.data import texts
from jax_ar.data.batching import WindowData
from jax_ar.models import transformer
from jax_ar.optim import make_optimizer
from jax_ar.train import TrainConfig, fit, make_train_step


@dataclasses.dataclass(frozen=True)
class Config:
    text: str = "tiny_shakespeare"   # or markov_text (embedded, known entropy rate; jax_ar.data.texts)
    tokenizer: str = "char"          # char | bpe
    bpe_vocab: int = 512
    num_layers: int = 4
    num_heads: int = 4
    width: int = 128
    block: int = 65                  # model positions (seq_len): BOS + nanoGPT's block of 64 tokens
    dropout: float = 0.0
    norm: str = "pre"
    positions: str = "sinusoidal_learned"   # learned, starting at Bishop's sinusoid (or learned | sinusoidal)
    sinusoid_scale: float = transformer.SINUSOID_SCALE   # its amplitude next to N(0, 0.02) token vectors
    activation: str = "gelu_tanh"    # or gelu (exact; nanoGPT's torch.nn.GELU)
    matmul_dtype: str = "float32"    # or bfloat16: mixed-precision dense products (layers.mixed)
    use_bias: bool = False
    tie_weights: bool = True
    eval_windows: int = 0            # 0 = every non-overlapping validation window
    sample_tokens: int = 500
    timing_steps: int = 200
    train: TrainConfig = TrainConfig(
        steps=2000, batch_size=12, optimizer="adamw", lr=1e-3, schedule="cosine", warmup_steps=100,
        min_lr_ratio=0.1, b2=0.99, weight_decay=0.1, decay="matrices", clip_norm=1.0, eval_every=500, ckpt_every=2000,
        log_every=100)

    def validate(self):
        texts.check(self.text)
        one_of(self, "tokenizer", ("char", "bpe"))
        at_least(self, 256, "bpe_vocab")             # byte-level BPE starts from the 256 bytes
        at_least(self, 2, "block")                   # BOS + at least one token
        at_least(self, 0, "eval_windows")
        at_least(self, 1, "sample_tokens timing_steps")
        transformer.build(vocab_size=2, seq_len=self.block, num_layers=self.num_layers, num_heads=self.num_heads,
                          width=self.width, norm=self.norm, positions=self.positions, dropout=self.dropout,
                          activation=self.activation, matmul_dtype=self.matmul_dtype,
                          sinusoid_scale=self.sinusoid_scale)   # the model's own checks, before any BPE training


BUDGETS = {
    "smoke": Config(text="markov_text", num_layers=1, num_heads=2, width=32, block=32, eval_windows=64, sample_tokens=50,
                    timing_steps=5, train=TrainConfig(steps=20, batch_size=8, optimizer="adamw", lr=1e-3,
                                                      eval_every=20, ckpt_every=20, log_every=10)),
    "quick": Config(),
    # nanoGPT's GPU configuration with its own learned positions (its 1.4697 was measured so)
    "full": Config(num_layers=6, num_heads=6, width=384, block=257, dropout=0.2, positions="learned",
                   train=TrainConfig(steps=5000, batch_size=64, optimizer="adamw", lr=1e-3, schedule="cosine",
                                     warmup_steps=100, min_lr_ratio=0.1, b2=0.99, weight_decay=0.1,
                                     decay="matrices", clip_norm=1.0, eval_every=250, ckpt_every=1000,
                                     log_every=100)),
}


def time_train_step(model, cfg: TrainConfig, params, data, loss_fn, n: int) -> float:
    """Steady-state ms per iteration of the trainer's jitted step (host batching included)."""
    opt, _ = make_optimizer(cfg)
    state = {"params": jax.tree_util.tree_map(jnp.array, params), "opt_state": opt.init(params),
             "step": jnp.asarray(0, jnp.int32), "key": jax.random.PRNGKey(0)}
    step = make_train_step(model, cfg, opt, loss_fn)
    for i in range(5):                                   # compile + warm up
        x, _ = data.batch(i, cfg.batch_size, 123)
        state, m = step(state, jnp.asarray(x), None)
    jax.block_until_ready(state)
    t0 = time.perf_counter()
    for i in range(n):
        x, _ = data.batch(i, cfg.batch_size, 123)
        state, m = step(state, jnp.asarray(x), None)
        bool(m["ok"])                                    # the trainer syncs on this every step
    jax.block_until_ready(state)
    return (time.perf_counter() - t0) / n * 1e3


def main(argv=None):
    run = experiment.start("transformer", Config, BUDGETS, argv)
    cfg = run.cfg
    tok = None
    if cfg.tokenizer == "bpe":
        from jax_ar.data import shakespeare
        from jax_ar.tokenizers import BPETokenizer
        t0 = time.time()
        train_text = shakespeare.split(texts.load(cfg.text, run.data_dir), "nanogpt")["train"]
        tok = BPETokenizer.train(train_text, cfg.bpe_vocab)
        print(f"BPE tokenizer: {tok.vocab_size} tokens, trained in {time.time() - t0:.1f} s", flush=True)
    data = lm_text.shakespeare_streams(run.data_dir, scheme="nanogpt", tokenizer=tok, text=cfg.text)
    kwargs = dict(vocab_size=data["vocab_size"], seq_len=cfg.block, num_layers=cfg.num_layers,
                  num_heads=cfg.num_heads, width=cfg.width, norm=cfg.norm, positions=cfg.positions,
                  tie_weights=cfg.tie_weights, use_bias=cfg.use_bias, dropout=cfg.dropout,
                  activation=cfg.activation, matmul_dtype=cfg.matmul_dtype,
                  sinusoid_scale=cfg.sinusoid_scale)
    if tok is not None:                  # jax_ar.sample / jax_ar.eval read the run's text with it
        tok.save(run.path(runs.TOKENIZER_FILE))
    run.describe(model=f"transformer_{cfg.norm}norm", model_kwargs=kwargs,   # registry name: runs.load_run
                 dataset={"name": cfg.text, "split": "nanogpt", "tokenizer": cfg.tokenizer,
                          **({"vocab": data["vocab"]} if tok is None else {"tokenizer_file": runs.TOKENIZER_FILE})})
    model = transformer.build(**kwargs)
    valid_w = lm_text.eval_windows(data["validation"], cfg.block)
    if cfg.eval_windows:
        valid_w = valid_w[:cfg.eval_windows]

    def loss_fn(params, x, cond, key):
        out = model.outputs_train(params, x, key if cfg.dropout > 0 else None)
        return -jnp.mean(model.dist.log_prob(out, x))

    def valid_fn(params):
        return float(np.mean(lm_text.per_position_nll(model, params, valid_w)))

    train_data = WindowData(data["train"], cfg.block)
    res = fit(model, cfg.train, train_data, workdir=run.dir, resume=run.resume, loss_fn=loss_fn,
              valid_fn=valid_fn)
    nll_D = lm_text.per_position_nll(model, res.best_params, valid_w)
    summary = lm_text.loss_summary(nll_D)
    ms_iter = time_train_step(model, cfg.train, res.best_params, train_data, loss_fn, cfg.timing_steps)
    print(f"validation loss {summary['loss_nanogpt']:.4f} nats/token (positions with >= 1 token of "
          f"context, nanoGPT's definition); all positions {summary['loss_all_positions']:.4f}; "
          f"steady-state {ms_iter:.2f} ms/iteration; fit wall {res.seconds:.1f} s", flush=True)
    extra = {}
    if tok is not None:   # bits per character over the same validation text span
        n_tok = valid_w.size
        chars = len(lm_text.decode(data, valid_w.ravel()))
        extra["bits_per_char"] = round(lm_text.bits_per_char(summary["loss_all_positions"], n_tok, chars), 4)
        extra["bits_per_char_nanogpt_positions"] = round(
            lm_text.bits_per_char(summary["loss_nanogpt"], n_tok, chars), 4)
        extra["tokens_per_char"] = round(n_tok / chars, 4)
    prompt = jnp.asarray(data["validation"][None, :1], jnp.int32)
    out = generation.generate_sliding(model, res.best_params, jax.random.PRNGKey(cfg.train.seed), prompt,
                                      cfg.sample_tokens)
    text = lm_text.decode(data, np.concatenate([np.asarray(prompt)[0], np.asarray(out)[0]]))
    run.path("samples.txt").write_text(text)
    print("sample:\n" + text[:500], flush=True)
    true = texts.entropy_rate(cfg.text)
    if true is not None and tok is None:
        extra["true_nats_per_char"] = round(true, 4)
    run.result(model="transformer", dataset=cfg.text, split="validation (nanoGPT last 10%)",
               metric="loss", value=round(summary["loss_nanogpt"], 4), unit="nats/token",
               steps=res.steps, params=param_count(res.best_params), best_step=res.best_step,
               loss_all_positions=round(summary["loss_all_positions"], 4),
               loss_position0=round(summary["loss_position0"], 4), ms_per_iteration=round(ms_iter, 2),
               fit_seconds=round(res.seconds, 1), tokenizer=cfg.tokenizer, vocab_size=data["vocab_size"],
               validation_windows=int(valid_w.shape[0]), **extra)


if __name__ == "__main__":
    experiment.cli(main)
