"""Pure distribution functions, apart from the networks that parametrise them.

Convention: a model's output at each position is one array ``out[..., P]``
whose trailing axis holds the distribution's P raw parameters (P is
``dist.param_size``).  Each distribution is a tiny frozen dataclass with pure
``log_prob(out, x)`` (elementwise over the leading axes), ``sample(key, out)``
and, where closed-form, ``entropy(out)``.  Everything is computed in float32
with log-sum-exp / log-sigmoid, so logits of magnitude 1e4 stay finite.
"""
from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp

from jax_ar import errors

LOG_2PI = math.log(2.0 * math.pi)


# ----------------------------------------------------------------- Bernoulli
def bernoulli_log_prob(logits, x):
    """log p(x | logits) for x in {0, 1}.

    x log sigmoid(l) + (1-x) log sigmoid(-l) = -softplus((1 - 2x) l): one
    transcendental per element, no cancellation, finite for any finite logit.
    """
    sign = 1.0 - 2.0 * x.astype(jnp.float32)
    return -jax.nn.softplus(sign * logits.astype(jnp.float32))


def bernoulli_sample(key, logits):
    return jax.random.bernoulli(key, jax.nn.sigmoid(logits.astype(jnp.float32))).astype(jnp.int32)


def bernoulli_entropy(logits):
    logits = logits.astype(jnp.float32)
    p = jax.nn.sigmoid(logits)
    return -(p * jax.nn.log_sigmoid(logits) + (1.0 - p) * jax.nn.log_sigmoid(-logits))


# --------------------------------------------------------------- categorical
def categorical_log_prob(logits, x):
    """log softmax(logits)[x]; logits [..., V], integer x [...]."""
    logp = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)
    return jnp.take_along_axis(logp, x.astype(jnp.int32)[..., None], axis=-1)[..., 0]


def categorical_sample(key, logits):
    return jax.random.categorical(key, logits.astype(jnp.float32), axis=-1).astype(jnp.int32)


def categorical_entropy(logits):
    """-sum p log p; a masked class (logit -inf, p = 0) adds 0, not 0 * -inf = NaN."""
    logp = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)
    p = jnp.exp(logp)
    return -jnp.sum(p * jnp.where(p > 0, logp, 0.0), axis=-1)


# ------------------------------------------------------------------ Gaussian
def _standardise(x, loc, log_scale):
    """(x - loc) / scale; exactly 0 at x == loc even where 1 / scale overflows (log_scale < -88).

    The inner ``where`` keeps the unused branch finite too, so gradients at x == loc are not NaN.
    """
    d = x - loc
    at_loc = d == 0
    return jnp.where(at_loc, 0.0, d * jnp.exp(-jnp.where(at_loc, 0.0, log_scale)))


def gaussian_log_prob(mean, log_scale, x):
    z = _standardise(x, mean, log_scale)
    return -0.5 * z * z - log_scale - 0.5 * LOG_2PI


def gaussian_sample(key, mean, log_scale):
    return mean + jnp.exp(log_scale) * jax.random.normal(key, jnp.shape(mean))


def gaussian_entropy(log_scale):
    return 0.5 * (1.0 + LOG_2PI) + log_scale


# ------------------------------------------------------------------ logistic
def logistic_log_prob(loc, log_scale, x):
    """The density is even in z, so use |z|: -|z| - 2 softplus(-|z|) stays finite (-inf at worst)
    where z overflows to -inf (the form -z - 2 softplus(-z) gives inf - inf = NaN there)."""
    z = jnp.abs(_standardise(x, loc, log_scale))
    return -z - log_scale - 2.0 * jax.nn.softplus(-z)


def logistic_sample(key, loc, log_scale):
    u = jax.random.uniform(key, jnp.shape(loc), minval=1e-6, maxval=1.0 - 1e-6)
    return loc + jnp.exp(log_scale) * (jnp.log(u) - jnp.log1p(-u))


# ------------------------------------------------------------------ mixtures
def _split3(out, k):
    return out[..., :k], out[..., k:2 * k], out[..., 2 * k:3 * k]


