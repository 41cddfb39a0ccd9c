"""Tokenizers: BPE training (lecture example, incremental == full recount), exact round trips
(property-based), save/load, and every bad-input case."""
from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jax_ar.errors import ConfigError, DataFileError, JaxArError, ValueRangeError
from jax_ar.tokenizers import BPETokenizer, CharTokenizer, WordTokenizer, load
from jax_ar.tokenizers.bpe_train import learn_merges
from jax_ar.tokenizers.pretokenize import GPT2_PATTERN, pretokenize

PROPS = settings(max_examples=100, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow])

CORPUS = ("First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n"
          "Ünïcödé wörds — naïve café, 東京 日本語 😀😀 1234 ½ it's we'll they've <|eot|> done\t\n") * 20
SPECIALS = ["<|eot|>", "<pad>"]


@pytest.fixture(scope="module")
def bpe():
    return BPETokenizer.train(CORPUS, 256 + 100 + len(SPECIALS), special_tokens=SPECIALS)


# ---------------------------------------------------------------- training
def test_lecture_example_merges_in_order():
    counts = {"hug": 10, "pug": 5, "pun": 12, "bun": 4, "hugs": 5}
    tok = BPETokenizer.train_from_word_counts(counts, vocab_size=7 + 3, mode="char")
    assert tok.alphabet == ["b", "g", "h", "n", "p", "s", "u"]
    assert tok.merge_strings() == [("u", "g"), ("u", "n"), ("h", "ug")]
    assert tok.decode(tok.encode("hugs")) == "hugs"
    assert [tok.token_str(i) for i in tok.encode("hug")] == ["hug"]


def _naive_merges(words, counts, num_merges, key):
    """Reference BPE: full recount of every pair after every merge."""
    words = [list(w) for w in words]
    key = list(key)
    merges = []
    for _ in range(num_merges):
        pc = Counter()
        for w, c in zip(words, counts):
            for p in zip(w, w[1:]):
                pc[p] += c
        if not pc:
            break
        best = min(pc, key=lambda p: (-pc[p], key[p[0]], key[p[1]]))
        new = len(key)
        key.append(new)
        merges.append(best)
        for j, w in enumerate(words):
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(new)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            words[j] = out
    return merges


@PROPS
@given(st.lists(st.tuples(st.lists(st.integers(0, 3), min_size=1, max_size=9), st.integers(1, 6)),
                min_size=1, max_size=12), st.integers(0, 25))
def test_incremental_counts_equal_full_recount(items, num_merges):
    words = [w for w, _ in items]
    counts = [c for _, c in items]
    key = [3, 1, 0, 2]  # a non-identity tie-break order
    assert learn_merges(words, counts, num_merges, key) == _naive_merges(words, counts, num_merges, key)


def test_min_count_stops_early_and_vocab_size_counts_everything():
    tok = BPETokenizer.train("ab ab ab cd", 300, min_count=2, special_tokens=["<s>"])
    assert tok.merge_strings() == [("a", "b"), ("Ġ", "ab")]  # (a,b) x3, ( ,ab) x2, rest x1
    assert tok.vocab_size == 256 + 2 + 1
    assert BPETokenizer.train(CORPUS, 330).vocab_size == 330


# ---------------------------------------------------------------- round trips
@PROPS
@given(st.text())
def test_roundtrip_any_unicode(bpe, text):
    ids = bpe.encode(text)
    assert bpe.decode(ids) == text
    assert bpe.decode_bytes(ids) == text.encode("utf-8")


@PROPS
@given(st.binary())
def test_roundtrip_any_bytes_incl_invalid_utf8(bpe, data):
    assert bpe.decode_bytes(bpe.encode_bytes(data)) == data


@PROPS
@given(st.lists(st.one_of(st.text(max_size=8), st.sampled_from(SPECIALS)), max_size=8))
def test_roundtrip_with_special_tokens(bpe, parts):
    text = "".join(parts)
    ids = bpe.encode(text)
    assert bpe.decode(ids) == text
    n_special = sum(text.count(s) for s in SPECIALS)
    assert sum(i in bpe.special_ids.values() for i in ids) == n_special
    plain = bpe.encode(text, allow_special=False)
    assert not set(plain) & set(bpe.special_ids.values()) and bpe.decode(plain) == text


@PROPS
@given(st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF) | st.characters()))
def test_roundtrip_lone_surrogates(bpe, text):
    assert bpe.decode(bpe.encode(text), errors="surrogatepass") == text


