"""Side-by-side benchmark: jax_ar byte-level BPE vs Hugging Face `tokenizers`.

Both are trained on the same Tiny Shakespeare text (the whole file as one
string, GPT-2 pre-tokenisation pattern, 256-byte initial alphabet, no special
tokens) at each vocabulary size; both encode the whole file as one string.
Prints training time, encoding speed (our cold cache = fresh tokenizer, and
warm cache = second call), token counts and their relative difference, and how
many leading merges are identical.

    python -m experiments.bench_tokenizers [--vocab 512 4096] [--repeats 3] [--data_dir DIR]

`tokenizers` is a peer, not a dependency: without it only our figures print.
"""
from __future__ import annotations

import argparse
import time

from experiments import check_args
from jax_ar.data import shakespeare
from jax_ar.tokenizers.bpe import BPETokenizer
from jax_ar.tokenizers.pretokenize import bytes_to_unicode, engine_name
from jax_ar.experiment import cli


def _best(fn, repeats):
    """Best wall time and best process CPU time (all threads) over ``repeats`` calls."""
    wall = cpu = float("inf")
    out = None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return (wall, cpu), out


def hf_train(text: str, vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, show_progress=False, special_tokens=[],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([text], trainer=trainer)
    return tok


def hf_merges(tok) -> list[tuple[str, str]]:
    import json
    merges = json.loads(tok.to_str())["model"]["merges"]
    return [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in merges]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vocab", type=int, nargs="+", default=[512, 4096])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--data_dir", default=None)
    args = ap.parse_args(argv)
    check_args(args, "repeats")
    check_args(args, "vocab", lo=256)                 # byte-level BPE starts from the 256 bytes
    text = shakespeare.load_text(args.data_dir)
    nbytes = len(text.encode("utf-8"))
    try:
        import tokenizers
        hf_version = tokenizers.__version__
    except ImportError:
        tokenizers, hf_version = None, None
    print(f"Tiny Shakespeare: {len(text):,} chars, {nbytes:,} bytes; pre-tokeniser engine for "
          f"non-Latin-1 text: {engine_name()}; HF tokenizers: {hf_version or 'not installed'}; "
          f"best of {args.repeats}")
    assert bytes_to_unicode()  # warm the table outside the timings
    rows = []
    for V in args.vocab:
        t_train, ours = _best(lambda: BPETokenizer.train(text, V), args.repeats)

        def cold():
            fresh = BPETokenizer(ours.merges)
            return fresh.encode(text)
        t_cold, ids = _best(cold, args.repeats)
        t_warm, ids_w = _best(lambda: ours.encode(text), args.repeats)
        assert ids == ids_w and ours.decode(ids) == text
        row = dict(V=V, train=t_train, cold=t_cold, warm=t_warm, n=len(ids))
        if tokenizers is not None:
            hf_t_train, hf = _best(lambda: hf_train(text, V), args.repeats)
            hf_t_enc, enc = _best(lambda: hf.encode(text), args.repeats)
            hf_ids = enc.ids
            assert hf.decode(hf_ids) == text
            ours_m = ours.merge_strings()
            theirs_m = hf_merges(hf)
            same = 0
            for x, y in zip(ours_m, theirs_m):
                if tuple(x) != tuple(y):
                    break
                same += 1
            row.update(hf_train=hf_t_train, hf_enc=hf_t_enc, hf_n=len(hf_ids),
                       diff=(len(ids) - len(hf_ids)) / len(hf_ids), same=same,
                       nmerges=(len(ours_m), len(theirs_m)),
                       same_set=len(set(map(tuple, ours_m)) & set(map(tuple, theirs_m))))
        rows.append(row)

    def mbs(t):
        return f"{nbytes / t[0] / 1e6:.2f} MB/s (CPU {nbytes / t[1] / 1e6:.2f})"

    print("times: wall seconds (process CPU seconds, all threads)")
    for r in rows:
        print(f"\nvocab {r['V']}:")
        print(f"  train        ours {r['train'][0]:.3f} s (CPU {r['train'][1]:.3f})" + (
            f"   HF {r['hf_train'][0]:.3f} s (CPU {r['hf_train'][1]:.3f})   wall ratio ours/HF "
            f"{r['train'][0] / r['hf_train'][0]:.2f}x" if "hf_train" in r else ""))
        print(f"  encode       ours cold cache {mbs(r['cold'])}, warm cache {mbs(r['warm'])}"
              + (f"   HF {mbs(r['hf_enc'])}   wall ratio ours(cold)/HF "
                 f"{r['hf_enc'][0] / r['cold'][0]:.2f}x faster" if "hf_enc" in r else ""))
        print(f"  tokens       ours {r['n']:,}" + (f"   HF {r['hf_n']:,}   rel. diff "
              f"{100 * r['diff']:+.4f}%" if "hf_n" in r else ""))
        if "same" in r:
            print(f"  merges       identical prefix {r['same']} of {r['nmerges'][0]} (HF "
                  f"{r['nmerges'][1]}); in common as sets {r['same_set']}")


if __name__ == "__main__":
    cli(main)