def mixture_log_prob(component_log_prob, logit_w, loc, log_scale, x):
    """log sum_k w_k p_k(x), by log-sum-exp over the trailing component axis."""
    lp = component_log_prob(loc, log_scale, x[..., None])
    return jax.nn.logsumexp(jax.nn.log_softmax(logit_w, axis=-1) + lp, axis=-1)


def mixture_sample(component_sample, key, logit_w, loc, log_scale):
    kc, kx = jax.random.split(key)
    c = jax.random.categorical(kc, logit_w, axis=-1)
    pick = lambda a: jnp.take_along_axis(a, c[..., None], axis=-1)[..., 0]
    return component_sample(kx, pick(loc), pick(log_scale))


def _check_size(dist, field: str, lo: int = 1, hint: str = "") -> None:
    """Constructor check of a frozen distribution's size ``field``: an integer >= ``lo`` (stored as int)."""
    value = getattr(dist, field)
    v = errors.check_integer(value, f"{type(dist).__name__} {field}", lo=lo, hint=hint)
    object.__setattr__(dist, field, v)


def discretized_logistic_mixture_log_prob(logit_w, loc, log_scale, x, num_bins: int):
    """PixelCNN++ discretized logistic mixture over integer bins 0..num_bins-1.

    Bins are mapped to centres in [-1, 1]; the edge bins take the whole tail
    mass, so the probabilities of the ``num_bins`` values sum to exactly 1.
    """
    log_scale = jnp.maximum(log_scale, -7.0)
    xc = (2.0 * x.astype(jnp.float32) / (num_bins - 1) - 1.0)[..., None]
    half = 1.0 / (num_bins - 1)
    inv = jnp.exp(-log_scale)
    plus = inv * (xc - loc + half)
    minus = inv * (xc - loc - half)
    log_cdf_plus = jax.nn.log_sigmoid(plus)            # for the lowest bin
    log_one_minus_cdf_min = -jax.nn.softplus(minus)    # for the highest bin
    # log(sigmoid(plus) - sigmoid(minus)), stable: sigmoid(a)-sigmoid(b) =
    # exp(log_sigmoid(a)) * (1 - exp(log_sigmoid(b) - log_sigmoid(a)))
    mid_log = (jax.nn.log_sigmoid(plus) + jax.nn.log_sigmoid(-minus)
               + jnp.log(-jnp.expm1(-(plus - minus))))
    # far in a tail the difference underflows: use the density at the centre
    mid = xc - loc
    log_pdf_mid = (-mid * inv - log_scale - 2.0 * jax.nn.softplus(-mid * inv)) + jnp.log(half * 2.0)
    mid_log = jnp.where(plus - minus > 1e-5, mid_log, log_pdf_mid)
    mid_log = jnp.where(jnp.isfinite(mid_log), mid_log, log_pdf_mid)
    # the edge bins by their integer value (a test on xc near +-1 would also catch
    # interior bins once num_bins > 2001)
    xf = x.astype(jnp.float32)[..., None]
    lp = jnp.where(xf <= 0, log_cdf_plus, jnp.where(xf >= num_bins - 1, log_one_minus_cdf_min, mid_log))
    return jax.nn.logsumexp(jax.nn.log_softmax(logit_w, axis=-1) + lp, axis=-1)


# ------------------------------------------------------- the contract objects
@dataclasses.dataclass(frozen=True)
class Bernoulli:
    """Binary event; ``out[..., 1]`` holds the logit."""
    kind: str = "binary"
    param_size: int = 1
    vocab_size: int = 2

    def log_prob(self, out, x):
        return bernoulli_log_prob(out[..., 0], x)

    def sample(self, key, out):
        return bernoulli_sample(key, out[..., 0])

    def entropy(self, out):
        return bernoulli_entropy(out[..., 0])

    def probs(self, out):
        """Probabilities of the values 0..vocab_size-1, shape [..., 2]."""
        p1 = jax.nn.sigmoid(out[..., 0].astype(jnp.float32))
        return jnp.stack([1.0 - p1, p1], axis=-1)

    def log_probs(self, out):
        """Log-probabilities of the values 0 and 1, shape [..., 2] (logits of a 2-way categorical)."""
        l = out[..., 0].astype(jnp.float32)
        return jnp.stack([jax.nn.log_sigmoid(-l), jax.nn.log_sigmoid(l)], axis=-1)


