"""`jax_ar.eval` re-evaluates a saved character-level Transformer run on Tiny Shakespeare (a small
generated stand-in for the text file) and reproduces the experiment's own figures; `jax_ar.sample`
writes its samples as text."""
import json

import jax
import numpy as np
import pytest

from jax_ar import eval as eval_cli
from jax_ar import sample as sample_cli
from jax_ar.data import registry as data_registry
from jax_ar.data import shakespeare
from jax_ar.errors import CheckpointError, ConfigError, ValueRangeError


@pytest.fixture(scope="module", autouse=True)
def other_text_allowed():
    with pytest.MonkeyPatch.context() as mp:        # the stand-in is not Tiny Shakespeare's length
        mp.setenv(shakespeare.ALLOW_OTHER_TEXT, "1")
        yield


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    from experiments import transformer
    data = tmp_path_factory.mktemp("data")
    (data / "tiny_shakespeare").mkdir()
    rng = np.random.default_rng(0)
    (data / "tiny_shakespeare" / "input.txt").write_text("".join(rng.choice(list("abc de\n"), 4000)))
    run = tmp_path_factory.mktemp("run")
    transformer.main(["--budget=smoke", "--text=tiny_shakespeare", f"--data_dir={data}", f"--workdir={run}", "--eval_windows=0",
                      "--sample_tokens=4", "--timing_steps=1"])
    return data, run


def test_eval_reproduces_the_experiments_validation_loss(text_run):
    data, run = text_run
    saved = json.loads((run / "result.json").read_text())
    rec = eval_cli.main([f"--workdir={run}", f"--data_dir={data}", "--split=validation"])
    assert rec["loss_nanogpt"] == saved["value"]
    assert rec["loss_all_positions"] == saved["loss_all_positions"]
    assert rec["windows"] == saved["validation_windows"] == 400 // 32


def test_eval_text_errors_name_the_problem(text_run):
    data, run = text_run
    with pytest.raises(ConfigError, match=r"'nanogpt' split has 0 test characters.*use --split=validation"):
        eval_cli.main([f"--workdir={run}", f"--data_dir={data}"])
    with pytest.raises(ConfigError, match=r"cannot be reloaded by name: only text runs.*character-level "
                                          r"or with their tokenizer saved"):
        data_registry.load_split({"name": "tiny_shakespeare", "split": "nanogpt", "tokenizer": "bpe"},
                                 "validation", data, seq_len=32)


def test_sample_cli_writes_characters(text_run):
    _, run = text_run
    before = set(run.glob("samples_cli*.txt"))
    sample_cli.main([f"--workdir={run}", "--num=2"])
    sample_cli.main([f"--workdir={run}", "--num=2", "--seed=1"])      # a second call keeps the first's file
    new = sorted(set(run.glob("samples_cli*.txt")) - before)
    assert len(new) == 2
    for p in new:
        text = p.read_text()
        assert len(text) >= 2 * 32 and set(text) <= set("abc de\n")


def test_a_text_of_another_length_is_refused_unless_allowed(tmp_path, monkeypatch):
    from jax_ar.errors import DataFileError
    (tmp_path / "tiny_shakespeare").mkdir()
    (tmp_path / "tiny_shakespeare" / "input.txt").write_text("First Citizen:\n" * 10)
    monkeypatch.delenv(shakespeare.ALLOW_OTHER_TEXT)
    with pytest.raises(DataFileError, match=r"150 characters, Tiny Shakespeare has 1,115,394.*JAX_AR_ALLOW_OTHER_TEXT=1"):
        shakespeare.load_text(tmp_path)
    monkeypatch.setenv(shakespeare.ALLOW_OTHER_TEXT, "1")
    assert len(shakespeare.load_text(tmp_path)) == 150


def sample_file(run, *args):
    before = set(run.glob("samples_cli*.txt"))
    sample_cli.main([f"--workdir={run}", *args])
    (new,) = set(run.glob("samples_cli*.txt")) - before
    return new.read_text()