def test_empty_inputs(bpe):
    assert bpe.encode("") == [] and bpe.encode_bytes(b"") == []
    assert bpe.decode([]) == "" and bpe.decode_bytes(np.zeros(0, np.int32)) == b""


def test_cached_encoding_equals_cold_encoding(bpe):
    text = CORPUS[:500]
    warm = bpe.encode(text)
    assert BPETokenizer(bpe.merges, special_tokens=SPECIALS).encode(text) == warm == bpe.encode(text)
    assert len(warm) < len(text.encode("utf-8")) / 2  # the merges really compress
    arr = bpe.encode_array(text)
    assert arr.dtype == np.int32 and arr.tolist() == warm


@PROPS
@given(st.text(alphabet="hugpnbs \n", max_size=40))
def test_char_mode_roundtrip(text):
    tok = BPETokenizer.train("hug pug pun bun hugs\n" * 3, 15, mode="char")
    assert tok.decode(tok.encode(text)) == text


def test_pretokens_cover_text_and_re_equals_regex_on_latin1():
    pytest.importorskip("regex")
    import re

    import regex
    from jax_ar.tokenizers.pretokenize import GPT2_PATTERN_RE
    a, b = regex.compile(GPT2_PATTERN), re.compile(GPT2_PATTERN_RE)
    classes = ["'s", " x", " 1", " ,", "  ", "ab", "9"]
    for i in range(256):  # every Latin-1 character in every context class
        c = chr(i)
        for ctx in classes:
            for s in (c + ctx, ctx + c, c + c + ctx, " " + c):
                assert a.findall(s) == b.findall(s), (hex(i), s)
    text = "Hello,  world!\n\n It's 12 o'clock ½ ² _x_ \x1c\x1f\xa0 ünï\t"
    assert "".join(pretokenize(text)) == text
    assert pretokenize("東京 日本語") == ["東京", " 日本語"]


# ---------------------------------------------------------------- char / word
def test_char_tokenizer():
    tok = CharTokenizer.fit("hello world")
    assert tok.vocab_size == 8 and tok.decode(tok.encode("low hello")) == "low hello"
    with pytest.raises(ValueRangeError, match="'z' is not in the vocabulary"):
        tok.encode("z")
    unk = CharTokenizer.fit("abc", unk_token="?")
    assert unk.encode("abz") == [0, 1, 3] and unk.decode(unk.encode("abz")) == "ab?"


def test_word_tokenizer_cap_and_unknown():
    text = "the cat the dog the cat a bird"
    tok = WordTokenizer.fit(text, max_size=4)
    assert tok.vocab_size == 4 and tok.unk_id == 0
    assert tok.words == [" cat", " the", " a"]  # by count, ties in code-point order
    ids = tok.encode("the cat sat")
    assert ids == [0, 1, 0] and tok.decode(ids) == "<unk> cat<unk>"
    full = WordTokenizer.fit(text)
    assert full.decode(full.encode(text)) == text and full.vocab_size == 7
    assert WordTokenizer.fit(text, min_count=2).words == [" cat", " the"]


# ---------------------------------------------------------------- files
def test_save_load_roundtrip_all_types(tmp_path, bpe):
    char_bpe = BPETokenizer.train("hug pug pun bun hugs", 12, mode="char")
    toks = [bpe, char_bpe, CharTokenizer.fit("abc", unk_token="<?>"), WordTokenizer.fit(CORPUS, max_size=50)]
    for k, tok in enumerate(toks):
        path = tmp_path / f"t{k}.json"
        tok.save(path)
        for loaded in (type(tok).load(path), load(path)):
            assert type(loaded) is type(tok) and loaded.vocab_size == tok.vocab_size
            sample = "hug pun" if tok is char_bpe else CORPUS[:300]
            if isinstance(tok, CharTokenizer):
                sample = "abcx"
            assert loaded.encode(sample) == tok.encode(sample)
    obj = json.loads((tmp_path / "t0.json").read_text())
    assert obj["format"] == "jax_ar.tokenizer" and obj["version"] == 1 and obj["type"] == "bpe"
    assert obj["pattern"] == GPT2_PATTERN and obj["special_tokens"] == SPECIALS
    assert len(obj["merges"]) == 100


# ---------------------------------------------------------------- bad input
def test_bpe_vocab_size_below_base_alphabet():
    with pytest.raises(ConfigError, match="below the base alphabet.*at least 256"):
        BPETokenizer.train("abc", 255)
    with pytest.raises(ConfigError, match="at least 257"):
        BPETokenizer.train("abc", 256, special_tokens=["<s>"])
    with pytest.raises(ConfigError, match="below the base alphabet.*at least 3 = 3 characters"):
        BPETokenizer.train("abc", 2, mode="char")