@dataclasses.dataclass(frozen=True)
class Categorical:
    """Categorical event over ``vocab_size`` ids; ``out[..., V]`` holds logits."""
    vocab_size: int
    kind: str = "categorical"

    def __post_init__(self):
        _check_size(self, "vocab_size", hint=" (the number of classes)")

    @property
    def param_size(self):
        return self.vocab_size

    def log_prob(self, out, x):
        return categorical_log_prob(out, x)

    def sample(self, key, out):
        return categorical_sample(key, out)

    def entropy(self, out):
        return categorical_entropy(out)

    def probs(self, out):
        return jax.nn.softmax(out.astype(jnp.float32), axis=-1)

    def log_probs(self, out):
        return jax.nn.log_softmax(out.astype(jnp.float32), axis=-1)


@dataclasses.dataclass(frozen=True)
class DiscretizedLogisticMixture:
    """Integer event in [0, num_bins) from a K-component logistic mixture; ``out[..., 3K]``."""
    num_components: int
    num_bins: int = 256
    kind: str = "categorical"

    def __post_init__(self):
        _check_size(self, "num_components", hint=" (mixture components)")
        _check_size(self, "num_bins", lo=2, hint=" (the bin width is 2 / (num_bins - 1))")

    @property
    def vocab_size(self):
        return self.num_bins

    @property
    def param_size(self):
        return 3 * self.num_components

    def log_prob(self, out, x):
        w, m, s = _split3(out.astype(jnp.float32), self.num_components)
        return discretized_logistic_mixture_log_prob(w, m, s, x, self.num_bins)

    def log_probs(self, out):
        """Log-probabilities of every bin, shape [..., num_bins]."""
        xs = jnp.arange(self.num_bins)
        return jax.vmap(lambda v: self.log_prob(out, jnp.full(out.shape[:-1], v)), out_axes=-1)(xs)

    def probs(self, out):
        return jnp.exp(self.log_probs(out))

    def sample(self, key, out):
        return jax.random.categorical(key, self.log_probs(out), axis=-1).astype(jnp.int32)


@dataclasses.dataclass(frozen=True)
class Gaussian:
    """Continuous event; ``out[..., 2]`` = (mean, log_scale)."""
    kind: str = "continuous"
    param_size: int = 2
    vocab_size: None = None

    def log_prob(self, out, x):
        return gaussian_log_prob(out[..., 0], out[..., 1], x)

    def sample(self, key, out):
        return gaussian_sample(key, out[..., 0], out[..., 1])

    def entropy(self, out):
        return gaussian_entropy(out[..., 1])


@dataclasses.dataclass(frozen=True)
class _Mixture:
    """A mixture of K location-scale components: ``out[..., 3K]`` = (mixture logits, locations,
    log_scales); subclasses name the component's log-density and sampler."""
    num_components: int
    kind: str = "continuous"
    vocab_size: None = None

    def __post_init__(self):
        _check_size(self, "num_components", hint=" (mixture components)")

    @property
    def param_size(self):
        return 3 * self.num_components

    def log_prob(self, out, x):
        return mixture_log_prob(self._component_log_prob, *_split3(out, self.num_components), x)

    def sample(self, key, out):
        return mixture_sample(self._component_sample, key, *_split3(out, self.num_components))


@dataclasses.dataclass(frozen=True)
class MixtureOfGaussians(_Mixture):
    """Continuous event; ``out[..., 3K]`` = (mixture logits, means, log_scales)."""
    _component_log_prob = staticmethod(gaussian_log_prob)
    _component_sample = staticmethod(gaussian_sample)


@dataclasses.dataclass(frozen=True)
class MixtureOfLogistics(_Mixture):
    """Continuous event; ``out[..., 3K]`` = (mixture logits, locations, log_scales)."""
    _component_log_prob = staticmethod(logistic_log_prob)
    _component_sample = staticmethod(logistic_sample)
