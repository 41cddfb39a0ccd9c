"""Closed-form maximum-likelihood fit of a Gaussian AR(p) with intercept.

    x_t = c + sum_{k=1..p} phi_k x_{t-k} + sigma * eps_t,     eps_t ~ N(0, 1)

Conditional on the first p values the Gaussian likelihood is maximised by
ordinary least squares of x_t on [1, x_{t-1}, ..., x_{t-p}] (this is what
statsmodels ``AutoReg(x, p, trend='c')`` computes), and by
sigma^2 = RSS / n with n = T - p regression rows.

Numerics: everything runs in float64 (``jax.enable_x64`` locally, inside
these functions only).  Each series is first shifted by its mean (OLS with an
intercept is shift-equivariant, so this changes only the intercept, which
is mapped back) and the normal equations are accumulated over row chunks,
so a single 1e6-point series never materialises a big design matrix.

``pad=True`` instead uses *every* element as a target, conditioning the first
p on zeros (x_{t} = 0 for t < 0): the convention of the contract model
:mod:`jax_ar.models.ar_linear`, whose log_prob covers all D elements.

Entry points: :func:`fit` (one series [T] or a batch [B, T], vmapped),
:func:`fit_pooled` (one shared model for a list of series of any lengths),
:func:`fit_ar1_lecture` (the AR(1) textbook formula) and :func:`log_likelihood`.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jax_ar import errors

CHUNK = 65536  # regression rows per accumulation step


class ARFit(NamedTuple):
    """A fitted AR(p).  Leading batch axes when several series were fitted at once.

    c: intercept; phi: [..., p] with phi[..., k-1] the weight of x_{t-k};
    sigma2: maximum-likelihood innovation variance RSS / nobs; nobs: number of
    regression rows; llf: exact conditional Gaussian log-likelihood at the MLE (nats).
    """
    c: np.ndarray
    phi: np.ndarray
    sigma2: np.ndarray
    nobs: np.ndarray
    llf: np.ndarray

    @property
    def order(self) -> int:
        return int(np.shape(self.phi)[-1])

    @property
    def sigma(self):
        return np.sqrt(self.sigma2)

    def sigma2_unbiased(self):
        """RSS / (nobs - p - 1), the OLS degrees-of-freedom corrected variance."""
        return self.sigma2 * self.nobs / (self.nobs - self.order - 1)


# ----------------------------------------------------------------- checks
def check_order(p, length: int) -> int:
    if isinstance(p, bool) or int(p) != p or p < 1:
        raise errors.ConfigError(f"AR order p must be an integer >= 1, got {p!r}")
    p = int(p)
    if p >= length:
        raise errors.ConfigError(f"AR order p={p} must be smaller than the series length {length}")
    return p


def check_series(x, name: str = "series", ndim=(1,)) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim not in ndim:
        raise errors.ShapeError(f"{name} must have {' or '.join(map(str, ndim))} dimension(s), "
                                f"got shape {a.shape}")
    if not np.issubdtype(a.dtype, np.number) or np.issubdtype(a.dtype, np.complexfloating):
        raise errors.ShapeError(f"{name} must be a real numeric array, got dtype {a.dtype}")
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a)):
        bad = int(a.size - np.count_nonzero(np.isfinite(a)))
        raise errors.ValueRangeError(f"{name} holds {bad} NaN/Inf value(s); AR fitting needs finite values")
    return a


# ------------------------------------------------- float64 kernels (x64 on)
def _lag_rows(seg, p: int, rows: int):
    """seg holds p history values then ``rows`` targets -> (A [rows, p+1], y [rows])."""
    cols = [jnp.ones((rows,), seg.dtype)] + [seg[p - k:p - k + rows] for k in range(1, p + 1)]
    return jnp.stack(cols, axis=1), seg[p:p + rows]


def _scan_rows(xh, w, p: int, fn, init):
    """Fold ``fn(acc, A, y, w)`` over row chunks.  xh: [p + N] history + targets, w: [N] row weights."""
    N = w.shape[0]
    chunk = min(N, CHUNK)
    nch = -(-N // chunk)
    pad = nch * chunk - N
    xh = jnp.pad(xh, (0, pad))
    w = jnp.pad(w, (0, pad))

    def body(acc, i):
        seg = jax.lax.dynamic_slice(xh, (i * chunk,), (chunk + p,))
        wi = jax.lax.dynamic_slice(w, (i * chunk,), (chunk,))
        A, y = _lag_rows(seg, p, chunk)
        return fn(acc, A, y, wi), None

    acc, _ = jax.lax.scan(body, init, jnp.arange(nch))
    return acc


def _lag_products(z, p: int):
    """[sum_{t=p}^{T-1} z_t z_{t-d} for d = 0..p] from one real FFT (autocorrelation).

    Shifted dot products of a float64 series are slow on XLA:CPU (the
    misaligned slices defeat vectorisation); for p > 2 the FFT route costs one
    transform pair per series and is accurate to ~1e-15 of sum z^2.  The
    FFT sums start at t = d, so the few terms with t < p are taken off.
    """
    T = z.shape[0]
    if p <= 2:  # a couple of direct dot products are cheaper than the transform pair
        return [jnp.dot(z[p:], z[p - d:T - d]) for d in range(p + 1)]
    n = 1 << (T + p - 1).bit_length()          # >= T + p: no circular wrap for lags <= p
    F = jnp.fft.rfft(z, n)
    full = jnp.fft.irfft(F * jnp.conj(F), n)[:p + 1]
    head = [sum((z[t] * z[t - d] for t in range(d, p)), jnp.zeros((), z.dtype)) for d in range(p + 1)]
    return [full[d] - head[d] for d in range(p + 1)]


def _gram_shifted(z, p: int):
    """Unweighted normal equations in O(p) passes over the series (the lag structure).

    With S[i][j] = sum_{t=p}^{T-1} z_{t-i} z_{t-j} (lag 0 = the target), only
    the first row needs a pass over the data: moving both lags by one changes
    the sum by one term at each end,
        S[i+1][j+1] = S[i][j] + z_{p-1-i} z_{p-1-j} - z_{T-1-i} z_{T-1-j},
    and likewise for the plain sums of each lagged column.
    """
    T = z.shape[0]
    N = T - p
    y = z[p:]
    row0 = _lag_products(z, p)
    S = [[None] * (p + 1) for _ in range(p + 1)]
    for d in range(p + 1):
        S[0][d] = row0[d]
        for i in range(p - d):
            S[i + 1][i + 1 + d] = S[i][i + d] + z[p - 1 - i] * z[p - 1 - i - d] - z[T - 1 - i] * z[T - 1 - i - d]
    sym = lambda i, j: S[min(i, j)][max(i, j)]
    sums = [jnp.sum(y)]
    for k in range(p):
        sums.append(sums[k] + z[p - 1 - k] - z[T - 1 - k])
    n = jnp.asarray(N, z.dtype)
    G = jnp.stack([jnp.stack([n] + sums[1:])] +
                  [jnp.stack([sums[i]] + [sym(i, j) for j in range(1, p + 1)]) for i in range(1, p + 1)])
    b = jnp.stack([sums[0]] + [sym(0, j) for j in range(1, p + 1)])
    return G, b


def _finish(beta, ssr, n, m, scale):
    """(c, phi, sigma2, nobs, llf) and the targets' variance ``scale`` (for the singularity check)."""
    sigma2 = ssr / n
    phi = beta[1:]
    c = beta[0] + m * (1.0 - jnp.sum(phi))
    llf = -0.5 * n * (math.log(2 * math.pi) + jnp.log(sigma2) + 1.0)
    return c, phi, sigma2, n, llf, scale