def draw(run, *args, num=2):
    """The token ids the CLI would write (its options, the run's model)."""
    from jax_ar import runs
    _, _, opts = runs.parse_cli([f"--workdir={run}", *args], "t", sample_cli.OPTIONS, "")
    info, model, params = runs.load_run(run)
    prompt = sample_cli.encode_prompt(info["dataset"], None, opts["prompt"]) if opts["prompt"] else None
    return sample_cli.draw(model, params, jax.random.PRNGKey(opts["seed"]), num, prompt_P=prompt,
                           length=opts["length"], pick=sample_cli.make_pick(opts))


def test_sample_cli_prompt_length_and_strategies(text_run):
    _, run = text_run                                          # block 32, characters "abc de\n"
    vocab = json.loads((run / "run.json").read_text())["dataset"]["vocab"]
    greedy = draw(run, "--prompt=ab", "--length=10", "--strategy=greedy")
    assert greedy.shape == (2, 12) and (greedy[0] == greedy[1]).all()
    assert "".join(vocab[i] for i in greedy[0, :2]) == "ab"
    np.testing.assert_array_equal(draw(run, "--prompt=ab", "--length=10", "--strategy=top_k", "--k=1",
                                       "--seed=3"), greedy)     # top-k with k = 1 is greedy
    assert draw(run, "--length=70", "--strategy=top_p", "--p=0.9", "--temperature=0.8").shape == (2, 70)
    assert draw(run, "--prompt=abc", "--length=40").shape == (2, 43)   # past the 32-position context: it slides
    text = sample_file(run, "--num=1", "--prompt=ab", "--length=10", "--strategy=greedy")
    assert text == "".join(vocab[i] for i in greedy[0]) + "\n"


def test_sample_cli_beam_search(text_run):
    from jax_ar import runs
    _, run = text_run
    info, model, params = runs.load_run(run)
    prompt = sample_cli.encode_prompt(info["dataset"], None, "ab")
    one, lp1 = sample_cli.beams(model, params, 1, prompt_P=prompt, length=10)
    np.testing.assert_array_equal(one, draw(run, "--prompt=ab", "--length=10", "--strategy=greedy")[:1])
    three, lp3 = sample_cli.beams(model, params, 3, prompt_P=prompt, length=10)
    assert three.shape == (3, 12) and (three[:, :2] == prompt).all()
    assert (np.diff(lp3) <= 1e-6).all() and lp3[0] >= lp1[0] - 1e-5     # best first, never worse than greedy
    text = sample_file(run, "--strategy=beam", "--width=3", "--prompt=ab", "--length=10")
    assert text.startswith("".join(info["dataset"]["vocab"][i] for i in three[0]))


@pytest.mark.parametrize("args, message", [
    (["--k=5"], r"--k do\(es\) not apply to --strategy=sample"),
    (["--strategy=greedy", "--temperature=0.5"], r"--temperature do\(es\) not apply to --strategy=greedy"),
    (["--strategy=top_k"], r"--strategy=top_k needs --k=K"),
    (["--strategy=beam"], r"--strategy=beam needs --width=W"),
    (["--strategy=beam", "--width=3", "--num=4"], r"--num and --seed do not apply to --strategy=beam"),
    (["--strategy=beam", "--width=3", "--length=-2"], r"--length must be an integer >= 0"),
    (["--width=3"], r"--width do\(es\) not apply to --strategy=sample"),
    (["--temperature=0"], r"--temperature must be > 0, got 0.0; temperature 0 is greedy decoding: --strategy=greedy"),
    (["--strategy=nucleus"], r"unknown --strategy='nucleus'; choose one of sample, greedy, top_k, top_p, beam"),
    (["--prompt=abz"], r"--prompt has characters outside the run's vocabulary: \['z'\]"),
    (["--length=-1"], r"--length must be an integer >= 0"),
    (["--prompt=" + "a" * 32], r"the 32-element prompt fills the model's context of 32; give --length=N"),
])
def test_sample_cli_bad_options_name_the_problem(text_run, args, message):
    _, run = text_run
    with pytest.raises(ConfigError, match=message):
        sample_cli.main([f"--workdir={run}", *args])


