"""Checks at the contract's edges: how far a model can sample, decoding models whose ``out`` is
not logits, bad input to ``outputs`` / ``step`` / ``init_cache``, the trainer's first batch, and
the metrics' and AR fits' refusals of input that has no right answer."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jax_ar import beam_search, decoding, distributions, evaluate, generation, linear_ar, metrics, sampling
from jax_ar.data.batching import ArrayData
from jax_ar.errors import ConfigError, ShapeError, ValueRangeError
from jax_ar.models import registry
from jax_ar.train import TrainConfig, fit

K = jax.random.PRNGKey(0)


def tiny(name):
    m = registry.build_tiny(name)
    return m, m.init(K)


@pytest.mark.parametrize("name", ["fvsbn", "nade", "made", "pixelcnn", "bernoulli"])
def test_models_with_one_parameter_set_per_position_stop_at_seq_len(name):
    m, p = tiny(name)
    assert m.max_steps == m.seq_len
    with pytest.raises(ConfigError, match=rf"num_steps {m.seq_len + 1} exceeds .*\({m.seq_len} positions\)"):
        sampling.sample(m, p, K, 2, num_steps=m.seq_len + 1)


@pytest.mark.parametrize("name", ["char_gru", "ngram", "ar_linear", "mdn", "wavenet"])
def test_stationary_models_run_past_seq_len(name):
    m, p = tiny(name)
    assert m.max_steps is None
    x, lp = sampling.sample(m, p, K, 2, num_steps=m.seq_len + 3)
    assert x.shape == (2, m.seq_len + 3) and np.all(np.isfinite(np.asarray(lp)))
    # the longer sequence is scored by the model's parallel pass too
    out = m.outputs(p, x)
    assert out.shape[1] == m.seq_len + 3


def test_strategies_read_the_probabilities_of_a_mixture_output():
    m, p = tiny("wavenet_dlm")                       # out = mixture parameters, not logits
    assert m.dist.param_size != m.dist.vocab_size
    x, _ = sampling.sample(m, p, K, 4, pick=decoding.Greedy())
    cache = m.init_cache(p, 4)
    out, _ = m.step(p, cache, jnp.zeros((4,), jnp.int32))
    first = np.argmax(np.asarray(m.dist.probs(out)), -1)
    np.testing.assert_array_equal(np.asarray(x)[:, 0], first)  # the mode, not the largest parameter
    toks, lp, n = generation.generate(m, p, K, np.zeros((3, 1), np.int32), 2)
    assert toks.shape == (3, 2) and np.all((np.asarray(toks) >= 0) & (np.asarray(toks) < m.dist.vocab_size))
    tokens, score, logp, length = beam_search.beam_search(m, p, 3, num_steps=m.seq_len)
    np.testing.assert_allclose(np.asarray(logp)[0, 0], float(m.log_prob(p, tokens[:, 0])[0]), rtol=1e-5)


def test_greedy_on_a_binary_model_picks_the_likelier_value():
    m, p = tiny("fvsbn")
    p = jax.tree_util.tree_map(lambda a: a + 0.3, p)   # non-zero logits
    x, _ = sampling.sample(m, p, K, 1, pick=decoding.Greedy())
    out = sampling.step_outputs(m, p, x)
    np.testing.assert_array_equal(np.asarray(x)[0], (np.asarray(out)[0, :, 0] > 0).astype(int))


def test_token_strategies_and_generation_refuse_continuous_models():
    m, p = tiny("ar_linear")
    with pytest.raises(ConfigError, match="decoding strategies pick token ids.*continuous"):
        sampling.sample(m, p, K, 1, pick=decoding.TopK(1))
    with pytest.raises(ConfigError, match="continuous"):
        generation.generate(m, p, K, np.zeros((1, 2), np.float32), 2)
    with pytest.raises(ConfigError, match="continuous"):
        beam_search.beam_search(m, p, 2)


def test_top_k_with_ties_keeps_exactly_k():
    z = jnp.array([[2.0, 1.0, 1.0, 0.0], [1.0, 1.0, 0.0, 0.0]])
    probs = np.asarray(decoding.truncated_probs(decoding.TopK(2), z))
    assert list((probs > 0).sum(-1)) == [2, 2]
    draws = np.stack([np.asarray(decoding.TopK(2)(k, z)) for k in jax.random.split(K, 200)])
    for row in range(2):
        assert set(np.unique(draws[:, row])) <= set(np.flatnonzero(probs[row]))
    assert decoding.TopK(np.int64(2)).k == 2


def test_generation_arguments():
    m, p = tiny("transformer_prenorm")
    V = m.dist.vocab_size
    prompt = np.zeros((1, 1), np.int32)
    with pytest.raises(ValueRangeError, match=rf"stop_token must be a token id in \[0, {V - 1}\], got {V}"):
        generation.generate(m, p, K, prompt, 2, stop_token=V)
    with pytest.raises(ConfigError, match="num_new must be an integer >= 1, got -1"):
        generation.generate_sliding(m, p, K, np.zeros((1, m.seq_len), np.int32), -1)
    toks, _, _ = generation.generate(m, p, K, prompt, 2, stop_token=0, pad_token=-1)   # -1 marks padding
    assert toks.shape == (1, 2)


@pytest.mark.parametrize("name", ["transformer_prenorm", "made_categorical", "fvsbn", "pixelcnn", "char_gru"])
def test_outputs_step_and_init_cache_check_their_input(name):
    m, p = tiny(name)
    V = getattr(m.dist, "vocab_size", 2)
    x = np.zeros((2, m.seq_len), np.int32)
    bad = x.copy()
    bad[0, -1] = V
    with pytest.raises(ValueRangeError, match=f"{V}"):
        m.outputs(p, bad)
    with pytest.raises(ShapeError, match="no sequences"):
        m.log_prob(p, x[:0])
    cache = m.init_cache(p, 2)
    with pytest.raises(ShapeError, match=r"x_prev must have shape \[batch\]"):
        m.step(p, cache, x[:, :1])
    with pytest.raises(ValueRangeError, match="x_prev"):
        m.step(p, cache, np.array([0, V], np.int32))
    with pytest.raises(ConfigError, match="batch_size must be an integer >= 1, got -1"):
        m.init_cache(p, -1)
    with pytest.raises(ValueRangeError, match="unconditional"):
        m.init_cache(p, 2, jnp.zeros((2,), jnp.int32))


def test_evaluation_batch_size_is_checked():
    m, p = tiny("fvsbn")
    with pytest.raises(ConfigError, match="batch_size must be an integer >= 1, got 0"):
        evaluate.log_prob_batched(m, p, np.zeros((3, m.seq_len)), batch_size=0)


def test_the_trainer_checks_the_data_and_the_model_before_compiling(tmp_path):
    cfg = TrainConfig(steps=2, batch_size=4, eval_every=2, ckpt_every=2)
    m = registry.build("fvsbn", seq_len=5)
    with pytest.raises(ShapeError, match="sequence length 9 but this model is built for length 5"):
        fit(m, cfg, ArrayData(np.zeros((16, 9))), progress=False)
    with pytest.raises(ShapeError, match="sequence length 9"):
        fit(m, cfg, ArrayData(np.zeros((16, 5))), np.zeros((4, 9)), progress=False)
    t = registry.build("transformer_prenorm", vocab_size=2, seq_len=4, num_layers=1, num_heads=1, width=8)
    with pytest.raises(ValueRangeError, match=r"token id 2 outside the vocabulary \[0, 1\]"):
        fit(t, cfg, ArrayData(np.full((16, 4), 2)), progress=False)
    n, _ = tiny("ngram")
    with pytest.raises(ConfigError, match="non-floating-point parameters: it is not trained by gradient descent"):
        fit(n, cfg, ArrayData(np.zeros((16, n.seq_len), np.int32)), progress=False)
    for kw, msg in ((dict(seed=-1), "seed must be >= 0"), (dict(eval_batch_size=0), "eval_batch_size must be >= 1")):
        with pytest.raises(ConfigError, match=msg):
            TrainConfig(**kw).validate()


def test_metrics_refuse_what_is_not_a_distribution():
    with pytest.raises(ValueRangeError, match="must sum to 1 along axis -1.*sums to 0.4"):
        metrics.kl_divergence(np.array([0.2, 0.2]), np.log([0.5, 0.5]))
    with pytest.raises(ValueRangeError, match="finite probabilities"):
        metrics.cross_entropy(np.array([np.nan, 1.0]), np.log([0.5, 0.5]))
    with pytest.raises(ShapeError, match=r"p has shape \(3, 1\) but log_q has shape \(3,\)"):
        metrics.cross_entropy(np.ones((3, 1)), np.log(np.ones(3) / 3))
    with pytest.raises(ShapeError, match="empty"):
        metrics.nll([])
    with pytest.raises(ConfigError, match="dims must be an integer >= 1"):
        metrics.summary([-1.0], 0)
    masked = jnp.array([0.0, -jnp.inf])                     # a token excluded by both
    assert float(metrics.kl_from_logits(masked, masked)) == 0.0
    # inside jit nothing is checked (values are not known), and valid input passes
    assert np.isfinite(float(jax.jit(metrics.kl_divergence)(jnp.array([0.5, 0.5]), jnp.log(jnp.array([0.25, 0.75])))))


def test_ar_fits_refuse_singular_regressions():
    rng = np.random.default_rng(0)
    for x, p in ((np.ones(50), 2), (np.arange(50.0), 2), (np.tile([1.0, -1.0], 25), 3)):
        with pytest.raises(ValueRangeError, match=rf"AR\({p}\) has no unique maximum-likelihood fit"):
            linear_ar.fit(x, p)
    with pytest.raises(ValueRangeError, match=r"\(series \[1\]\)"):
        linear_ar.fit(np.stack([rng.normal(size=50), np.ones(50)]), 1)
    with pytest.raises(ValueRangeError, match="lagged series is constant"):
        linear_ar.fit_ar1_lecture(np.ones(20))
    assert linear_ar.fit(rng.normal(size=(3, 200)), 2).phi.shape == (3, 2)


def test_gaussian_and_logistic_log_prob_stay_finite_at_tiny_scales():
    for f in (distributions.gaussian_log_prob, distributions.logistic_log_prob):
        v = float(f(jnp.float32(0.0), jnp.float32(-89.0), jnp.float32(0.0)))
        assert np.isfinite(v) and v > 87.0


@pytest.mark.parametrize("name", ["bernoulli", "fvsbn", "ngram", "ar_linear"])
@pytest.mark.parametrize("seq_len", [0, -3, 2.5])
def test_bad_seq_len_is_refused_when_the_model_is_built(name, seq_len):
    with pytest.raises(ConfigError, match=rf"seq_len must be an integer >= 1, got {seq_len}"):
        registry.build(name, seq_len=seq_len)


def test_review_fixes_custom_picks_prefixes_and_broadcasting():
    # a custom pick gets the model's out (as in sampling.sample): FVSBN with logit +5 samples ones
    m, p = tiny("fvsbn")
    p = {"W": jnp.zeros_like(p["W"]), "b": jnp.full_like(p["b"], 5.0)}           # p(x_t = 1) = 0.993
    x, _ = sampling.sample(m, p, K, 64, pick=m.dist.sample)
    toks, _, _ = generation.generate(m, p, K, np.ones((64, 1), np.int32), m.seq_len - 1, pick=m.dist.sample)
    assert np.asarray(x).mean() > 0.9 and np.asarray(toks).mean() > 0.9
    toks, _, _ = generation.generate(m, p, K, np.ones((64, 1), np.int32), m.seq_len - 1)   # default: Sample(1)
    assert np.asarray(toks).mean() > 0.9
    # a causal Transformer takes the first T <= seq_len tokens eagerly, as under jit
    t, tp = tiny("transformer_prenorm")
    short = np.zeros((2, t.seq_len - 1), np.int32)
    np.testing.assert_allclose(np.asarray(t.outputs(tp, short)), np.asarray(jax.jit(t.outputs)(tp, short)),
                               rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueRangeError, match="unconditional but labels were given"):   # as at full length
        t.outputs(tp, short, np.zeros(2, np.int32))
    with pytest.raises(ValueRangeError, match=r"token id 3 outside the vocabulary \[0, 2\]"):
        t.outputs(tp, short + 3)
    # one q for every row of p broadcasts; a q that would enlarge p is refused
    pp = np.array([[0.5, 0.5], [0.25, 0.75]])
    assert metrics.cross_entropy(pp, np.log([0.5, 0.5])).shape == (2,)
    g = jax.grad(lambda a: metrics.kl_from_logits(a, jnp.zeros(3)))(jnp.array([0.0, -jnp.inf, 1.0]))
    assert np.all(np.isfinite(np.asarray(g)))
    assert metrics.bits_per_dim(100.0, 784.0) == pytest.approx(100.0 / (784 * np.log(2)))


@pytest.mark.parametrize("name", ["transformer_prenorm", "fvsbn", "gated_pixelcnn_conditional", "char_gru"])
def test_shape_and_dtype_are_checked_under_jit_too(name):
    # shapes and dtypes are static under jit: a wrong one is a clear error there as well
    m, p = tiny(name)
    x, c = m.dummy_input(2)
    lp = jax.jit(m.log_prob)
    for bad in (x[0], x[:, :-1], x.astype(jnp.complex64)):
        with pytest.raises(ShapeError, match="shape|dtype"):
            lp(p, bad, c)
    if c is not None:
        with pytest.raises(ShapeError, match="labels must have shape"):
            lp(p, x, c[:1])
    # bfloat16 input is numeric: accepted, eagerly and under jit
    np.testing.assert_allclose(np.asarray(m.log_prob(p, x.astype(jnp.bfloat16), c)),
                               np.asarray(lp(p, x, c)), rtol=1e-5)


def test_sampling_and_search_arguments_are_checked():
    T, pT = tiny("transformer_prenorm")
    with pytest.raises(ConfigError, match="PRNG key"):
        sampling.sample(T, pT, 0, 2)
    with pytest.raises(ConfigError, match="num_steps must be an integer"):
        sampling.sample(T, pT, K, 2, num_steps=2.5)
    with pytest.raises(ConfigError, match="strategy instance such as Greedy"):
        sampling.sample(T, pT, K, 2, pick=decoding.Greedy)
    with pytest.raises(ConfigError, match="pick must be a decoding strategy"):
        sampling.sample(T, pT, K, 2, pick="greedy")
    F, pF = tiny("fvsbn")
    with pytest.raises(ConfigError, match="parameters for each of its"):
        generation.generate_sliding(F, pF, K, np.zeros((1, 1), int), F.seq_len)
    G, pG = tiny("gated_pixelcnn_conditional")
    for call in (lambda: generation.generate(G, pG, K, np.zeros((1, 1), int), 2),
                 lambda: beam_search.beam_search(G, pG, 2)):
        with pytest.raises(ConfigError, match="take no labels"):
            call()
    S = T.seq_len
    with pytest.raises(ShapeError, match="longer than the model's context"):
        beam_search.beam_search(T, pT, 2, prompt=np.zeros((1, S + 1), int))
    with pytest.raises(ShapeError, match="fills the model's context"):
        beam_search.beam_search(T, pT, 2, prompt=np.zeros((1, S), int))
    with pytest.raises(ConfigError, match="disagrees with the prompt's 1 rows"):
        beam_search.beam_search(T, pT, 2, prompt=np.zeros((1, 1), int), batch_size=3)
    with pytest.raises(ConfigError, match="eos_token must be an integer"):
        beam_search.beam_search(T, pT, 2, eos_token=1.5)


def test_train_config_checks_optimizer_schedule_and_mesh_up_front():
    for kw, msg in ((dict(optimizer="adamx"), "unknown optimizer"), (dict(schedule="cos"), "unknown schedule"),
                    (dict(mesh="model:2"), "mesh must look like"),
                    (dict(mesh="data:8", batch_size=100), "divisible by the 8 devices")):
        with pytest.raises(ConfigError, match=msg):
            TrainConfig(**kw).validate()
    TrainConfig(mesh="data:4", batch_size=100).validate()
