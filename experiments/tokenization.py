"""Vocabulary size vs sequence length vs bits per character, for char, word and BPE tokenizers.

Every tokenizer is fitted on the Tiny Shakespeare training split (TFDS 90/5/5);
the same downstream model -- an n-gram LM (modified Kneser-Ney, fixed order) --
is trained on the tokenized training text and scores the evaluation split.
Bits per character = (LM bits + spelling bits of unknown words) / characters,
so tokenizers with different vocabularies are compared on one scale.

    python -m experiments.tokenization --budget=quick --data_dir=../shared/data

``--text=markov_text`` (the smoke budget's) uses embedded synthetic text instead.
"""
from __future__ import annotations

import dataclasses
import json
from collections import Counter

from experiments import at_least, nonempty, one_of
from jax_ar import experiment, ngram
from jax_ar.data import shakespeare, texts
from jax_ar.errors import ConfigError
from jax_ar.tokenizers import BPETokenizer, CharTokenizer, WordTokenizer
from jax_ar.tokenizers.downstream import SpellingModel, markdown_table, score
from jax_ar.tokenizers.pretokenize import pretokenize


@dataclasses.dataclass(frozen=True)
class Config:
    text: str = "tiny_shakespeare"            # or markov_text (embedded, known entropy rate; jax_ar.data.texts)
    split_scheme: str = "tfds"
    train_limit: int = 0                      # use only the first N training characters (0 = all)
    eval_splits: tuple[str, ...] = ("validation",)
    order: int = 3                            # n-gram order of the downstream model
    method: str = "modified_kneser_ney"
    char: bool = True
    bpe_vocab_sizes: tuple[int, ...] = (256, 512, 1024, 2048, 4096, 8192)
    word_max_sizes: tuple[int, ...] = (1000, 4000, 0)   # 0 = every training word

    def validate(self):
        texts.check(self.text)
        one_of(self, "split_scheme", ("tfds", "nanogpt"))
        nonempty(self, "eval_splits")
        one_of(self, "eval_splits", ("train", "validation", "test") if self.split_scheme == "tfds"
               else ("train", "validation"))       # the nanogpt scheme has no test split
        at_least(self, 0, "train_limit word_max_sizes")
        at_least(self, 1, "order")
        at_least(self, 256, "bpe_vocab_sizes")       # byte-level BPE starts from the 256 bytes
        one_of(self, "method", ngram.METHODS)
        if not (self.char or self.bpe_vocab_sizes or self.word_max_sizes):
            raise ConfigError("no tokenizer to compare: set char=true, bpe_vocab_sizes or word_max_sizes")


BUDGETS = {
    "smoke": Config(text="markov_text", train_limit=20000, order=2, bpe_vocab_sizes=(256, 320), word_max_sizes=(200,)),
    "quick": Config(),
    "full": Config(eval_splits=("validation", "test"),
                   bpe_vocab_sizes=(256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144, 8192, 16384),
                   word_max_sizes=(500, 1000, 2000, 4000, 8000, 0)),
}


def tokenizers(cfg: Config, train: str):
    """(name, tokenizer) for every configured tokenizer, fitted on ``train``."""
    out = []
    if cfg.char:
        out.append(("char", CharTokenizer.fit(train, unk_token="<unk>")))
    for v in cfg.bpe_vocab_sizes:
        out.append((f"bpe-{v}", BPETokenizer.train(train, v)))
    for m in cfg.word_max_sizes:
        out.append((f"word-{m or 'all'}", WordTokenizer.fit(train, max_size=m or None)))
    return out


def main(argv=None):
    run = experiment.start("tokenization", Config, BUDGETS, argv)
    cfg = run.cfg
    parts = shakespeare.split(texts.load(cfg.text, run.data_dir), cfg.split_scheme)
    train = parts["train"][:cfg.train_limit] if cfg.train_limit else parts["train"]
    counts = Counter(pretokenize(train))
    hapax = [w for w, c in counts.items() if c == 1]  # rare words: the spelling model's length prior
    spelling = SpellingModel.fit(train, hapax)
    lm = f"ngram{cfg.order}-{cfg.method}"
    run.describe(model="ngram", model_kwargs={"order": cfg.order, "method": cfg.method},
                 dataset={"name": cfg.text, "scheme": cfg.split_scheme, "train_chars": len(train)})
    results = {}
    toks = tokenizers(cfg, train)
    for split in cfg.eval_splits:
        rows = []
        for name, tok in toks:
            s = score(name, tok, train, parts[split], order=cfg.order, method=cfg.method,
                      spelling=spelling)
            rows.append(s)
            print(f"{split:10s} {name:10s} vocab {s.vocab_size:6d}  tokens {s.eval_tokens:7d}  "
                  f"chars/token {s.chars_per_token:6.3f}  bits/token {s.bits_per_token:7.4f}  "
                  f"unk {s.unk_tokens:5d}  bits/char {s.bits_per_char:.4f}", flush=True)
        results[split] = rows
        table = markdown_table(rows)
        print(f"\n{split} split, downstream model {lm}, trained on {len(train):,} characters:\n{table}\n")
        run.path(f"table_{split}.md").write_text(table + "\n")
    run.path("scores.json").write_text(json.dumps(
        {k: [dataclasses.asdict(s) for s in v] for k, v in results.items()}, indent=1))

    first = cfg.eval_splits[0]
    best = min(results[first], key=lambda s: s.bits_per_char)
    run.result(model=f"{best.name}+{lm}", dataset=cfg.text, split=first, metric="bits_per_char",
               value=round(best.bits_per_char, 4), unit="bits/char", steps=0, params=0,
               best_tokenizer=best.name,
               table={s.name: {"vocab": s.vocab_size, "tokens": s.eval_tokens,
                               "bits_per_token": round(s.bits_per_token, 4),
                               "bits_per_char": round(s.bits_per_char, 4)} for s in results[first]})


if __name__ == "__main__":
    experiment.cli(main)
