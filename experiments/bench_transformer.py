"""Speed of the Transformer LM: generation (KV cache vs recompute) and likelihood evaluation.

    python -m experiments.bench_transformer [--new_tokens=200] [--prompt=16] [--repeats=3] [--segment=N]
                                            [--matmul_dtype=bfloat16]

Model: nanoGPT's CPU-configuration shape (4 layers, 4 heads, 128 wide, vocab 65,
no biases, tied embeddings) with a 256-token context so 16 + 200 tokens fit
(``--new_tokens=256 --context=512`` for 256 new tokens); random weights (speed
does not depend on them).  Prints tokens/s for
(a) the KV-cache ``lax.scan`` sampler and (b) the recompute-everything sampler,
at batch 1 and 8; teacher-forced likelihood throughput (tokens/s) and achieved
GFLOP/s against a float32 matmul ceiling measured in the same process.
``--matmul_dtype=bfloat16`` runs our model with mixed-precision dense products
(:mod:`jax_ar.layers.mixed`); HF stays float32.
HF ``transformers`` GPT-2 of the same shape (``generate`` with ``use_cache=True``)
is benchmarked side by side when torch and transformers are installed (optional
peers, e.g. in a side virtual environment; never dependencies).  The samplers
are timed in alternation, round by round, and the best round of each is kept.
"""
from __future__ import annotations

import argparse
import json
import time

import jax
import numpy as np

from experiments import check_args
from jax_ar import decoding, generation
from jax_ar.models import transformer
from jax_ar.bench import matmul_ceiling
from jax_ar.experiment import cli


def forward_flops(L: int, W: int, V: int, T: int, mlp: int = 4) -> float:
    """Multiply-add FLOPs (x2) of one teacher-forced pass per sequence of T tokens."""
    per_tok = L * (2 * (3 * W * W + W * W + 2 * mlp * W * W)) + 2 * W * V
    attn = L * 2 * 2 * T * T * W            # q k^T and weights v over the full T x T (masked) square
    return per_tok * T + attn


def _hf_generators(L, H, W, V, args):
    """Hugging Face GPT-2 of the same shape, random weights, ``generate(use_cache=True)``, pure sampling:
    ``(version, {B: fn})``.  An optional peer (``pip install torch transformers``), never a dependency;
    raises ImportError when it is not installed."""
    import torch
    import transformers
    cfg = transformers.GPT2Config(vocab_size=V, n_positions=args.context, n_embd=W, n_layer=L, n_head=H,
                                  bos_token_id=0, eos_token_id=None, pad_token_id=0)
    net = transformers.GPT2LMHeadModel(cfg).eval()
    version = f"transformers {transformers.__version__}, torch {torch.__version__}, {torch.get_num_threads()} threads"
    fns = {}
    for B in [int(b) for b in args.batches.split(",")]:
        ids = torch.as_tensor(np.random.default_rng(0).integers(0, V, (B, args.prompt)))

        def gen(ids=ids, B=B):
            with torch.no_grad():
                y = net.generate(ids, attention_mask=torch.ones_like(ids), do_sample=True, top_k=0,
                                 max_new_tokens=args.new_tokens, min_new_tokens=args.new_tokens, use_cache=True)
            assert y.shape == (B, args.prompt + args.new_tokens), y.shape
            return y
        fns[B] = gen
    return version, fns


