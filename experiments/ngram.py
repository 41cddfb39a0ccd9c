"""n-gram language models on Tiny Shakespeare (TFDS 90/5/5 split).

    python -m experiments.ngram --budget=quick --data_dir=../shared/data

Writes into the run directory: a table of validation / test bits per
character for n = 1..8 under every smoothing method (``char_table.md``), a
word-level perplexity table (``word_table.md``), the letter-bigram frequency
heatmap (``letter_bigrams.png``), generated text (``samples.txt``) and all
numbers (``scores.json``).  ``--text=markov_text`` (the smoke budget's) trains
on embedded synthetic text with a known entropy rate (``true_bits_per_char``).
"""
import dataclasses
import json
import math

import jax

from experiments import at_least, nonempty, one_of, positive
from jax_ar import experiment, ngram
from jax_ar.data import shakespeare, texts
from jax_ar.ngram import evaluation as ev
from jax_ar.ngram import heatmap
from jax_ar.ngram.generate import sample

METHODS = ("mle", "laplace", "add_k", "katz", "interpolated", "kneser_ney", "modified_kneser_ney")


@dataclasses.dataclass(frozen=True)
class Config:
    text: str = "tiny_shakespeare"       # or markov_text (embedded, known entropy rate; jax_ar.data.texts)
    train_limit: int = 0                 # first N training characters (0 = all)
    char_orders: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8)
    word_orders: tuple[int, ...] = (1, 2, 3, 4)
    methods: tuple[str, ...] = METHODS
    add_k: float = 0.01                  # pseudo-count of the "add_k" column (laplace is k = 1)
    word_min_count: int = 2              # rarer training words become <unk>
    sample_orders: tuple[int, ...] = (2, 4, 6, 8)
    sample_method: str = "modified_kneser_ney"
    sample_chars: int = 400
    temperatures: tuple[float, ...] = (1.0, 0.7)
    seed: int = 0

    def validate(self):
        texts.check(self.text)
        nonempty(self, "char_orders methods")
        at_least(self, 0, "train_limit")
        at_least(self, 1, "char_orders word_orders word_min_count sample_orders sample_chars")
        one_of(self, "methods sample_method", METHODS)
        positive(self, "add_k")
        at_least(self, 0, "temperatures")             # 0 = greedy


BUDGETS = {
    "smoke": Config(text="markov_text", train_limit=50_000, char_orders=(1, 2, 3), word_orders=(1, 2), sample_orders=(3,),
                    sample_chars=100, temperatures=(1.0,)),
    "quick": Config(),
    "full": Config(word_orders=(1, 2, 3, 4, 5)),
}


def main(argv=None):
    run = experiment.start("ngram", Config, BUDGETS, argv)
    cfg = run.cfg
    text = texts.load(cfg.text, run.data_dir)
    parts = shakespeare.split(text, "tfds")
    train = parts["train"][:cfg.train_limit] if cfg.train_limit else parts["train"]
    run.describe(model="ngram", model_kwargs={"orders": list(cfg.char_orders), "methods": list(cfg.methods)},
                 dataset={"name": cfg.text, "scheme": "tfds", "train_chars": len(train)})
    kw = {"add_k": {"k": cfg.add_k}}

    # ---- characters
    chars = shakespeare.char_vocab(text)
    enc = lambda s: shakespeare.encode_chars(s, chars)  # noqa: E731
    evals = {"validation": enc(parts["validation"]), "test": enc(parts["test"])}
    print(f"characters: vocab {len(chars)}, train {len(train):,}, validation {len(evals['validation']):,}, "
          f"test {len(evals['test']):,}", flush=True)
    char_rows = ev.smoothing_table(enc(train), evals, len(chars), cfg.char_orders, cfg.methods, method_kw=kw)
    char_md = ev.markdown_table(char_rows, ("validation_bits", "test_bits"))
    print("\nbits per character, validation / test:\n" + char_md + "\n", flush=True)
    run.path("char_table.md").write_text("bits per character (validation / test)\n\n" + char_md + "\n")

    # ---- words
    wtrain = ev.word_tokens(train)
    wvocab = ev.word_vocab(wtrain, cfg.word_min_count)
    wevals = {s: ev.encode_words(ev.word_tokens(parts[s]), wvocab) for s in ("validation", "test")}
    print(f"words: vocab {len(wvocab)} (min count {cfg.word_min_count}, incl. <unk>), train {len(wtrain):,} tokens",
          flush=True)
    word_rows = ev.smoothing_table(ev.encode_words(wtrain, wvocab), wevals, len(wvocab), cfg.word_orders,
                                   cfg.methods, method_kw=kw)
    word_md = ev.markdown_table(word_rows, ("validation_ppl", "test_ppl"), fmt="{:.1f}")
    print("\nword perplexity, validation / test:\n" + word_md + "\n", flush=True)
    run.path("word_table.md").write_text(
        f"word-level perplexity (validation / test), vocabulary {len(wvocab)} incl. <unk>\n\n" + word_md + "\n")

    # ---- letter-bigram heatmap
    counts = heatmap.letter_bigram_counts(train)
    heatmap.save_heatmap(counts, heatmap.LETTERS + " ", run.path("letter_bigrams.png"),
                         title="letter bigram counts (row: first, column: second; _ = space)")

    # ---- samples
    lines = []
    for n in cfg.sample_orders:
        lm = ngram.fit(enc(train), len(chars), n, cfg.sample_method)
        for t in cfg.temperatures:
            x = sample(lm, jax.random.PRNGKey(cfg.seed + n), cfg.sample_chars, temperature=t)[0]
            lines.append(f"=== order {n}, {cfg.sample_method}, temperature {t} ===\n{ev.decode(x, chars)}\n")
            print(lines[-1], flush=True)
    run.path("samples.txt").write_text("\n".join(lines))

    run.path("scores.json").write_text(json.dumps({"char": char_rows, "word": word_rows}, indent=1))
    finite = [r for r in char_rows if math.isfinite(r["validation_bits"])]
    best = min(finite or char_rows, key=lambda r: r["validation_bits"])   # all infinite (e.g. MLE only): inf
    true = texts.entropy_rate(cfg.text)
    run.result(model=f"ngram{best['order']}-{best['method']}", dataset=cfg.text, split="test",
               metric="bits_per_char", value=round(best["test_bits"], 4), unit="bits/char", steps=0,
               params=0, validation_bits_per_char=round(best["validation_bits"], 4),
               chosen_on="validation", true_bits_per_char=None if true is None else round(true / math.log(2), 4))


if __name__ == "__main__":
    experiment.cli(main)
