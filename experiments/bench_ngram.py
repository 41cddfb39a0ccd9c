"""n-gram speed benchmark against NLTK, side by side in one run (printed figures, not a timed test).

    python -m experiments.bench_ngram [--data_dir=DIR] [--nltk_train_chars=0] [--nltk_score_trigrams=2000]

Character trigrams of Tiny Shakespeare (TFDS 90/5/5 split), NLTK's padding
and vocabulary (see :mod:`jax_ar.ngram.reference`).  For each side: the time
to fit on the training split, and the time to score the whole validation
split with interpolated Kneser-Ney (NLTK's ``KneserNeyInterpolated``,
discount 0.1; ours configured identically).  NLTK is fitted on the whole
training split (or its first ``--nltk_train_chars`` characters, then its fit
time is scaled linearly) and scores the first ``--nltk_score_trigrams``
validation trigrams; its time for the whole split is that per-trigram time
times the number of trigrams (extrapolated, and printed as such).  The
scores of the common trigrams are checked to agree.  Wall and CPU (process)
times are both reported: on a shared machine the CPU times are the steadier
comparison (both sides are single-threaded here).
"""
import json
import math
import sys
import time

import numpy as np

from experiments import hand_options, int_option
from jax_ar import bench, ngram
from jax_ar.data import shakespeare
from jax_ar.ngram import reference as R
from jax_ar.experiment import cli


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    opts = hand_options(argv, ("data_dir", "nltk_train_chars", "nltk_score_trigrams"), __doc__)
    nltk_chars = int_option(opts, "nltk_train_chars", 0, lo=0)
    n_score = int_option(opts, "nltk_score_trigrams", 2000)
    parts = shakespeare.split(shakespeare.load_text(opts.get("data_dir")), "tfds")
    tr, va = parts["train"], parts["validation"]
    alpha = sorted(set(tr))
    V = len(alpha) + 1
    tr_ids, va_ids = R.encode(tr, alpha), R.encode(va, alpha)
    kw = dict(bos_pad="full", discount=0.1, interpolate_unigram=False)

    # ours: fit + whole validation split (best of 3)
    fit_s, eval_s, cpu_s = [], [], []
    for _ in range(3):
        c0, t0 = time.process_time(), time.perf_counter()
        lm = ngram.fit(tr_ids, V, 3, "kneser_ney", **kw)
        t1 = time.perf_counter()
        lp = lm.log_probs(va_ids)
        t2, c2 = time.perf_counter(), time.process_time()
        fit_s.append(t1 - t0)
        eval_s.append(t2 - t1)
        cpu_s.append(c2 - c0)
    ours_fit, ours_eval, ours_cpu = min(fit_s), min(eval_s), min(cpu_s)
    t0 = time.perf_counter()
    ngram.fit(tr_ids, V, 3, "modified_kneser_ney")
    mkn_fit = time.perf_counter() - t0
    bits = float(-lp.mean() / math.log(2))

    # NLTK
    import nltk
    sub = tr[:nltk_chars] if nltk_chars else tr
    c0, t0 = time.process_time(), time.perf_counter()
    base = R.fit_nltk(sub, 3)
    nltk_fit_measured = time.perf_counter() - t0
    nltk_fit_cpu = (time.process_time() - c0) * len(tr) / len(sub)
    nltk_fit = nltk_fit_measured * len(tr) / len(sub)
    kn = R.nltk_model(base, "KneserNeyInterpolated", discount=0.1)
    grams = R.test_ngrams(va, 3)[:n_score]
    c0, t0 = time.process_time(), time.perf_counter()
    lp_ref = np.array([kn.logscore(g[-1], g[:-1]) for g in grams])
    per = (time.perf_counter() - t0) / len(grams)
    per_cpu = (time.process_time() - c0) / len(grams)
    nltk_eval = per * len(va)
    agree = None
    if not nltk_chars:
        agree = float(np.abs(lp[:len(grams)] / math.log(2) - lp_ref).max())

    ours_total, nltk_total = ours_fit + ours_eval, nltk_fit + nltk_eval
    res = {
        "machine": bench.machine(), "nltk_version": nltk.__version__,
        "train_chars": len(tr), "valid_trigrams": len(va),
        "ours_fit_s": round(ours_fit, 4), "ours_eval_valid_s": round(ours_eval, 4),
        "ours_eval_us_per_trigram": round(ours_eval / len(va) * 1e6, 4),
        "ours_modified_kn_fit_s": round(mkn_fit, 4), "ours_valid_bits_per_char": round(bits, 4),
        "nltk_fit_s": round(nltk_fit, 3), "nltk_fit_extrapolated": bool(nltk_chars),
        "nltk_scored_trigrams": len(grams), "nltk_kn_us_per_trigram": round(per * 1e6, 1),
        "nltk_eval_valid_s_extrapolated": round(nltk_eval, 2),
        "max_abs_log2_diff_on_scored_trigrams": agree,
        "speedup_fit": round(nltk_fit / ours_fit, 1),
        "speedup_fit_plus_eval": round(nltk_total / ours_total, 1),
        "cpu_ours_fit_plus_eval_s": round(ours_cpu, 4), "cpu_nltk_fit_s": round(nltk_fit_cpu, 3),
        "cpu_nltk_kn_us_per_trigram": round(per_cpu * 1e6, 1),
        "cpu_speedup_fit_plus_eval": round((nltk_fit_cpu + per_cpu * len(va)) / ours_cpu, 1),
    }
    print(f"ours: fit {ours_fit:.3f} s, validation ({len(va):,} trigrams) {ours_eval:.4f} s, "
          f"{bits:.4f} bits/char; modified-KN fit {mkn_fit:.3f} s")
    print(f"NLTK {nltk.__version__}: fit {nltk_fit:.2f} s{' (extrapolated)' if nltk_chars else ''}, "
          f"KN {per * 1e6:.0f} us/trigram over {len(grams)} trigrams -> {nltk_eval:.1f} s for the split "
          "(extrapolated)")
    print(f"speed-up fit+eval: {nltk_total / ours_total:.0f}x (fit alone {nltk_fit / ours_fit:.0f}x); "
          f"max |log2 p| difference on the scored trigrams: {agree}")
    print(f"CPU time: ours fit+eval {ours_cpu:.3f} s; NLTK fit {nltk_fit_cpu:.2f} s + KN {per_cpu * 1e6:.0f} "
          f"us/trigram -> speed-up {res['cpu_speedup_fit_plus_eval']:.0f}x")
    print("BENCH " + json.dumps(res))
    return res


if __name__ == "__main__":
    cli(main)