SINGULAR_RTOL = 1e-12   # innovation variance below this fraction of the series' variance: an exact fit


def _fit_short(xh, p: int):
    """Unweighted OLS for a (vmapped) short series: O(p) fused passes, no design matrix."""
    m = jnp.mean(xh[p:])
    z = xh - m
    G, b = _gram_shifted(z, p)
    beta = jnp.linalg.solve(G, b)
    N = z.shape[0] - p
    # at the least-squares solution RSS = y'y - beta'A'y (y'y = sum z_t^2 over the targets)
    yy = jnp.sum(z[p:] * z[p:])
    return _finish(beta, jnp.maximum(yy - beta @ b, 0.0), jnp.asarray(N, z.dtype), m, yy / N)


def _fit_kernel(xh, w, p: int):
    """Weighted OLS on (history+targets) ``xh`` with row weights ``w`` by a scan over row chunks."""
    m = jnp.sum(xh[p:] * w) / jnp.sum(w)          # shift by the targets' mean for conditioning
    z = xh - m

    def gram(acc, A, y, wi):
        Aw = A * wi[:, None]
        return acc[0] + Aw.T @ A, acc[1] + Aw.T @ y

    G, b = _scan_rows(z, w, p, gram, (jnp.zeros((p + 1, p + 1)), jnp.zeros((p + 1,))))
    beta = jnp.linalg.solve(G, b)

    def rss(acc, A, y, wi):
        r = y - A @ beta
        return acc + jnp.sum(wi * r * r)

    return _finish(beta, _scan_rows(z, w, p, rss, jnp.zeros(())), jnp.sum(w), m,
                   jnp.sum(w * z[p:] * z[p:]) / jnp.sum(w))


