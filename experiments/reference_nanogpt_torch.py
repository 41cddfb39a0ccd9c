"""The PyTorch reference for the Transformer LM target: nanoGPT's CPU configuration, written out in torch.

    /tmp/hfvenv/bin/python -m experiments.reference_nanogpt_torch --data_dir=../shared/data --seed=0

An optional peer (``pip install torch`` in a side environment), never a
dependency.  Trains nanoGPT's GPT on Tiny Shakespeare characters with
nanoGPT's CPU command (4 layers, 4 heads, 128 wide, block 64, batch 12, 2,000
iterations, dropout 0, no biases, tied embeddings, exact GELU, init N(0, 0.02)
with residual projections scaled by 1/sqrt(2 L), AdamW b2 0.99, weight decay
0.1 on matrices only, global-norm clipping at 1, lr 1e-3 with 100 linear
warm-up steps and cosine decay to 1e-4) on the same split, then scores the
validation text exactly as ``experiments.transformer`` does: every
non-overlapping 65-character window, i.e. nanoGPT's 64 predictions per window
with 1-64 characters of context (``--window=64``, the earlier scoring: 63
predictions with 1-63).  It also prints nanoGPT's own 20-batch estimate.  So the target
(<= 1.88) can be read against the reference itself, seed by seed, under one
evaluation.  ``--autocast`` runs the training forward pass under
``torch.autocast("cpu", dtype=torch.bfloat16)`` (PyTorch's mixed precision;
compare with ``experiments.transformer --matmul_dtype=bfloat16``).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import time

import numpy as np

from experiments import check_args
from jax_ar import lm_text
from jax_ar.data.batching import WindowData
from jax_ar.experiment import cli


def _model(torch, V, T, L, H, C):
    nn, F = torch.nn, torch.nn.functional

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.ln_2 = nn.LayerNorm(C, bias=False), nn.LayerNorm(C, bias=False)
            self.c_attn, self.attn_proj = nn.Linear(C, 3 * C, bias=False), nn.Linear(C, C, bias=False)
            self.c_fc, self.mlp_proj = nn.Linear(C, 4 * C, bias=False), nn.Linear(4 * C, C, bias=False)

        def forward(self, x):
            B, T_, _ = x.shape
            q, k, v = (a.view(B, T_, H, C // H).transpose(1, 2) for a in self.c_attn(self.ln_1(x)).split(C, dim=2))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(B, T_, C)
            x = x + self.attn_proj(y)
            return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x))))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte, self.wpe = nn.Embedding(V, C), nn.Embedding(T, C)
            self.blocks = nn.ModuleList([Block() for _ in range(L)])
            self.ln_f = nn.LayerNorm(C, bias=False)
            for name, p in self.named_parameters():
                if p.dim() >= 2:
                    std = 0.02 / math.sqrt(2 * L) if name.endswith("_proj.weight") else 0.02
                    nn.init.normal_(p, 0.0, std)

        def forward(self, idx):
            x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
            for b in self.blocks:
                x = b(x)
            return self.ln_f(x) @ self.wte.weight.T          # tied head

    return GPT()


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--data_dir", default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--iters", type=int, default=2000)
    ap.add_argument("--autocast", action="store_true")
    ap.add_argument("--window", type=int, default=65, choices=(64, 65),
                    help="validation window in characters: 65 = nanoGPT's 64 predictions per window")
    args = ap.parse_args(argv)
    check_args(args, "iters")
    check_args(args, "seed", lo=0)
    import torch
    import torch.nn.functional as F
    torch.manual_seed(1337 + args.seed)
    T, L, H, C = 64, 4, 4, 128                              # block, layers, heads, width
    data = lm_text.shakespeare_streams(args.data_dir, scheme="nanogpt")
    V = data["vocab_size"]
    model = _model(torch, V, T, L, H, C)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.99))
    lr_max, lr_min, warmup = 1e-3, 1e-4, 100

    def lr_at(it):
        if it < warmup:
            return lr_max * (it + 1) / (warmup + 1)
        ratio = (it - warmup) / (args.iters - warmup)
        return lr_min + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (lr_max - lr_min)

    train = WindowData(np.asarray(data["train"]), T + 1)      # x = w[:, :T], y = w[:, 1:]
    t0 = time.perf_counter()
    for it in range(args.iters):
        w, _ = train.batch(it, 12, args.seed)
        w = torch.as_tensor(w.astype(np.int64))
        for g in opt.param_groups:
            g["lr"] = lr_at(it)
        with torch.autocast("cpu", dtype=torch.bfloat16) if args.autocast else contextlib.nullcontext():
            logits = model(w[:, :T])
        loss = F.cross_entropy(logits.float().reshape(-1, V), w[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if it % 500 == 0:
            print(f"iter {it}: train loss {loss.item():.4f}", flush=True)
    fit = time.perf_counter() - t0
    model.eval()
    with torch.no_grad():
        win = torch.as_tensor(lm_text.eval_windows(data["validation"], args.window).astype(np.int64))
        nll = sum(F.cross_entropy(model(c[:, :-1]).reshape(-1, V), c[:, 1:].reshape(-1), reduction="sum").item()
                  for c in win.split(256))
        full = nll / (win.shape[0] * (args.window - 1))
        est = WindowData(np.asarray(data["validation"]), T + 1)
        batches = [torch.as_tensor(est.batch(i, 12, 10_000 + args.seed)[0].astype(np.int64)) for i in range(20)]
        est20 = float(np.mean([F.cross_entropy(model(b[:, :T]).reshape(-1, V), b[:, 1:].reshape(-1)).item()
                               for b in batches]))
    print(f"validation loss {full:.4f} nats/token over every {args.window}-character window "
          f"(1-{args.window - 1} characters of context); "
          f"nanoGPT's own 20-batch estimate {est20:.4f}; {fit / args.iters * 1e3:.1f} ms/iteration, "
          f"{torch.get_num_threads()} threads, torch {torch.__version__}", flush=True)
    print("RESULT " + json.dumps({"topic": "reference_nanogpt_torch", "seed": args.seed, "value": round(full, 4),
                                  "estimate_20_batches": round(est20, 4), "fit_seconds": round(fit, 1),
                                  "ms_per_iteration": round(fit / args.iters * 1e3, 2),
                                  "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
    cli(main)