def _interleaved_best(fns: dict, repeats: int) -> dict:
    """Best wall time of each function, timed in alternation round by round (after one warm-up
    call each), so slow drifts of a shared machine hit every contender alike."""
    for f in fns.values():
        jax.block_until_ready(f())
    best = {k: float("inf") for k in fns}
    for _ in range(repeats):
        for k, f in fns.items():
            t = time.perf_counter()
            jax.block_until_ready(f())
            best[k] = min(best[k], time.perf_counter() - t)
    return best


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--new_tokens", type=int, default=200)
    ap.add_argument("--prompt", type=int, default=16)
    ap.add_argument("--context", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--eval_batch", type=int, default=32)
    ap.add_argument("--unroll", type=int, default=1)
    ap.add_argument("--segment", type=int, default=None)    # generate's cache-growing stretches (0: none)
    ap.add_argument("--matmul_dtype", default="float32")
    args = ap.parse_args(argv)
    check_args(args, "new_tokens prompt context repeats eval_batch unroll")
    check_args(args, "segment", lo=0)
    L, H, W, V = 4, 4, 128, 65
    shape = dict(vocab_size=V, num_layers=L, num_heads=H, width=W, matmul_dtype=args.matmul_dtype)
    model = transformer.build(seq_len=args.context, **shape)
    params = model.init(jax.random.PRNGKey(0))
    results = {"device": str(jax.devices()[0]), "context": args.context, "segment": args.segment,
               "matmul_dtype": args.matmul_dtype}
    try:
        hf_version, hf_fns = _hf_generators(L, H, W, V, args)
        results["hf_transformers"] = hf_version
    except ImportError:
        hf_fns = {}
        results["hf_transformers"] = "not installed (not benchmarked)"
    pick = decoding.Sample(1.0)
    for B in [int(b) for b in args.batches.split(",")]:
        prompt = np.random.default_rng(0).integers(0, V, (B, args.prompt)).astype(np.int32)
        key = jax.random.PRNGKey(1)
        fns = {"kv": lambda: generation.generate(model, params, key, prompt, args.new_tokens, pick=pick,
                                                 unroll=args.unroll, segment=args.segment)[0],
               "recompute": lambda: generation.generate_recompute(model, params, key, prompt, args.new_tokens,
                                                                  pick=pick)[0]}
        if B in hf_fns:
            fns["hf"] = hf_fns[B]
        t = _interleaved_best(fns, args.repeats)
        n = B * args.new_tokens
        r = {"kv_cache_tok_s": round(n / t["kv"], 1), "recompute_tok_s": round(n / t["recompute"], 1),
             "speedup": round(t["recompute"] / t["kv"], 2), "kv_seconds": round(t["kv"], 4),
             "recompute_seconds": round(t["recompute"], 4)}
        print(f"batch {B}: KV-cache scan {n / t['kv']:,.0f} tok/s ({t['kv'] * 1e3:.1f} ms for {args.new_tokens} "
              f"new tokens), recompute-everything {n / t['recompute']:,.0f} tok/s ({t['recompute'] * 1e3:.1f} ms); "
              f"speed-up {t['recompute'] / t['kv']:.1f}x", flush=True)
        if "hf" in t:
            r.update(hf_tok_s=round(n / t["hf"], 1), kv_vs_hf=round(t["hf"] / t["kv"], 2))
            print(f"batch {B}: HF transformers GPT-2 (same shape, use_cache=True) {n / t['hf']:,.0f} tok/s; "
                  f"our KV-cache sampler is {t['hf'] / t['kv']:.1f}x that (timed in alternation)", flush=True)
        results[f"batch{B}"] = r
    # teacher-forced likelihood throughput at the nanoGPT CPU block (64) and at the full context
    ceiling = matmul_ceiling(1024)
    results["matmul_ceiling_gflops"] = round(ceiling, 1)
    for T in (64, args.context):
        m = transformer.build(seq_len=T, **shape)
        x = jax.random.randint(jax.random.PRNGKey(2), (args.eval_batch, T), 0, V)
        p_T = params if T == args.context else m.init(jax.random.PRNGKey(0))
        f = jax.jit(lambda p, x: m.log_prob(p, x))
        t = _interleaved_best({"eval": lambda: f(p_T, x)}, args.repeats)["eval"]
        toks = args.eval_batch * T
        gflops = args.eval_batch * forward_flops(L, W, V, T) / t / 1e9
        results[f"eval_T{T}"] = {"tok_s": round(toks / t, 1), "gflops": round(gflops, 1),
                                 "fraction_of_ceiling": round(gflops / ceiling, 3)}
        print(f"likelihood eval T={T} batch {args.eval_batch}: {toks / t:,.0f} tok/s, {gflops:.1f} GFLOP/s "
              f"= {gflops / ceiling:.0%} of the {ceiling:.1f} GFLOP/s matmul ceiling", flush=True)
    print("RESULT " + json.dumps(results), flush=True)


if __name__ == "__main__":
    cli(main)
