"""``gbm-cmi``: I(X;Y|Z) from a gradient-boosted classifier of joint rows against rows with X
taken from a nearest neighbour in Z (CCMI), read as a held-out DV bound.

Classifier-based CMI (Mukherjee, Asnani & Kannan 2019, "CCMI"): I(X;Y|Z) is the KL
divergence of p(x, y, z) from p(x|z) p(y|z) p(z). Rows from the second are made by a
nearest-neighbour shuffle: row i keeps its (y_i, z_i) and takes the X of a row nearest to it
in Z, itself excluded (within each stratum of the discrete Z columns, the X of a random
other row of the stratum; ``mitool.estimators.z_shuffle``, the local permutation
test's neighbourhoods). A ``HistGradientBoostingClassifier`` (``gbm``'s settings) tells
joint rows (label 1) from ``NEIGHBOURS`` such product rows each (label 0); by Bayes its
log-odds less the log class ratio are a critic T(x, y, z) ≈ log p(x,y|z) / p(x|z)p(y|z).
The Gaussian-copula CMI critic, log N(x | y, z) − log N(x | z) of linear fits on the normal
scores, is both an input and a second critic, blended with the classifier's by weights ≥ 0
chosen on a calibration slice (as ``gbm``).

Cross-fitted as ``gbm``: ``FOLDS`` folds, each read by the classifier fitted (and
early-stopped and blended) on the others, on its own rows only:

    I ≥ mean_i T(x_i, y_i, z_i) − log mean_{i, j} exp T(x_{nn_j(i)}, y_i, z_i),

the product rows built within the fold from its ``READ_NEIGHBOURS`` nearest rows in Z.

**Only approximately a bound.** The DV inequality holds for any T against exact samples of
p(x|z)p(y|z)p(z); the neighbour's X is a sample of p(x|z') for a z' near z, not of p(x|z).
The gap shrinks with the neighbour distance (more rows, fewer continuous Z columns) and is
largest where X moves fast with Z; a classifier can then tell product rows by the X–Z
mismatch alone, and the readout can land above the truth (benchmarks/cmi.py measures it on
chains and forks). The folds' readouts are averaged (weighted by rows), clipped at 0
(``mi_raw`` keeps the raw one); ``mitool.estimate`` caps it at the entropy of a discrete X
or Y, as every estimate.

Test (``TEST_CRITIC``): each fold's trained critic read on its own rows with X redrawn
within Z-neighbourhoods (the local permutation, no refitting), against the same readout on
the true rows; the folds' p-values combined by Bonferroni (``mitool.inference``).
"""

from __future__ import annotations

import math
import time

import numpy as np

from mitool.estimators.base import EstimatorResult, PreparedData, RunOptions
from mitool.estimators.gbm_critic import (
    ALPHAS,
    BETAS,
    CALIBRATION,
    GBM_PARAMS,
    MIN_ROWS,
    PERMUTATION_ROWS,
    PRODUCTS_MAX,
    THREADS,
    _dv_of,
    ceiling_warning,
    fold_readouts,
)

NAME = "gbm-cmi"
FOLDS = 3
NEIGHBOURS = 3  # product rows per joint row in training: X of the 1st..3rd nearest in Z
READ_NEIGHBOURS = 4  # product rows per held-out row in the DV readout
PERMUTATION_NEIGHBOURS = 2  # per permutation draw (the observed statistic read the same way)
RIDGE = 1e-6  # relative ridge of the Gaussian critic's least squares


