"""Speed of the Transformer LM: generation (KV cache vs recompute) and likelihood evaluation.

    python -m experiments.bench_transformer [--new_tokens=200] [--prompt=16] [--repeats=3]

Model: nanoGPT's CPU-configuration shape (4 layers, 4 heads, 128 wide, vocab 65,
no biases, tied embeddings) with a 256-token context so 16 + 200 (or 256) tokens
fit; random weights (speed does not depend on them).  Prints tokens/s for
(a) the KV-cache ``lax.scan`` sampler and (b) the recompute-everything sampler,
at batch 1 and 8; teacher-forced likelihood throughput (tokens/s) and achieved
GFLOP/s against a float32 matmul ceiling measured in the same process.
HF ``transformers`` GPT-2 of the same shape (``generate`` with ``use_cache=True``)
is benchmarked side by side when torch and transformers are installed
(optional peers, e.g. in a side virtual environment; never dependencies).
"""
from __future__ import annotations

import argparse
import json
import time

import jax
import jax.numpy as jnp
import numpy as np

from jax_ar import decoding, generation
from jax_ar.models import transformer
from jax_ar.bench import matmul_ceiling


def _best_time(fn, repeats: int) -> float:
    jax.block_until_ready(fn())                         # compile + warm up
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        jax.block_until_ready(fn())
        best = min(best, time.perf_counter() - t)
    return best


def forward_flops(L: int, W: int, V: int, T: int, mlp: int = 4) -> float:
    """Multiply-add FLOPs (x2) of one teacher-forced pass per sequence of T tokens."""
    per_tok = L * (2 * (3 * W * W + W * W + 2 * mlp * W * W)) + 2 * W * V
    attn = L * 2 * 2 * T * T * W            # q k^T and weights v over the full T x T (masked) square
    return per_tok * T + attn


def _hf_peer(L, H, W, V, args) -> dict:
    """Hugging Face GPT-2 of the same shape, random weights, ``generate(use_cache=True)``, pure sampling.

    An optional peer (``pip install torch transformers``), never a dependency.
    """
    import torch
    import transformers
    cfg = transformers.GPT2Config(vocab_size=V, n_positions=args.context, n_embd=W, n_layer=L, n_head=H,
                                  bos_token_id=0, eos_token_id=None, pad_token_id=0)
    net = transformers.GPT2LMHeadModel(cfg).eval()
    out = {"version": f"transformers {transformers.__version__}, torch {torch.__version__}, "
                      f"{torch.get_num_threads()} threads"}
    for B in [int(b) for b in args.batches.split(",")]:
        ids = torch.as_tensor(np.random.default_rng(0).integers(0, V, (B, args.prompt)))

        def gen():
            with torch.no_grad():
                y = net.generate(ids, attention_mask=torch.ones_like(ids), do_sample=True, top_k=0,
                                 max_new_tokens=args.new_tokens, min_new_tokens=args.new_tokens, use_cache=True)
            assert y.shape == (B, args.prompt + args.new_tokens), y.shape
            return y
        t = _best_time(gen, args.repeats)
        out[f"batch{B}"] = {"tok_s": round(B * args.new_tokens / t, 1), "seconds": round(t, 4)}
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--new_tokens", type=int, default=200)
    ap.add_argument("--prompt", type=int, default=16)
    ap.add_argument("--context", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--eval_batch", type=int, default=32)
    ap.add_argument("--unroll", type=int, default=1)
    args = ap.parse_args(argv)
    L, H, W, V = 4, 4, 128, 65
    model = transformer.build(vocab_size=V, seq_len=args.context, num_layers=L, num_heads=H, width=W)
    params = model.init(jax.random.PRNGKey(0))
    results = {"device": str(jax.devices()[0]), "context": args.context}
    pick = decoding.Sample(1.0)
    for B in [int(b) for b in args.batches.split(",")]:
        prompt = np.random.default_rng(0).integers(0, V, (B, args.prompt)).astype(np.int32)
        key = jax.random.PRNGKey(1)
        t_kv = _best_time(lambda: generation.generate(model, params, key, prompt, args.new_tokens, pick=pick,
                                                      unroll=args.unroll)[0], args.repeats)
        t_re = _best_time(lambda: generation.generate_recompute(model, params, key, prompt, args.new_tokens,
                                                                pick=pick)[0], args.repeats)
        n = B * args.new_tokens
        results[f"batch{B}"] = {"kv_cache_tok_s": round(n / t_kv, 1), "recompute_tok_s": round(n / t_re, 1),
                                "speedup": round(t_re / t_kv, 2), "kv_seconds": round(t_kv, 4),
                                "recompute_seconds": round(t_re, 4)}
        print(f"batch {B}: KV-cache scan {n / t_kv:,.0f} tok/s ({t_kv * 1e3:.1f} ms for {args.new_tokens} "
              f"new tokens), recompute-everything {n / t_re:,.0f} tok/s ({t_re * 1e3:.1f} ms); "
              f"speed-up {t_re / t_kv:.1f}x", flush=True)
    try:
        hf = _hf_peer(L, H, W, V, args)
    except ImportError:
        hf = "not installed (not benchmarked)"
    results["hf_transformers"] = hf
    if isinstance(hf, dict):
        for B in [int(b) for b in args.batches.split(",")]:
            r = results[f"batch{B}"]
            r["hf_tok_s"] = hf[f"batch{B}"]["tok_s"]
            r["kv_vs_hf"] = round(r["kv_cache_tok_s"] / r["hf_tok_s"], 2)
            print(f"batch {B}: HF transformers GPT-2 (same shape, use_cache=True) {r['hf_tok_s']:,.0f} tok/s; "
                  f"our KV-cache sampler is {r['kv_vs_hf']:.1f}x that", flush=True)
    # teacher-forced likelihood throughput at the nanoGPT CPU block (64) and at the full context
    ceiling = matmul_ceiling(1024)
    results["matmul_ceiling_gflops"] = round(ceiling, 1)
    for T in (64, args.context):
        m = transformer.build(vocab_size=V, seq_len=T, num_layers=L, num_heads=H, width=W)
        x = jax.random.randint(jax.random.PRNGKey(2), (args.eval_batch, T), 0, V)
        p_T = params if T == args.context else m.init(jax.random.PRNGKey(0))
        f = jax.jit(lambda p, x: m.log_prob(p, x))
        t = _best_time(lambda: f(p_T, x), args.repeats)
        toks = args.eval_batch * T
        gflops = args.eval_batch * forward_flops(L, W, V, T) / t / 1e9
        results[f"eval_T{T}"] = {"tok_s": round(toks / t, 1), "gflops": round(gflops, 1),
                                 "fraction_of_ceiling": round(gflops / ceiling, 3)}
        print(f"likelihood eval T={T} batch {args.eval_batch}: {toks / t:,.0f} tok/s, {gflops:.1f} GFLOP/s "
              f"= {gflops / ceiling:.0%} of the {ceiling:.1f} GFLOP/s matmul ceiling", flush=True)
    print("RESULT " + json.dumps(results), flush=True)


if __name__ == "__main__":
    main()
