"""Every experiment script's Config rejects nonsensical values when it is parsed, before any work starts."""
import importlib
import pkgutil
import re

import pytest

import experiments
from jax_ar import config
from jax_ar.data import synthetic
from jax_ar.errors import ConfigError

SCRIPTS = sorted(m.name for m in pkgutil.iter_modules(experiments.__path__)
                 if hasattr(importlib.import_module(f"experiments.{m.name}"), "Config"))

BAD = [  # (script, overrides, key the error must name)
    ("anomaly", {"train_limit": "-1"}, "train_limit"),
    ("anomaly", {"num_test": "0"}, "num_test"),
    ("anomaly", {"shift_px": "6"}, "shift_px"),             # smoke: 6 x 6 bars and stripes
    ("anomaly", {"adv_pixels": "37"}, "adv_pixels"),
    ("anomaly", {"num_clusters": "1"}, "num_clusters"),
    ("anomaly", {"cluster_limit": "3"}, "cluster_limit"),   # fewer images than the 4 clusters
    ("anomaly", {"purify_per_round": "0"}, "purify_per_round"),
    ("anomaly", {"hidden_sizes": "32,0"}, "hidden_sizes"),
    ("anomaly", {"dataset": "markov"}, "dataset"),
    ("ar_linear", {"true_phi": "1.2"}, "true_phi"),
    ("ar_linear", {"order": "8"}, "order"),                 # not among the smoke orders (1, 4)
    ("ar_linear", {"length": "4"}, "length"),
    ("ar_linear", {"test_limit": "-1"}, "test_limit"),
    ("ar_linear", {"domain": "log"}, "domain"),
    ("bench_images_nade_made", {"eval_batch": "0"}, "eval_batch"),
    ("bench_images_nade_made", {"nade_prefixes": "cumsum,scan"}, "nade_prefixes"),
    ("bench_pixelcnn", {"eval_images": "10"}, "eval_images"),   # fewer than one batch of 20
    ("bench_pixelcnn", {"naive_steps": "785"}, "naive_steps"),
    ("bench_pixelcnn", {"models": "pixelcnn,pixelsnail"}, "models"),
    ("bench_wavenet", {"num_steps": "0"}, "num_steps"),
    ("binary_addition", {"test_bits": "8,x"}, "test_bits"),
    ("binary_addition", {"test_pairs": "0"}, "test_pairs"),
    ("decoding", {"drift_segment": "0"}, "drift_segment"),
    ("decoding", {"beam_width": "0"}, "beam_width"),
    ("fvsbn", {"num_samples": "0"}, "num_samples"),
    ("fvsbn", {"bas_n": "28"}, "bas_n"),
    ("fvsbn", {"train_limit": "-5"}, "train_limit"),
    ("fvsbn", {"l1": "-1e-3"}, "l1"),
    ("image_gpt", {"valid_limit": "0"}, "valid_limit"),      # a prefix length: 0 would validate on nothing
    ("image_gpt", {"train_limit": "-1"}, "train_limit"),
    ("made", {"valid_masks": "5"}, "valid_masks"),           # smoke pool holds 4 masks
    ("made", {"test_masks": "-1"}, "test_masks"),
    ("made", {"valid_limit": "-1"}, "valid_limit"),
    ("mdn", {"train_limit": "1"}, "train_limit"),
    ("mdn", {"syn_test": "1"}, "syn_test"),
    ("mdn", {"sample_seconds": "0"}, "sample_seconds"),
    ("nade", {"train_limit": "-5"}, "train_limit"),
    ("nade", {"valid_limit": "-5"}, "valid_limit"),
    ("nade", {"bas_n": "0"}, "bas_n"),
    ("ngram", {"char_orders": ""}, "char_orders"),
    ("ngram", {"train_limit": "-5"}, "train_limit"),
    ("ngram", {"methods": "mle,witten_bell"}, "methods"),
    ("ngram", {"sample_chars": "0"}, "sample_chars"),
    ("ngram", {"add_k": "0"}, "add_k"),
    ("pixelcnn", {"num_classes": "3"}, "num_classes"),       # conditional needs --gated=true
    ("pixelcnn", {"gated": "true", "num_classes": "300"}, "train_limit"),   # k-means on 256 images
    ("pixelcnn", {"test_limit": "-1"}, "test_limit"),
    ("receptive_field", {"row": "8"}, "row"),                # smoke images are 8 x 8
    ("receptive_field", {"col": "-1"}, "col"),
    ("rnn", {"cells": "rnn,transformer"}, "cells"),
    ("rnn", {"train_limit": "-1"}, "train_limit"),
    ("rnn_gradients", {"recall_lags": "5,-1"}, "recall_lags"),
    ("rnn_gradients", {"sigmas": "0.9,x"}, "sigmas"),
    ("tokenization", {"bpe_vocab_sizes": "100"}, "bpe_vocab_sizes"),
    ("tokenization", {"split_scheme": "nanogpt", "eval_splits": "test"}, "eval_splits"),
    ("tokenization", {"train_limit": "-1"}, "train_limit"),
    ("train_generic", {"num_train": "-5"}, "num_train"),
    ("train_generic", {"process_id": "1"}, "process_id"),
    ("train_generic", {"bas_n": "17"}, "bas_n"),
    ("transformer", {"timing_steps": "0"}, "timing_steps"),
    ("transformer", {"eval_windows": "-1"}, "eval_windows"),
    ("transformer", {"tokenizer": "bpe", "bpe_vocab": "100"}, "bpe_vocab"),
    ("transformer", {"tokenizer": "bpe", "norm": "mid"}, "norm"),   # the model's check, before BPE training
    ("wavenet", {"gen_speaker": "9"}, "gen_speaker"),
    ("wavenet", {"test_every": "0"}, "test_every"),
    ("wavenet", {"valid_every": "1"}, "valid_every"),
    ("wavenet", {"valid_limit": "-1"}, "valid_limit"),
    ("wavenet", {"output": "logistic_mixture", "num_mixtures": "0"}, "num_mixtures"),
]


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_budget_is_valid(script):
    mod = importlib.import_module(f"experiments.{script}")
    assert hasattr(mod.Config, "validate"), f"experiments.{script}.Config has no validate()"
    for cfg in mod.BUDGETS.values():
        config.validate(cfg)