def _inputs(data: PreparedData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from mitool.estimators.gcmi import gaussian_scores

    return (gaussian_scores(data.x, data.x_discrete), gaussian_scores(data.y, data.y_discrete),
            gaussian_scores(data.z, data.z_discrete))


def neighbour_sources(z: np.ndarray, z_discrete: np.ndarray, k: int, seed: int) -> np.ndarray:
    """(k, n) row indices: for each row, k other rows near it in Z, nearest first (within
    its stratum of the discrete Z columns; random other rows of the stratum where there is
    no continuous Z column). A row alone in its stratum is its own source (that product row
    is a joint row, and adds nothing)."""
    from mitool.estimators.z_shuffle import z_neighbourhoods

    n = z.shape[0]
    rng = np.random.default_rng([seed, 8209])
    hoods = z_neighbourhoods(z, z_discrete, k + 1)
    out = np.empty((k, n), dtype=np.int64)
    for i, near in enumerate(hoods):
        others = near[near != i]
        if others.size == 0:
            out[:, i] = i
        elif others.size > k + 1:  # a whole stratum: random others
            out[:, i] = rng.choice(others, k, replace=others.size < k)
        else:
            out[:, i] = np.resize(others, k)
    return out


class _GaussCritic:
    """log N(a | b, c) − log N(a | c): the Gaussian CMI critic of linear fits of the encoded
    a on (b, c) and on c alone (training rows)."""

    def __init__(self, a: np.ndarray, b: np.ndarray, c: np.ndarray):
        self.full = self._fit(a, np.hstack([b, c]))
        self.part = self._fit(a, c)

    @staticmethod
    def _fit(a, u):
        n = a.shape[0]
        u1 = np.hstack([u, np.ones((n, 1))])
        gram = u1.T @ u1
        gram += RIDGE * np.trace(gram) / gram.shape[0] * np.eye(gram.shape[0])
        coef = np.linalg.solve(gram, u1.T @ a)
        res = a - u1 @ coef
        cov = res.T @ res / n + 1e-6 * np.eye(a.shape[1])
        chol = np.linalg.cholesky(cov)
        return coef, chol, float(np.log(np.diag(chol)).sum())

    @staticmethod
    def _logpdf(a, u, fit):
        coef, chol, logdet = fit
        u1 = np.hstack([u, np.ones((u.shape[0], 1))])
        sol = np.linalg.solve(chol, (a - u1 @ coef).T)
        return -0.5 * (sol**2).sum(0) - logdet

    def __call__(self, a, b, c):
        return self._logpdf(a, np.hstack([b, c]), self.full) - self._logpdf(a, c, self.part)


class _Critic:
    """T = w0 · (classifier's log-odds − log class ratio) + w1 · the Gaussian critic."""

    def __init__(self, gauss: _GaussCritic, products: bool, log_prior: float):
        self.gauss, self.products, self.log_prior = gauss, products, log_prior
        self.model = None
        self.weights = np.array([1.0, 0.0])

    def features(self, a, b, c) -> tuple[np.ndarray, np.ndarray]:
        t = self.gauss(a, b, c)
        cols = [a, b, c, t[:, None]]
        if self.products:
            cols.append((a[:, :, None] * b[:, None, :]).reshape(a.shape[0], -1))
        return np.hstack(cols).astype(np.float32), t

    def parts(self, a, b, c) -> np.ndarray:
        """(2, n): the classifier's T and the Gaussian critic's."""
        x, t = self.features(a, b, c)
        return np.stack([self.model.decision_function(x) - self.log_prior, t])

    def read(self, a, b, c, src) -> tuple[np.ndarray, np.ndarray]:
        """Parts on the joint rows (2, n) and on the product rows (2, S, n), src (S, n)."""
        s, n = src.shape
        joint = self.parts(a, b, c)
        marg = self.parts(a[src.ravel()], np.tile(b, (s, 1)), np.tile(c, (s, 1)))
        return joint, marg.reshape(2, s, n)

    def dv(self, a, b, c, src) -> tuple[float, float]:
        joint, marg = self.read(a, b, c, src)
        return _dv_of(self.weights @ joint, np.tensordot(self.weights, marg, 1))


def _training_rows(a, b, c, critic: _Critic, src: np.ndarray):
    k = src.shape[0]
    xa = np.concatenate([a, a[src.ravel()]])
    x, _ = critic.features(xa, np.tile(b, (k + 1, 1)), np.tile(c, (k + 1, 1)))
    return x, np.concatenate([np.ones(a.shape[0]), np.zeros(a.shape[0] * k)])


def _fit(critic: _Critic, a, b, c, zr, zd, cal, seed: int, params: dict) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    fit, val = cal
    x, label = _training_rows(a[fit], b[fit], c[fit], critic,
                              neighbour_sources(zr[fit], zd, NEIGHBOURS, seed))
    xv, lv = _training_rows(a[val], b[val], c[val], critic,
                            neighbour_sources(zr[val], zd, NEIGHBOURS, seed + 1))
    model = HistGradientBoostingClassifier(random_state=int(seed % (2**31)), **params)
    model.set_params(early_stopping=True)
    critic.model = model.fit(x, label, X_val=xv, y_val=lv)
    # the blend: weights >= 0 maximising the DV readout on the calibration rows (never the
    # held-out ones, so the readout keeps what validity the kNN product gives it)
    joint, marg = critic.read(a[val], b[val], c[val],
                              neighbour_sources(zr[val], zd, READ_NEIGHBOURS, seed + 2))
    best = -np.inf
    for al in ALPHAS:
        for be in BETAS:
            w = np.array([al, be])
            v = _dv_of(w @ joint, np.tensordot(w, marg, 1))[0]
            if v > best:
                best, critic.weights = v, w


def estimate(data: PreparedData, seed: int = 0, permutations: int = 0,
             params: dict | None = None, folds: int = FOLDS) -> EstimatorResult:
    """The cross-fitted held-out DV readout (nats) of the boosted classifier's CMI critic."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=THREADS):  # small trees: one thread waits least (gbm)
        return _estimate(data, seed, permutations, {**GBM_PARAMS, **(params or {})}, folds)


def _estimate(data, seed, permutations, params, folds):
    t0 = time.perf_counter()
    n = data.n
    if n < MIN_ROWS:
        return EstimatorResult(NAME, None, 0.0, applicable=False,
                               reason=f"needs at least {MIN_ROWS} rows")
    a, b, c = _inputs(data)
    if a.shape[1] == 0 or b.shape[1] == 0:
        return EstimatorResult(NAME, 0.0, time.perf_counter() - t0,
                               notes=["a side takes one value: CMI is 0"],
                               details={"mi_raw": 0.0})
    zr, zd = data.z, data.z_discrete
    products = a.shape[1] * b.shape[1] <= PRODUCTS_MAX
    order = np.random.default_rng([seed, 4051]).permutation(n)
    parts = np.array_split(order, folds)
    reads, ses, sizes, iters, blends, perm_obs, perm_null = [], [], [], [], [], [], []
    for f, held in enumerate(parts):
        rest = np.concatenate([parts[g] for g in range(folds) if g != f])
        k = int(round(CALIBRATION * rest.size))
        cal, fit = rest[:k], rest[k:]
        critic = _Critic(_GaussCritic(a[fit], b[fit], c[fit]), products, -math.log(NEIGHBOURS))
        _fit(critic, a, b, c, zr, zd, (fit, cal), seed + 1009 * f, params)
        iters.append(int(critic.model.n_iter_))
        blends.append([float(v) for v in critic.weights])
        ha, hb, hc = a[held], b[held], c[held]
        mi_f, se_f = critic.dv(ha, hb, hc, neighbour_sources(zr[held], zd, READ_NEIGHBOURS,
                                                              seed + 1009 * f + 3))
        reads.append(mi_f)
        ses.append(se_f)
        sizes.append(held.size)
        if permutations:
            perm_obs_f, null_f = _fold_permutations(critic, a, b, c, zr, zd, held, permutations,
                                                    seed, f)
            perm_obs.append(perm_obs_f)
            perm_null.append(null_f)
    mi_raw, folded = fold_readouts(reads, ses, sizes, perm_obs, perm_null)
    details = {
        "method": "gradient-boosted classifier of joint rows against rows with X taken from "
                  "a nearest neighbour in Z (CCMI); its log-odds read as a Donsker-Varadhan "
                  "bound on rows it never saw (cross-fitted); approximately a bound (the "
                  "product rows are a k-NN approximation of p(x|z)p(y|z)p(z))",
        **folded,
        "neighbours": NEIGHBOURS, "readout_neighbours": READ_NEIGHBOURS,
        "boosting_iterations": iters, "blend": blends,
    }
    if permutations:
        details["permutation_scheme"] = (
            "each fold's trained classifier read on its own rows with X redrawn within "
            "Z-neighbourhoods (local permutation, no refitting); the smallest of the folds' "
            "p-values times the number of folds (Bonferroni)")
    notes = [f"a boosted classifier of joint against k-NN-in-Z product rows (CCMI), read as a "
             f"DV bound on held-out rows ({folds} folds); approximately a lower bound: the "
             "product rows take X from a near, not an equal, Z"]
    warnings = ceiling_warning(mi_raw, sizes, "CMI")
    return EstimatorResult(NAME, max(0.0, mi_raw), time.perf_counter() - t0, notes=notes,
                           warnings=warnings, details=details)


def _fold_permutations(critic, a, b, c, zr, zd, held, permutations, seed, f):
    """The fold's readout on its rows, and on ``permutations`` local permutations of X."""
    from mitool.estimators.z_shuffle import K_PERM, local_permutation, z_neighbourhoods

    rng = np.random.default_rng([seed, 23, f])
    rows = held if held.size <= PERMUTATION_ROWS else np.sort(
        rng.choice(held, PERMUTATION_ROWS, replace=False))
    ra, rb, rc = a[rows], b[rows], c[rows]
    src = neighbour_sources(zr[rows], zd, PERMUTATION_NEIGHBOURS, seed + 29 * f)
    hoods = z_neighbourhoods(zr[rows], zd, K_PERM)
    observed = critic.dv(ra, rb, rc, src)[0]
    null = [critic.dv(ra[local_permutation(hoods, rng)], rb, rc, src)[0]
            for _ in range(permutations)]
    return observed, null


def run(name: str, data: PreparedData, opts: RunOptions) -> EstimatorResult:
    """The registry's runner."""
    return estimate(data, seed=opts.seed, permutations=opts.permutations)