def _history_and_weights(x, p: int, pad: bool):
    if pad:
        return jnp.concatenate([jnp.zeros(x.shape[:-1] + (p,)), x], -1), jnp.ones(x.shape[-1])
    return x, jnp.ones(x.shape[-1] - p)


_fit_one = jax.jit(_fit_kernel, static_argnums=(2,))
_fit_short_one = jax.jit(_fit_short, static_argnums=(1,))
_fit_short_many = jax.jit(jax.vmap(_fit_short, in_axes=(0, None)), static_argnums=(1,))


def _to_fit(res, p: int) -> ARFit:
    """The fit, or a clear error where the regression has no unique, finite MLE."""
    *fields, scale = [np.asarray(r) for r in res]
    f = ARFit(*fields)
    bad = ~(np.isfinite(f.c) & np.all(np.isfinite(f.phi), axis=-1) & np.isfinite(f.sigma2)
            & (f.sigma2 > SINGULAR_RTOL * scale))
    if np.any(bad):
        where = f" (series {np.flatnonzero(bad).tolist()[:10]})" if np.ndim(bad) else ""
        raise errors.ValueRangeError(
            f"AR({p}) has no unique maximum-likelihood fit{where}: the series is constant or follows an "
            f"exact recursion of order <= {p} (innovation variance 0), so the regression is singular; "
            f"add noise, lower p, or difference the series")
    return f


# ------------------------------------------------------------------ public
def fit(x, p: int, *, pad: bool = False) -> ARFit:
    """Closed-form MLE of AR(p) with intercept for one series [T] or a batch [B, T].

    A batch is fitted in ONE compiled call (``vmap`` over series).
    """
    a = check_series(x, ndim=(1, 2))
    if a.shape[-1] == 0:
        raise errors.ShapeError(f"series is empty (shape {a.shape})")
    p = check_order(p, a.shape[-1])
    n_rows = a.shape[-1] - (0 if pad else p)
    if n_rows < p + 1:
        raise errors.ConfigError(f"AR({p}) with intercept needs at least {p + 1} regression rows; a series "
                                 f"of length {a.shape[-1]} gives {n_rows} (use a length >= {2 * p + 1})")
    with jax.enable_x64(True):
        xh, w = _history_and_weights(jnp.asarray(a), p, pad)
        if a.ndim == 1:
            res = _fit_short_one(xh, p) if w.shape[0] <= CHUNK else _fit_one(xh, w, p)
        elif w.shape[0] <= CHUNK:
            res = _fit_short_many(xh, p)
        else:  # a batch of long series: one at a time through the chunked kernel
            res = [np.stack(r) for r in zip(*[_fit_one(h, w, p) for h in xh])]
        return _to_fit(jax.block_until_ready(res), p)


def fit_pooled(series: list, p: int, *, pad: bool = False) -> ARFit:
    """One AR(p) shared by many series of any lengths (their regression rows pooled).

    The series are laid end to end with p separator slots, and rows whose
    target is a separator (or, without ``pad``, whose lags cross into one)
    get weight 0 - one compiled call, no per-series Python loop in the solve.
    """
    xh, w = _pooled_layout(series, p, pad)
    if w.sum() < p + 1:
        raise errors.ConfigError(f"AR({p}) with intercept needs at least {p + 1} regression rows, got {int(w.sum())}")
    with jax.enable_x64(True):
        res = jax.block_until_ready(_fit_one(jnp.asarray(xh), jnp.asarray(w), p))
    return _to_fit(res, p)


