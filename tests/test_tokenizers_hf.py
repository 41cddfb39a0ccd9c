"""Parity with Hugging Face `tokenizers` (a peer, skipped when not installed):
same training text and GPT-2 byte-level pre-tokenisation => same merges and same tokens."""
from __future__ import annotations

import json

import pytest

from jax_ar.data import shakespeare
from jax_ar.errors import DataFileError
from jax_ar.tokenizers import BPETokenizer

hf = pytest.importorskip("tokenizers")


def _hf_train(text: str, vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, show_progress=False, special_tokens=[],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([text], trainer=trainer)
    return tok


def _hf_merges(tok):
    merges = json.loads(tok.to_str())["model"]["merges"]
    return [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in merges]


def _compare(text: str, vocab_size: int, exact_prefix: int):
    ours = BPETokenizer.train(text, vocab_size)
    theirs = _hf_train(text, vocab_size)
    assert ours.vocab_size == vocab_size
    assert ours.merge_strings() == _hf_merges(theirs)
    ids = ours.encode(text)
    n_hf = len(theirs.encode(text).ids)
    assert abs(len(ids) - n_hf) <= 0.005 * n_hf
    assert ours.decode(ids) == text
    head = text[:exact_prefix]
    assert [ours.token_str(i) for i in ours.encode(head)] == theirs.encode(head).tokens


def test_small_corpus_identical_merges_and_tokens():
    text = ("It's the 2nd time we'll meet -- don't be late!\n  Über naïve café, 東京. "
            "1234 5678\t\tthe end the end the end\n") * 30
    _compare(text, 256 + 50, exact_prefix=len(text))


@pytest.mark.parametrize("vocab_size", [512, 4096])
def test_tiny_shakespeare_parity(vocab_size):
    try:
        text = shakespeare.load_text()
    except DataFileError:
        pytest.skip("Tiny Shakespeare not available (set JAX_AR_DATA_DIR)")
    _compare(text, vocab_size, exact_prefix=50_000)
