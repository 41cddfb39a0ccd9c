"""Tokenizer comparison by a downstream n-gram LM: spelling model, scores, the experiment's smoke run."""
from __future__ import annotations

import itertools
import json
import math

import pytest

from jax_ar.errors import ValueRangeError
from jax_ar.tokenizers import BPETokenizer, CharTokenizer, WordTokenizer
from jax_ar.tokenizers.downstream import SpellingModel, score

TRAIN = "the cat sat on the mat. the dog sat on the log.\n" * 40
EVAL = "the cat sat on the log. a bird sat on the zebra.\n"


def test_spelling_model_is_a_sub_probability():
    sp = SpellingModel.fit("aab", ["ab", "abab"])  # mean length 3
    total = 0.0
    for n in range(1, 9):
        for s in itertools.product("ab", repeat=n):
            total += 2 ** -sp.bits("".join(s))
    seen = (3 + 2) / (3 + 2 + 1)  # mass of the seen characters, add-one
    expected = sum((1 / 3) * (2 / 3) ** (n - 1) * seen ** n for n in range(1, 9))
    assert total == pytest.approx(expected, rel=1e-12) and total < 1
    assert sp.bits("z") > 20 and math.isfinite(sp.bits("zzz"))
    with pytest.raises(ValueRangeError, match="empty string"):
        sp.bits("")


def test_scores_are_complete_codes():
    toks = {"char": CharTokenizer.fit(TRAIN, unk_token="<unk>"), "bpe": BPETokenizer.train(TRAIN, 300),
            "word": WordTokenizer.fit(TRAIN, max_size=8)}
    res = {k: score(k, t, TRAIN, EVAL, order=2) for k, t in toks.items()}
    assert res["char"].unk_tokens == sum(c not in TRAIN for c in EVAL) == 6  # b b i r r z
    assert res["bpe"].unk_tokens == 0 and res["bpe"].unk_spelling_bits == 0
    assert res["word"].unk_tokens == len(toks["word"].oov(EVAL)) > 0 and res["word"].unk_spelling_bits > 0
    for s in res.values():
        assert s.eval_chars == len(EVAL) and s.chars_per_token == pytest.approx(len(EVAL) / s.eval_tokens)
        lm_bits = s.bits_per_token * s.eval_tokens
        assert s.bits_per_char == pytest.approx((lm_bits + s.unk_spelling_bits) / len(EVAL))
    assert res["bpe"].eval_tokens < res["char"].eval_tokens
    with pytest.raises(ValueRangeError, match="empty evaluation text"):
        score("bpe", toks["bpe"], TRAIN, "")


def test_tokenization_experiment_smoke(tmp_path):
    from experiments import tokenization
    tokenization.main(["--budget=smoke", f"--workdir={tmp_path}"])     # embedded markov_text: no data files
    res = json.loads((tmp_path / "result.json").read_text())
    assert res["topic"] == "tokenization" and res["metric"] == "bits_per_char"
    assert set(res["table"]) == {"char", "bpe-256", "bpe-320", "word-200"}
    assert res["table"]["bpe-320"]["tokens"] < res["table"]["bpe-256"]["tokens"]
    assert 0 < res["value"] < 8 and (tmp_path / "table_validation.md").is_file()