def _pooled_layout(series, p: int, pad: bool):
    """Series end to end with p zero separators -> (history+targets xh, target weights w)."""
    if not isinstance(series, (list, tuple)) or not series:
        raise errors.ShapeError("pooled AR needs a non-empty list of 1-D series")
    parts, wparts = [], []
    for i, s in enumerate(series):
        a = check_series(s, name=f"series[{i}]")
        check_order(p, a.shape[0])
        parts += [np.zeros(p), a]
        wparts += [np.zeros(p), np.r_[np.zeros(0 if pad else p), np.ones(a.shape[0] - (0 if pad else p))]]
    return np.concatenate(parts), np.concatenate(wparts)[p:]  # weights of the targets xh[p:]


def log_likelihood_pooled(params: ARFit, series: list, *, pad: bool = False) -> tuple[float, int]:
    """Total conditional log-likelihood (nats) of many series of any lengths, and the number of terms.

    One compiled call for all series (no recompilation per length).
    """
    p = check_order(params.order, 10 ** 12)
    xh, w = _pooled_layout(series, p, pad)
    with jax.enable_x64(True):
        c, phi, s2 = (jnp.asarray(v, jnp.float64) for v in (params.c, params.phi, params.sigma2))
        return float(_loglik_one(jnp.asarray(xh), jnp.asarray(w), p, c, phi, s2)), int(w.sum())


def fit_ar1_lecture(x) -> tuple[float, float, float]:
    """AR(1) with intercept by the textbook formula; returns (c, phi, sigma2).

        phi = sum_t (x_t - xbar_1)(x_{t-1} - xbar_0) / sum_t (x_{t-1} - xbar_0)^2
        c = xbar_1 - phi xbar_0,   sigma2 = mean_t (x_t - c - phi x_{t-1})^2

    with xbar_1 = mean(x_1..x_{T-1}) and xbar_0 = mean(x_0..x_{T-2}).
    """
    a = check_series(x)
    check_order(1, a.shape[0])
    y, z = a[1:], a[:-1]
    yb, zb = y.mean(), z.mean()
    if not np.sum((z - zb) ** 2) > 0:
        raise errors.ValueRangeError("AR(1) has no unique fit: the lagged series is constant")
    phi = float(np.sum((y - yb) * (z - zb)) / np.sum((z - zb) ** 2))
    c = float(yb - phi * zb)
    return c, phi, float(np.mean((y - c - phi * z) ** 2))


def _loglik_kernel(xh, w, p, c, phi, sigma2):
    def acc_fn(acc, A, y, wi):
        r = y - A[:, 1:] @ phi - c
        return acc + jnp.sum(wi * (-0.5 * r * r / sigma2 - 0.5 * jnp.log(2 * math.pi * sigma2)))
    return _scan_rows(xh, w, p, acc_fn, jnp.zeros(()))


_loglik_one = jax.jit(_loglik_kernel, static_argnums=(2,))
_loglik_many = jax.jit(jax.vmap(_loglik_kernel, in_axes=(0, None, None, 0, 0, 0)), static_argnums=(2,))


def log_likelihood(params: ARFit, x, *, pad: bool = False) -> np.ndarray:
    """Exact conditional Gaussian log-likelihood (nats) of series x under ``params``.

    Without ``pad`` it conditions on the first p values (T - p terms); with
    ``pad`` every value is scored, the first p conditioned on zeros.
    """
    a = check_series(x, ndim=(1, 2))
    p = check_order(params.order, a.shape[-1])
    with jax.enable_x64(True):
        xh, w = _history_and_weights(jnp.asarray(a), p, pad)
        c, phi, s2 = (jnp.asarray(v, jnp.float64) for v in (params.c, params.phi, params.sigma2))
        if a.ndim == 1:
            return np.asarray(_loglik_one(xh, w, p, c, phi, s2))
        B = a.shape[0]
        return np.asarray(_loglik_many(xh, w, p, jnp.broadcast_to(c, (B,)), jnp.broadcast_to(phi, (B, p)),
                                       jnp.broadcast_to(s2, (B,))))