def test_empty_corpus():
    for make in (lambda: BPETokenizer.train("", 300), lambda: BPETokenizer.train([], 300),
                 lambda: BPETokenizer.train_from_word_counts({}, 300),
                 lambda: WordTokenizer.fit(""), lambda: CharTokenizer.fit("")):
        with pytest.raises(ValueRangeError, match="empty corpus"):
            make()


def test_token_id_outside_vocabulary_on_decode(bpe):
    toks = [bpe, CharTokenizer.fit("abc"), WordTokenizer.fit("a b c")]
    for tok in toks:
        V = tok.vocab_size
        for bad in ([0, V], [-1], np.array([1, V + 7])):
            with pytest.raises(ValueRangeError, match="outside the vocabulary"):
                tok.decode(bad)
    with pytest.raises(ValueRangeError, match="outside the vocabulary"):
        bpe.decode_bytes([bpe.vocab_size])
    with pytest.raises(ValueRangeError, match="not in this char-mode BPE alphabet"):
        BPETokenizer.train("abc", 5, mode="char").encode("abd")


def _write(path, obj):
    path.write_text(obj if isinstance(obj, str) else json.dumps(obj))
    return path


def test_loading_other_format_or_damaged_file(tmp_path, bpe):
    good = tmp_path / "good.json"
    bpe.save(good)
    obj = json.loads(good.read_text())
    hf_like = {"version": "1.0", "model": {"type": "BPE", "vocab": {}, "merges": []},
               "pre_tokenizer": {"type": "ByteLevel"}}
    cases = {
        "hf": (hf_like, "not a jax_ar tokenizer file.*Hugging Face"),
        "list": ([1, 2, 3], "JSON list"),
        "truncated": (good.read_text()[: len(good.read_text()) // 2], "damaged: not valid UTF-8 JSON"),
        "version": ({**obj, "version": 99}, "version 99"),
        "type": ({**obj, "type": "char"}, "holds a 'char' tokenizer, expected 'bpe'"),
        "nomerges": ({k: v for k, v in obj.items() if k != "merges"}, "'merges' is missing"),
        "badmerge": ({**obj, "merges": [[1, 2, 3]]}, "integer pairs"),
        "future": ({**obj, "merges": [[256, 1]], "merge_strings": []}, "not yet defined"),
        "duplicate": ({**obj, "merges": [[1, 2], [1, 2]], "merge_strings": []}, "same pair twice"),
        "strings": ({**obj, "merge_strings": obj["merge_strings"][::-1]}, "disagree"),
        "mode": ({**obj, "mode": "word"}, "mode must be"),
    }
    for name, (content, msg) in cases.items():
        with pytest.raises(DataFileError, match=msg):
            BPETokenizer.load(_write(tmp_path / f"{name}.json", content))
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(DataFileError, match="damaged"):
        load(tmp_path / "bin.json")
    with pytest.raises(DataFileError, match="cannot read"):
        load(tmp_path / "missing.json")
    with pytest.raises(DataFileError, match="unknown type"):
        load(_write(tmp_path / "u.json", {**obj, "type": "sentencepiece"}))
    with pytest.raises(DataFileError, match="damaged"):
        CharTokenizer.load(_write(tmp_path / "c.json", {"format": "jax_ar.tokenizer", "version": 1,
                                                        "type": "char", "chars": ["ab"]}))
    assert issubclass(DataFileError, JaxArError)


def test_bad_arguments():
    with pytest.raises(ConfigError, match="encode takes a str"):
        BPETokenizer([]).encode(b"bytes")
    with pytest.raises(ConfigError, match="byte-mode"):
        BPETokenizer.train("abc", 4, mode="char").encode_bytes(b"a")
    with pytest.raises(ConfigError, match="max_size must be >= 1"):
        WordTokenizer.fit("a b", max_size=0)
    with pytest.raises(ConfigError, match="mode must be"):
        BPETokenizer.train("abc", 300, mode="bytes")



def _re_only_pretokenizer():
    import importlib
    pt = importlib.import_module("jax_ar.tokenizers.pretokenize")
    saved = pt._regex
    pt._regex = None  # as if the `regex` module were not installed
    try:
        return pt.Pretokenizer(GPT2_PATTERN)
    finally:
        pt._regex = saved


RE_ONLY = _re_only_pretokenizer()


@PROPS
@given(st.text())
def test_pretokenizer_without_regex_module_covers_every_string(text):
    toks = RE_ONLY.findall(text)
    assert "".join(toks) == text and all(toks)
    if text.isascii():
        assert toks == pretokenize(text)


@pytest.mark.parametrize("call, exc, msg", [
    (lambda c, w: c.decode([1.0]), ValueRangeError, r"1-D sequence of integers, got shape \(1,\) dtype float64"),
    (lambda c, w: c.decode("12"), ValueRangeError, r"sequence of integers, got str"),
    (lambda c, w: c.encode(None), ConfigError, r"encode takes a str, got NoneType"),
    (lambda c, w: c.encode(b"hel"), ConfigError, r"got bytes \(decode the bytes first"),
    (lambda c, w: w.encode(None), ConfigError, r"encode takes a str, got NoneType"),
    (lambda c, w: BPETokenizer.train("hello world " * 10, 258.9), ConfigError, r"vocab_size must be an integer"),
    (lambda c, w: BPETokenizer.train("hello world " * 10, 260, min_count=0), ConfigError, r"min_count must be"),
    (lambda c, w: WordTokenizer.fit("a b", pattern="("), ConfigError, r"invalid pre-tokenizer pattern '\('"),
])
def test_tokenizer_argument_errors(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call(CharTokenizer.fit("hello"), WordTokenizer.fit("a b c"))
    assert CharTokenizer.fit("hello").decode([np.int64(1)]) == "h"
    assert CharTokenizer.fit("hello").decode(__import__("jax").numpy.array([1, 2])) == "hl"   # a jax array


def test_bpe_special_tokens_must_be_a_list():
    with pytest.raises(ConfigError, match=r"wrap it in a list: special_tokens=\['<eos>'\]"):
        BPETokenizer.train("hello world", 270, special_tokens="<eos>")
    with pytest.raises(ConfigError, match="wrap it in a list"):
        BPETokenizer([], special_tokens="<eos>")
    with pytest.raises(ConfigError, match="distinct non-empty strings"):
        BPETokenizer.train("hello world", 270, special_tokens=["<s>", 3])
    tok = BPETokenizer.train("hello world", 270, special_tokens=("<eos>",))
    assert tok.special_tokens == ["<eos>"] and tok.encode("hello<eos>")[-1] == tok.special_ids["<eos>"]


def test_bpe_encode_bytes_needs_bytes_and_train_needs_a_corpus(bpe):
    for bad in (5, np.array([104, 105]), "hi", [104, 105]):
        with pytest.raises(ConfigError, match="encode_bytes takes bytes, bytearray or memoryview"):
            bpe.encode_bytes(bad)
    with pytest.raises(ConfigError, match="memoryview of bytes"):
        bpe.encode_bytes(memoryview(np.array([104, 105])))
    assert bpe.encode_bytes(bytearray(b"hi")) == bpe.encode_bytes(memoryview(b"hi")) == bpe.encode("hi")
    with pytest.raises(ConfigError, match="corpus must be a string or an iterable of strings, got NoneType"):
        BPETokenizer.train(None, 270)
    with pytest.raises(ConfigError, match=r"merge 0 must be a \(left_id, right_id\) pair of integers"):
        BPETokenizer([(1, 2, 3)])
    with pytest.raises(ConfigError, match=r"merge 1 must be a \(left_id, right_id\) pair"):
        BPETokenizer([(1, 2), (1.5, 2)])


def test_char_unk_token_and_word_fit_arguments():
    with pytest.raises(ConfigError, match="unk_token 'a' is already in the alphabet"):
        CharTokenizer(["a", "b"], unk_token="a")
    with pytest.raises(ConfigError, match="unk_token must be a non-empty string"):
        CharTokenizer(["a", "b"], unk_token="")
    tok = CharTokenizer.fit("ab?", unk_token="?")   # fit leaves the unk_token out of the alphabet
    assert tok.chars == ["a", "b"] and tok.decode(tok.encode("ab?z")) == "ab??"
    with pytest.raises(ConfigError, match="max_size must be an integer or None, got 2.5"):
        WordTokenizer.fit("a b", max_size=2.5)
    with pytest.raises(ConfigError, match="min_count must be an integer >= 1, got 1.5"):
        WordTokenizer.fit("a b", min_count=1.5)
    with pytest.raises(ConfigError, match=r"got bytes \(decode the bytes first\)"):
        WordTokenizer.fit(b"a b")
    with pytest.raises(ConfigError, match="corpus must be a string or an iterable of strings, got NoneType"):
        WordTokenizer.fit(None)
