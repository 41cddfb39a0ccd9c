"""Analyses behind experiments/decoding.py: the temperature figure, strategy tables, drift.

* ``temperature_figure``: softmax(a / T) of the lecture's a = (3, 0, 1) across
  temperatures, drawn as bar panels into a PNG (PIL only).
* ``distinct_ngrams``: diversity = distinct n-grams / all n-grams over a set of samples.
* ``strategy_table``: for each decoding strategy, the model's own log-likelihood
  per token of its samples against their diversity.
* ``drift``: how far free-running samples' symbol statistics move from the data
  as generation gets longer (unigram and bigram total variation per segment).
"""
from __future__ import annotations

import collections

import jax
import numpy as np
from PIL import Image, ImageDraw

from jax_ar import beam_search, decoding, generation


def softmax_temperature(a, temperatures) -> np.ndarray:
    a = np.asarray(a, np.float64)
    out = []
    for T in temperatures:
        z = a / T
        e = np.exp(z - z.max())
        out.append(e / e.sum())
    return np.array(out)


def temperature_figure(path, a=(3.0, 0.0, 1.0), temperatures=(0.1, 0.5, 1.0, 2.0, 5.0, 100.0)) -> np.ndarray:
    """One panel per temperature with a bar per element of softmax(a / T); returns the probabilities."""
    probs = softmax_temperature(a, temperatures)
    pw, ph, m = 150, 170, 24
    img = Image.new("RGB", (pw * len(temperatures) + m, ph + 2 * m), "white")
    d = ImageDraw.Draw(img)
    d.text((m, 4), f"softmax(a / T), a = {tuple(a)}", fill="black")
    for j, (T, p) in enumerate(zip(temperatures, probs)):
        x0, y0 = m + j * pw, m + 10
        base = y0 + ph - 30
        d.line([(x0, base), (x0 + pw - 20, base)], fill="black")
        for i, pi in enumerate(p):
            bx = x0 + 10 + i * 40
            d.rectangle([bx, base - int(pi * (ph - 50)), bx + 28, base], fill=(60, 110, 200))
            d.text((bx + 2, base - int(pi * (ph - 50)) - 12), f"{pi:.2f}", fill="black")
            d.text((bx + 10, base + 3), f"a{i + 1}", fill="black")
        d.text((x0 + 30, base + 16), f"T = {T:g}", fill="black")
    img.save(path)
    return probs


def distinct_ngrams(seqs, n: int) -> float:
    grams, total = set(), 0
    for s in seqs:
        s = list(s)
        for i in range(len(s) - n + 1):
            grams.add(tuple(s[i:i + n]))
            total += 1
    return len(grams) / max(total, 1)


def default_strategies():
    return [("greedy", decoding.Greedy()), ("sample T=1", decoding.Sample(1.0)),
            ("sample T=0.7", decoding.Sample(0.7)), ("sample T=0.5", decoding.Sample(0.5)),
            ("sample T=1.5", decoding.Sample(1.5)), ("top-k 5", decoding.TopK(5)),
            ("top-k 20", decoding.TopK(20)), ("top-p 0.9", decoding.TopP(0.9)),
            ("top-p 0.5", decoding.TopP(0.5))]


def strategy_table(model, params, prompt_BxP, num_new: int, *, key, beam_widths=(4,), decode=None) -> list[dict]:
    """Rows: strategy, log-lik per token under the model, distinct-1/2/3/4, one sample."""
    rows = []
    for name, pick in default_strategies():
        toks, lp, _ = generation.generate(model, params, key, prompt_BxP, num_new, pick=pick)
        toks = np.asarray(toks)
        rows.append(_row(name, toks, np.asarray(lp) / num_new, decode))
    for w in beam_widths:
        toks, score, lp, _ = beam_search.beam_search(model, params, w, prompt=prompt_BxP, num_steps=num_new)
        best = np.asarray(toks)[:, 0]
        rows.append(_row(f"beam {w}", best, np.asarray(lp)[:, 0] / num_new, decode))
    return rows


def _row(name, toks, lp_per_tok, decode):
    r = {"strategy": name, "loglik_per_token": float(np.mean(lp_per_tok))}
    for n in (1, 2, 3, 4):
        r[f"distinct_{n}"] = round(distinct_ngrams(toks, n), 4)
    r["sample"] = decode(toks[0]) if decode else " ".join(map(str, toks[0]))
    return r


def _tv(counter_a, counter_b) -> float:
    na, nb = sum(counter_a.values()), sum(counter_b.values())
    keys = set(counter_a) | set(counter_b)
    return 0.5 * sum(abs(counter_a[k] / na - counter_b[k] / nb) for k in keys)


def drift(model, params, data_stream, *, key, batch: int = 16, num_new: int = 600, segment: int = 100,
          pick=None) -> list[dict]:
    """Free-running generation from real prompts; per segment of positions, unigram/bigram TV to the data
    and the model's per-token log-likelihood of the generated segment (teacher-forced NLL of real text
    is the reference)."""
    rng = np.random.default_rng(0)
    starts = rng.integers(0, len(data_stream) - model.seq_len, batch)
    prompt = np.stack([data_stream[s:s + 1] for s in starts]).astype(np.int32)
    toks = np.asarray(generation.generate_sliding(model, params, key, prompt, num_new, pick=pick))
    uni_data = collections.Counter(data_stream.tolist())
    bi_data = collections.Counter(zip(data_stream[:-1].tolist(), data_stream[1:].tolist()))
    rows = []
    for a in range(0, num_new, segment):
        seg = toks[:, a:a + segment]
        uni = collections.Counter(seg.ravel().tolist())
        bi = collections.Counter(p for row in seg for p in zip(row[:-1].tolist(), row[1:].tolist()))
        rows.append({"positions": f"{a}-{a + seg.shape[1] - 1}", "unigram_tv": round(_tv(uni, uni_data), 4),
                     "bigram_tv": round(_tv(bi, bi_data), 4)})
    # reference: the same statistics for real text segments of the same size
    ref = data_stream[: batch * segment]
    rows.append({"positions": "real text (same size)",
                 "unigram_tv": round(_tv(collections.Counter(ref.tolist()), uni_data), 4),
                 "bigram_tv": round(_tv(collections.Counter(zip(ref[:-1].tolist(), ref[1:].tolist())), bi_data), 4)})
    return rows


def markdown_table(rows: list[dict], keys: list[str]) -> str:
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for r in rows:
        lines.append("| " + " | ".join(str(r[k]).replace("\n", "\\n").replace("|", "/") for k in keys) + " |")
    return "\n".join(lines)


def tree_size(params) -> int:
    return int(sum(a.size for a in jax.tree_util.tree_leaves(params)))