@pytest.mark.parametrize("script, overrides, key", BAD, ids=[f"{s}-{'-'.join(o)}" for s, o, _ in BAD])
def test_bad_value_names_the_key(script, overrides, key):
    budgets = importlib.import_module(f"experiments.{script}").BUDGETS
    with pytest.raises(ConfigError, match=rf"\b{re.escape(key)}\b"):
        config.apply_overrides(budgets["smoke"], overrides)


@pytest.mark.parametrize("script, arg", [("fvsbn", "--num_samples=0"), ("wavenet", "--gen_speaker=9"),
                                         ("wavenet", "--test_every=0"), ("ngram", "--char_orders="),
                                         ("fvsbn", "--bas_n=28"), ("ngram", "--train_limit=-5")])
def test_script_refuses_before_any_work(tmp_path, script, arg):
    """The audit's cases: the error comes from argument parsing; not even the run directory is made."""
    main = importlib.import_module(f"experiments.{script}").main
    with pytest.raises(ConfigError, match=arg[2:].split("=")[0]):
        main(["--budget=smoke", f"--workdir={tmp_path / 'run'}", "--data_dir=/nonexistent", arg])
    assert not (tmp_path / "run").exists()


def test_bars_and_stripes_size_is_capped():
    assert synthetic.bars_and_stripes(3).shape == (14, 9)
    for n in (0, synthetic.MAX_BAS_N + 1, 28):
        with pytest.raises(ConfigError, match=rf"\[1, {synthetic.MAX_BAS_N}\], got {n}"):
            synthetic.bars_and_stripes(n)
        with pytest.raises(ConfigError, match="must be in"):
            synthetic.bars_and_stripes_dataset(n, 10)


@pytest.mark.parametrize("make, key", [
    (lambda: __import__("jax_ar.rnn.tbptt", fromlist=["x"]).TBPTTConfig(eval_every=0), "eval_every"),
    (lambda: __import__("jax_ar.rnn.tbptt", fromlist=["x"]).TBPTTConfig(eval_tokens=-1), "eval_tokens"),
    (lambda: __import__("jax_ar.rnn.clipping", fromlist=["x"]).ClipStudyConfig(clip_norms="1,-2"), "clip_norms"),
    (lambda: __import__("jax_ar.rnn.clipping", fromlist=["x"]).ClipStudyConfig(cell="tanh"), "recurrent cell"),
    (lambda: __import__("jax_ar.rnn.long_range", fromlist=["x"]).RecallConfig(lag=-1), "lag"),
    (lambda: __import__("jax_ar.rnn.binary_addition", fromlist=["x"]).AdderConfig(train_bits=0), "train_bits"),
])
def test_nested_library_configs_check_their_fields(make, key):
    with pytest.raises(ConfigError, match=key):
        make().validate()


@pytest.mark.parametrize("script, argv, msg", [
    ("bench_fvsbn", ["--chunk=0"], r"--chunk must be >= 1, got 0"),
    ("bench_ngram", ["--nltk_score_trigrams=x"], r"--nltk_score_trigrams must be an integer, got 'x'"),
    ("bench_ar_linear", ["--orders", "2", "0"], r"--orders must be >= 1, got 0"),
    ("bench_tokenizers", ["--vocab", "100"], r"--vocab must be >= 256, got 100"),
    ("bench_transformer", ["--segment=-1"], r"--segment must be >= 0, got -1"),
])
def test_benchmark_scripts_check_their_options_first(script, argv, msg):
    with pytest.raises(ConfigError, match=msg):
        importlib.import_module(f"experiments.{script}").main(argv)
