"""End to end: the n-gram experiment on a slice of Tiny Shakespeare (skips without the data)."""
import json

import pytest

from jax_ar.data import files


def test_ngram_experiment_smoke(tmp_path):
    if not files.data_available():
        pytest.skip("Tiny Shakespeare data directory not found")
    from experiments import ngram as exp
    exp.main(["--budget=smoke", f"--workdir={tmp_path}", "--train_limit=20000", "--char_orders=1,3",
              "--word_orders=2", "--methods=mle,katz,modified_kneser_ney", "--sample_orders=2",
              "--sample_chars=20"])
    res = json.loads((tmp_path / "result.json").read_text())
    assert res["topic"] == "ngram" and res["unit"] == "bits/char" and 1.5 < res["value"] < 5
    scores = json.loads((tmp_path / "scores.json").read_text())
    mle3 = [r for r in scores["char"] if r["order"] == 3 and r["method"] == "mle"][0]
    assert mle3["validation_bits"] == float("inf")          # unseen trigram under MLE: inf, not an error
    for name in ("char_table.md", "word_table.md", "letter_bigrams.png", "samples.txt"):
        assert (tmp_path / name).stat().st_size > 0