@pytest.fixture(scope="module")
def bpe_run(text_run, tmp_path_factory):
    from experiments import transformer
    data, _ = text_run
    run = tmp_path_factory.mktemp("bpe_run")
    transformer.main(["--budget=smoke", "--text=tiny_shakespeare", f"--data_dir={data}", f"--workdir={run}", "--eval_windows=0",
                      "--tokenizer=bpe", "--bpe_vocab=270", "--sample_tokens=4", "--timing_steps=1"])
    return data, run


def test_bpe_run_saves_its_tokenizer_for_eval_and_sample(bpe_run):
    data, run = bpe_run
    assert (run / "tokenizer.json").is_file()
    saved = json.loads((run / "result.json").read_text())
    rec = eval_cli.main([f"--workdir={run}", f"--data_dir={data}", "--split=validation"])
    for k in ("loss_all_positions", "bits_per_char", "tokens_per_char"):   # the experiment's own figures
        assert rec[k] == saved[k]
    assert rec["loss_nanogpt"] == saved["value"]
    text = sample_file(run, "--num=1", "--prompt=ab c", "--length=12")
    assert text.startswith("ab c")                 # then 12 tokens of an untrained byte-level model


def test_sample_cli_prompt_needs_a_text_run(tmp_path):
    from experiments import fvsbn
    fvsbn.main(["--budget=smoke", f"--workdir={tmp_path}", "--train.steps=2", "--train.eval_every=2"])
    with pytest.raises(ConfigError, match=r"--prompt needs a text run"):
        sample_cli.main([f"--workdir={tmp_path}", "--prompt=ab"])
    with pytest.raises(ConfigError, match=r"an image run samples whole images \(16 pixels\); leave out --length"):
        sample_cli.main([f"--workdir={tmp_path}", "--length=17"])
    from jax_ar import runs
    _, model, params = runs.load_run(tmp_path)
    with pytest.raises(ConfigError, match=r"parameters for 16 positions, so one sample holds at most 16 elements; "
                                          r"ask for --length <= 16"):
        sample_cli.draw(model, params, jax.random.PRNGKey(0), 2, length=17)


def test_rnn_runs_each_cell_as_a_run_that_eval_and_sample_rebuild(tmp_path):
    from experiments import rnn
    from jax_ar import runs
    (tmp_path / "data" / "tiny_shakespeare").mkdir(parents=True)
    rng = np.random.default_rng(1)
    (tmp_path / "data" / "tiny_shakespeare" / "input.txt").write_text("".join(rng.choice(list("abc de\n"), 12000)))
    run = tmp_path / "run"
    with pytest.raises(ValueRangeError, match=r"prompt holds characters outside the vocabulary: \[':', 'E', 'M'"):
        rnn.main(["--budget=smoke", "--text=tiny_shakespeare", f"--data_dir={tmp_path / 'data'}", f"--workdir={tmp_path / 'x'}"])  # ROMEO:
    assert not (tmp_path / "x" / "rnn").exists()               # refused before any training
    rnn.main(["--budget=smoke", "--text=tiny_shakespeare", "--cells=gru", "--prompt=ab", "--sample_chars=4", "--train.steps=4",
              "--train.eval_every=4", f"--data_dir={tmp_path / 'data'}", f"--workdir={run}"])
    info, model, _ = runs.load_run(run / "gru")
    assert info["model"] == "char_gru" and model.stationary and info["best_step"] == 4
    assert draw(run / "gru", "--prompt=ab", "--length=300").shape == (2, 302)   # past seq_len 256: it runs on
    with pytest.raises(CheckpointError, match=r"\('char_gru'\) keeps each model it trained in a directory of its "
                                              r"own: give --workdir=.*run/<name> with <name> one of gru"):
        sample_cli.main([f"--workdir={run}"])
    rec = eval_cli.main([f"--workdir={run / 'gru'}", f"--data_dir={tmp_path / 'data'}", "--split=validation"])
    assert rec["model"] == "char_gru" and rec["windows"] == 600 // 256 and np.isfinite(rec["value"])
