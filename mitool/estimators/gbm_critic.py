"""``gbm``: a gradient-boosted classifier as the critic, read as a held-out DV lower bound.

Classifier-based MI (Mukherjee, Asnani & Kannan 2019): a classifier that tells joint pairs
(x_i, y_i) from shuffled pairs (x_i, y_π(i)) estimates the density ratio: by Bayes its
log-odds are log p(x,y)/p(x)p(y) + log(n_pos/n_neg), so the log-odds less the log class
ratio are a critic T(x, y). The classifier is scikit-learn's
``HistGradientBoostingClassifier``.

The rows are cut into ``FOLDS`` seeded folds (cross-fitting). For each fold, the other rows
are split once more: most of them fit the classifier (every joint pair, label 1, and
``NEGATIVES`` shuffles of them, label 0), and a calibration slice (``CALIBRATION``) drives
its early stopping and weighs three critics, all fitted without the fold: the classifier's
T, the Gaussian-copula critic's log ratio (``gcmi-bound``'s) and the log ratio of a Gaussian
mixture fitted to the joint rows (modes chosen by BIC, up to ``GMM_MAX_DIMS`` joint
columns); the weights (≥ 0, on a grid) are those that maximise the DV readout on the
calibration slice. Then the fold's rows, never seen by any fit or choice, give

    I ≥ mean_i T(x_i, y_i) − log mean_{i, s} exp T(x_i, y_{i+s})

with the product term over ``READ_SHIFTS`` cyclic shifts of the fold's rows. The DV bound
holds for any T, so each fold's readout is below the truth in expectation whatever the
data; the folds' readouts are averaged (weighted by their rows), and the reported value is
clipped at 0 (``mi_raw`` keeps the raw one). On independent columns the weights usually
come out 0 and the bound is exactly 0.

The classifier's inputs are continuous columns as normal scores of their ranks and discrete
ones as level indicators (as ``gcmi``; MI unchanged), plus cheap pair features that trees
find hard to build from axis-aligned splits: the two fitted critics' log ratios, each
side's log mean square (a shared scale) and their difference, and the products x_j·y_k
while there are at most ``PRODUCTS_MAX`` of them. What each of these buys is measured in
docs/benchmarks.md ("Hard suite (issue 24)").

Permutation test (``TEST_CRITIC``): each fold's trained critic is read on its own rows with
Y shuffled (no refitting), against the same readout on the true pairing; the folds'
p-values are combined by Bonferroni (``mitool.inference``).
"""

from __future__ import annotations

import math
import time

import numpy as np

from mitool.estimators.base import EstimatorResult, PreparedData, RunOptions

NAME = "gbm"
FOLDS = 3  # cross-fitting: each fold read by the classifier fitted on the others
NEGATIVES = 3  # shuffled pairs per joint pair in the training set
READ_SHIFTS = 16  # cyclic shifts of a fold's rows for the DV product term
PERMUTATION_SHIFTS = 4  # per permutation draw (the observed statistic is read the same way)
PERMUTATION_ROWS = 2000  # per fold: the permutation test reads at most this many rows
PRODUCTS_MAX = 64  # x_j * y_k features while dx * dy is at most this
MIN_ROWS = 100  # 3 folds of 33+ held-out rows; on wine (178 rows) it reads as smile does
THREADS = 1  # OpenMP and BLAS threads (see ``estimate``)
GBM_PARAMS = dict(
    max_iter=300, learning_rate=0.1, max_leaf_nodes=31, min_samples_leaf=40,
    l2_regularization=1.0, early_stopping=True, validation_fraction=0.15,
    n_iter_no_change=20,
)
OPTIONS = dict(gauss=True, radius=True, products=True, blend=True, gmm=True,
               tcopula=True)  # benchmarked
GMM_MODES = (1, 2, 3, 4, 6, 8)  # with gmm: mixtures tried on the joint rows, best BIC kept
GMM_COVARIANCES = ("full", "diag")  # each mode's covariance: diagonal ones fit wide sides
GMM_PATIENCE = 2  # stop adding modes after this many mode counts that lower no BIC
GMM_MAX_DIMS = 32  # joint columns up to which the mixture is fitted (its cost grows as d^2)
GMM_ROWS = 3000  # the mixture is fitted on at most this many training rows
CALIBRATION = 0.2  # with blend: share of the fitting rows kept to weigh the critics
ALPHAS = np.linspace(0.0, 2.0, 9)  # weights of the classifier's critic tried by the blend
BETAS = np.linspace(0.0, 1.5, 7)  # and of the Gaussian-copula and the mixture critics
TCOPULA_DOF = (1.0, 2.0, 3.0, 5.0, 8.0, 15.0, 30.0)  # with tcopula: the ν tried
TCOPULA_MAX_DIMS = 32  # joint columns up to which the t copula is fitted
TCOPULA_TAU_ROWS = 1500  # rows for its Kendall's taus (each pair O(n log n))
BUDGET_CHUNK = 20  # under --budget: boosting rounds between looks at the clock


def _inputs(data: PreparedData) -> tuple[np.ndarray, np.ndarray]:
    from mitool.estimators.gcmi import gaussian_scores

    return gaussian_scores(data.x, data.x_discrete), gaussian_scores(data.y, data.y_discrete)


class _Featurizer:
    """Pair features of (a_i, b_i) rows: fitted (the Gaussian critic) on training rows."""

    def __init__(self, a: np.ndarray, b: np.ndarray, options: dict, seed: int = 0):
        from mitool.estimators.gauss_bound import _critic

        self.options = options
        self.p, self.q = a.shape[1], b.shape[1]
        self.gauss = _critic(a, b) if options.get("gauss") and self.p and self.q else None
        # where a Student-t copula fits the training rows better, its log ratio takes the
        # Gaussian one's place (the same column, so the same blend): shared-scale dependence
        self.t = (_TCopulaRatio.fit(a, b, seed) if self.gauss is not None
                  and options.get("tcopula") and self.p + self.q <= TCOPULA_MAX_DIMS
                  else None)
        self.products = bool(options.get("products")) and self.p * self.q <= PRODUCTS_MAX
        self.gmm = (_GmmRatio(a, b, seed) if options.get("gmm")
                    and self.p + self.q <= GMM_MAX_DIMS else None)
        self.critic_cols: list[int] = []  # columns that are critics themselves (blend)

    def side(self, v: np.ndarray) -> np.ndarray:
        """Features of one side alone, (n, d) -> (n, d [+1])."""
        if not self.options.get("radius"):
            return v
        return np.hstack([v, np.log(np.mean(v * v, axis=1, keepdims=True) + 1e-12)])

    def pairs(self, fa: np.ndarray, fb: np.ndarray) -> np.ndarray:
        """(n, ·) side features of paired rows -> (n, width) classifier input."""
        a, b = fa[:, :self.p], fb[:, :self.q]
        cols = [fa, fb]
        if self.options.get("radius"):
            cols.append(fa[:, -1:] - fb[:, -1:])
        if self.t is not None:
            self.gauss_col = sum(c.shape[1] for c in cols)
            cols.append(self.t(a, b)[:, None])
        elif self.gauss is not None:
            mean_a, mean_b, qa, qb, pab, const = self.gauss
            ca, cb = a - mean_a, b - mean_b
            t = (const - 0.5 * np.einsum("ij,jk,ik->i", ca, qa, ca)
                 - 0.5 * np.einsum("ij,jk,ik->i", cb, qb, cb)
                 - np.einsum("ij,ij->i", ca @ pab, cb))
            self.gauss_col = sum(c.shape[1] for c in cols)
            cols.append(t[:, None])
        if self.gmm is not None:
            self.gmm_col = sum(c.shape[1] for c in cols)
            cols.append(self.gmm(a, b)[:, None])
        if self.products:
            cols.append((a[:, :, None] * b[:, None, :]).reshape(a.shape[0], -1))
        return np.hstack(cols).astype(np.float32)


def _t_logpdf(q: np.ndarray, shape: np.ndarray, nu: float) -> np.ndarray:
    """log density of a multivariate Student-t (location 0, ``shape`` matrix) at rows q."""
    from scipy.special import gammaln

    d = q.shape[1]
    chol = np.linalg.cholesky(shape)
    sol = np.linalg.solve(chol, q.T)  # (d, n)
    return (gammaln((nu + d) / 2) - gammaln(nu / 2) - 0.5 * d * math.log(nu * math.pi)
            - np.log(np.diag(chol)).sum() - 0.5 * (nu + d) * np.log1p((sol**2).sum(0) / nu))


class _TCopulaRatio:
    """log c(a,b) - log c(a) - log c(b) of a Student-t copula (the normal scores mapped to
    t quantiles, a correlation matrix, degrees of freedom ν from ``TCOPULA_DOF`` by
    likelihood on the training rows): the copula of a shared random scale, whose dependence
    lives in the sides' radii, where the Gaussian copula sees none and boosted trees on
    per-column scores learn it slowly (bmi's Student-t tasks). Fitted only where it beats
    the Gaussian copula's likelihood by more than BIC's price of ν."""

    def __init__(self, nu: float, shape: np.ndarray, p: int):
        self.nu, self.shape, self.p = nu, shape, p

    @classmethod
    def fit(cls, a: np.ndarray, b: np.ndarray, seed: int) -> _TCopulaRatio | None:
        from scipy.special import ndtr, stdtrit

        z = np.hstack([a, b])
        if z.shape[0] > GMM_ROWS:
            z = z[np.random.default_rng([seed, 67]).choice(z.shape[0], GMM_ROWS, replace=False)]
        n, d = z.shape
        ridge = 1e-6 * np.eye(d)

        from scipy.stats import norm, t

        gauss = np.corrcoef(z, rowvar=False) + ridge
        best = (-np.inf, None, None)
        u = np.clip(ndtr(z), 1e-12, 1 - 1e-12)
        shape = _kendall_shape(z[:TCOPULA_TAU_ROWS])
        for nu in TCOPULA_DOF:
            q = stdtrit(nu, u)
            ll = float(np.sum(_t_logpdf(q, shape, nu)) - np.sum(t.logpdf(q, nu)))
            if ll > best[0]:
                best = (ll, nu, shape)
        gauss_ll = float(np.sum(_normal_logpdf(z, gauss)) - np.sum(norm.logpdf(z)))
        if best[1] is None or best[0] - gauss_ll <= 0.5 * math.log(n):
            return None
        return cls(best[1], best[2], a.shape[1])

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        from scipy.special import ndtr, stdtrit

        p, nu, sh = self.p, self.nu, self.shape
        qa = stdtrit(nu, np.clip(ndtr(a), 1e-12, 1 - 1e-12))
        qb = stdtrit(nu, np.clip(ndtr(b), 1e-12, 1 - 1e-12))
        return (_t_logpdf(np.hstack([qa, qb]), sh, nu) - _t_logpdf(qa, sh[:p, :p], nu)
                - _t_logpdf(qb, sh[p:, p:], nu))


def _kendall_shape(z: np.ndarray) -> np.ndarray:
    """An elliptical copula's correlation matrix from Kendall's tau, sin(π τ / 2): exact for
    every elliptical copula and, unlike the correlation of t quantiles with one or two
    degrees of freedom, not ruled by a few huge values; made positive definite."""
    from scipy.stats import kendalltau

    d = z.shape[1]
    shape = np.eye(d)
    for i in range(d):
        for j in range(i + 1, d):
            tau = kendalltau(z[:, i], z[:, j])[0]
            shape[i, j] = shape[j, i] = math.sin(math.pi * (0.0 if np.isnan(tau) else tau) / 2)
    vals, vecs = np.linalg.eigh(shape)
    shape = (vecs * np.maximum(vals, 1e-3)) @ vecs.T
    scale = np.sqrt(np.diag(shape))
    return shape / np.outer(scale, scale)


def _normal_logpdf(z: np.ndarray, cov: np.ndarray) -> np.ndarray:
    chol = np.linalg.cholesky(cov)
    sol = np.linalg.solve(chol, z.T)
    return (-0.5 * (sol**2).sum(0) - np.log(np.diag(chol)).sum()
            - 0.5 * z.shape[1] * math.log(2 * math.pi))


class _GmmRatio:
    """log p(a,b) - log p(a) - log p(b) of a Gaussian mixture fitted to the joint training
    rows (the number of modes chosen by BIC); each side's density is the mixture's marginal."""

    def __init__(self, a: np.ndarray, b: np.ndarray, seed: int):
        from sklearn.mixture import GaussianMixture

        z = np.hstack([a, b])
        if z.shape[0] > GMM_ROWS:
            z = z[np.random.default_rng([seed, 61]).choice(z.shape[0], GMM_ROWS, replace=False)]
        best = None
        modes = [k for k in GMM_MODES if z.shape[0] >= 5 * k * (z.shape[1] + 1)] or [1]
        stale = 0  # successive mode counts whose every fit came out worse than the best
        for k in modes:
            improved = False
            for kind in GMM_COVARIANCES:
                g = GaussianMixture(k, covariance_type=kind, reg_covar=1e-3, max_iter=100,
                                    random_state=int(seed % (2**31))).fit(z)
                bic = g.bic(z)
                if best is None or bic < best[0]:
                    best, improved = (bic, g), True
            stale = 0 if improved else stale + 1
            if stale >= GMM_PATIENCE:  # the larger mixtures cost the most and add nothing
                break
        g = best[1]
        self.k = g.n_components
        self.p = a.shape[1]
        self.logw = np.log(g.weights_)
        covs = g.covariances_
        self.means = g.means_
        self.covs = covs if covs.ndim == 3 else np.stack([np.diag(c) for c in covs])

    @staticmethod
    def _logpdf(v, means, covs, logw):
        out = []
        for m, c, lw in zip(means, covs, logw, strict=True):
            chol = np.linalg.cholesky(c)
            sol = np.linalg.solve(chol, (v - m).T)  # (d, n)
            out.append(lw - 0.5 * (sol**2).sum(0) - np.log(np.diag(chol)).sum()
                       - 0.5 * v.shape[1] * math.log(2 * math.pi))
        arr = np.stack(out)  # (K, n)
        top = arr.max(0)
        return top + np.log(np.exp(arr - top).sum(0))

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        p = self.p
        joint = self._logpdf(np.hstack([a, b]), self.means, self.covs, self.logw)
        pa = self._logpdf(a, self.means[:, :p], self.covs[:, :p, :p], self.logw)
        pb = self._logpdf(b, self.means[:, p:], self.covs[:, p:, p:], self.logw)
        return joint - pa - pb


def _shifted(n: int, shifts: int) -> np.ndarray:
    """``shifts`` distinct cyclic shifts in 1..n-1, evenly spread."""
    return np.unique(np.linspace(1, n - 1, min(shifts, n - 1)).round().astype(int))


class _Critic:
    """T(x, y) = w0 * (the classifier's log-odds - log class ratio) + w1 * the
    Gaussian-copula critic's log ratio + w2 * the mixture's; w = (1, 0, 0) unless chosen on
    calibration rows (``_blend``)."""

    def __init__(self, model, feat: _Featurizer, log_prior: float):
        self.model, self.feat, self.log_prior = model, feat, log_prior
        self.weights = np.array([1.0, 0.0, 0.0])

    def parts(self, fa: np.ndarray, fb: np.ndarray) -> np.ndarray:
        """(3, n): the classifier's T, the Gaussian one's, the mixture's (0 where absent)."""
        x = self.feat.pairs(fa, fb)
        out = np.zeros((3, x.shape[0]))
        out[0] = self.model.decision_function(x) - self.log_prior
        if self.feat.gauss is not None:
            out[1] = x[:, self.feat.gauss_col]
        if self.feat.gmm is not None:
            out[2] = x[:, self.feat.gmm_col]
        return out

    def __call__(self, fa: np.ndarray, fb: np.ndarray) -> np.ndarray:
        return self.weights @ self.parts(fa, fb)


def _pairs_read(critic, fa: np.ndarray, fb: np.ndarray, shifts: np.ndarray):
    """T on the joint pairs (n,) and on the shifted pairs (S, n): y row i+s with x row i."""
    n = fa.shape[0]
    idx = (np.arange(n)[None, :] + shifts[:, None]) % n  # (S, n)
    joint = critic(fa, fb)
    marg = critic(np.tile(fa, (shifts.size, 1)), fb[idx.ravel()]).reshape(shifts.size, n)
    return joint, marg


def _dv_of(joint: np.ndarray, marg: np.ndarray) -> tuple[float, float]:
    """DV bound mean T(joint) - log mean exp T(marginal), and its delta-method standard
    error over rows (marg: (S, n), column i the pairs of x row i)."""
    n = joint.size
    top = float(marg.max())
    e = np.exp(marg - top).mean(0)  # (n,)
    bound = float(joint.mean()) - (top + math.log(float(e.mean())))
    z = e / e.mean()
    var = np.var(joint) + np.var(z) - 2 * np.cov(joint, z)[0, 1] if n > 1 else 0.0
    return bound, float(np.sqrt(max(0.0, var) / max(1, n)))


def _dv(critic, fa, fb, shifts) -> tuple[float, float]:
    return _dv_of(*_pairs_read(critic, fa, fb, shifts))


def _blend(critic: _Critic, fa: np.ndarray, fb: np.ndarray) -> None:
    """Choose (alpha, beta) >= 0 maximising the DV readout on calibration rows (the DV
    objective is concave in them); any choice made without the held-out rows keeps the
    bound valid."""
    shifts = _shifted(fa.shape[0], 32)
    n = fa.shape[0]
    idx = (np.arange(n)[None, :] + shifts[:, None]) % n
    joint = critic.parts(fa, fb)  # (3, n)
    marg = critic.parts(np.tile(fa, (shifts.size, 1)), fb[idx.ravel()]).reshape(3, -1, n)
    best, choice = -np.inf, np.array([1.0, 0.0, 0.0])
    for al in ALPHAS:
        for be in BETAS if critic.feat.gauss is not None else (0.0,):
            for ga in BETAS if critic.feat.gmm is not None else (0.0,):
                w = np.array([al, be, ga])
                v = _dv_of(w @ joint, np.tensordot(w, marg, 1))[0]
                if v > best:
                    best, choice = v, w
    critic.weights = choice


def _training_pairs(fa, fb, feat, rng, negatives):
    n = fa.shape[0]
    neg_b = np.concatenate([rng.permutation(n) for _ in range(negatives)])
    xa = np.concatenate([fa, np.tile(fa, (negatives, 1))])
    xb = np.concatenate([fb, fb[neg_b]])
    return feat.pairs(xa, xb), np.concatenate([np.ones(n), np.zeros(n * negatives)])


def _fit(fa, fb, feat: _Featurizer, seed: int, params: dict, negatives: int,
         val: tuple[np.ndarray, np.ndarray] | None = None, deadline: float | None = None):
    """The fitted classifier, and whether the time budget stopped its boosting early."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng([seed, 31])
    X, label = _training_pairs(fa, fb, feat, rng, negatives)
    model = HistGradientBoostingClassifier(random_state=int(seed % (2**31)), **params)
    fit_args = {}
    if val is not None:  # early stopping on pairs of the calibration rows (none trained on)
        xv, lv = _training_pairs(val[0], val[1], feat, rng, negatives)
        model.set_params(early_stopping=True)
        fit_args = dict(X_val=xv, y_val=lv)
    if deadline is None:
        model.fit(X, label, **fit_args)
        return model, False
    # under a time budget: boost in chunks (warm start), stopping at the fold's deadline;
    # any number of rounds gives a critic, and the DV readout stays a bound
    cap = int(params["max_iter"])
    model.set_params(warm_start=True, max_iter=min(cap, BUDGET_CHUNK))
    while True:
        model.fit(X, label, **fit_args)
        if model.n_iter_ < model.max_iter or model.max_iter >= cap:
            return model, False  # stopped early by its validation loss, or at the cap
        if time.perf_counter() >= deadline:
            return model, True
        model.set_params(max_iter=min(cap, model.max_iter + BUDGET_CHUNK))


def estimate(data: PreparedData, seed: int = 0, permutations: int = 0,
             params: dict | None = None, options: dict | None = None,
             negatives: int = NEGATIVES, folds: int = FOLDS,
             read_shifts: int = READ_SHIFTS, deadline: float | None = None) -> EstimatorResult:
    """The cross-fitted held-out DV bound (nats) of the boosted classifier's critic; with
    ``deadline`` (a ``time.perf_counter()`` value, from ``--budget``) each fold's boosting
    stops at its share of the time left."""
    from threadpoolctl import threadpool_limits

    # one thread (OpenMP and BLAS): the trees are small, and on a busy machine more threads
    # wait on each other (a 10-column mixture: 3 s with one thread, 10 s with two on a
    # loaded 2-core box)
    with threadpool_limits(limits=THREADS):
        return _estimate(data, seed, permutations, params, options, negatives, folds,
                         read_shifts, deadline)


def _fold_deadline(deadline: float | None, folds_left: int) -> float | None:
    """This fold's share of the time left, less what reading the critic out takes."""
    if deadline is None:
        return None
    now = time.perf_counter()
    return now + max(0.0, deadline - now) * (1 - READOUT_RESERVE) / folds_left


READOUT_RESERVE = 0.2  # share of a budget kept for the features, the blend and the readout


def _estimate(data, seed, permutations, params, options, negatives, folds, read_shifts,
              deadline=None):
    t0 = time.perf_counter()
    params = {**GBM_PARAMS, **(params or {})}
    options = {**OPTIONS, **(options or {})}
    a, b = _inputs(data)
    n = data.n
    if n < MIN_ROWS:
        return EstimatorResult(NAME, None, 0.0, applicable=False,
                               reason=f"needs at least {MIN_ROWS} rows")
    if a.shape[1] == 0 or b.shape[1] == 0:  # a discrete side with one level
        return EstimatorResult(NAME, 0.0, time.perf_counter() - t0,
                               notes=["a side takes one value: MI is 0"],
                               details={"mi_raw": 0.0})
    # the training set's class ratio n_pos / n_neg: Bayes puts log of it into the log-odds,
    # so T = logit - log(n_pos / n_neg) estimates log p(x,y) / p(x)p(y)
    log_prior = -math.log(negatives)
    order = np.random.default_rng([seed, 4051]).permutation(n)
    parts = np.array_split(order, folds)
    reads, ses, sizes, iters, blends, out_of_time = [], [], [], [], [], []
    perm_obs, perm_null = [], []
    clock = {"features": 0.0, "boosting": 0.0, "readout": 0.0}  # seconds, all folds
    read_pairs = 0
    for f, held in enumerate(parts):
        fit = np.concatenate([parts[g] for g in range(folds) if g != f])
        cal = None
        if options.get("blend"):
            k = int(round(CALIBRATION * fit.size))
            cal, fit = fit[:k], fit[k:]
        t_f = time.perf_counter()
        feat = _Featurizer(a[fit], b[fit], options, seed + 1009 * f)
        fa, fb = feat.side(a), feat.side(b)
        val = None if cal is None else (fa[cal], fb[cal])
        t_b = time.perf_counter()
        model, late = _fit(fa[fit], fb[fit], feat, seed + 1009 * f, params, negatives, val,
                           _fold_deadline(deadline, folds - f))
        t_r = time.perf_counter()
        clock["features"] += t_b - t_f
        clock["boosting"] += t_r - t_b
        out_of_time.append(late)
        iters.append(int(model.n_iter_))
        critic = _Critic(model, feat, log_prior)
        if cal is not None:
            _blend(critic, fa[cal], fb[cal])
            blends.append([float(v) for v in critic.weights])
        shifts = _shifted(held.size, read_shifts)
        mi_f, se_f = _dv(critic, fa[held], fb[held], shifts)
        read_pairs += held.size * (len(shifts) + 1)
        clock["readout"] += time.perf_counter() - t_r
        reads.append(mi_f)
        ses.append(se_f)
        sizes.append(held.size)
        if permutations:
            rng = np.random.default_rng([seed, 23, f])
            rows = held if held.size <= PERMUTATION_ROWS else np.sort(
                rng.choice(held, PERMUTATION_ROWS, replace=False))
            ra, rb = fa[rows], fb[rows]
            sh = _shifted(rows.size, PERMUTATION_SHIFTS)
            perm_obs.append(_dv(critic, ra, rb, sh)[0])
            perm_null.append([_dv(critic, ra, rb[rng.permutation(rows.size)], sh)[0]
                              for _ in range(permutations)])
    mi_raw, folded = fold_readouts(reads, ses, sizes, perm_obs, perm_null)
    details = {
        "method": "gradient-boosted classifier of joint against shuffled pairs; its log-odds "
                  "(less the log class ratio) read as a Donsker-Varadhan bound on rows it "
                  "never saw (cross-fitted)",
        **folded,
        "negatives": negatives,
        "readout_shifts": int(read_shifts),
        "boosting_iterations": iters,
        "features": [k for k, v in options.items() if v],
        "out_of_time": any(out_of_time),
        # what the run cost (issue 24): boosting rounds do not grow with the rows (each
        # round's trees do, through the binned histograms), the readout is held-out rows
        # times READ_SHIFTS shifted pairings (readout_seconds also holds the blend on the
        # calibration rows); feature_seconds: the copula, t-copula and mixture fits
        "cost": {"seconds_per_step": clock["boosting"] / max(1, sum(iters)),
                 "steps": int(sum(iters)), "readout_pairs": int(read_pairs),
                 "training_seconds": clock["boosting"],
                 "feature_seconds": clock["features"], "readout_seconds": clock["readout"],
                 "other_seconds": max(0.0, time.perf_counter() - t0 - sum(clock.values()))},
    }
    if blends:
        details["blend"] = blends
    if permutations:
        details["permutation_scheme"] = (
            "each fold's trained classifier read on its own rows with Y shuffled (no "
            "refitting); the smallest of the folds' p-values times the number of folds "
            "(Bonferroni)")
    notes = [f"a boosted classifier's log-odds read as a DV lower bound on held-out rows "
             f"({folds} folds, each read by the classifier fitted on the others)"]
    warnings = []
    if any(out_of_time):
        warnings.append(
            f"stopped at the time budget (--budget) after {min(iters)}-{max(iters)} boosting "
            f"rounds of up to {params['max_iter']} in {sum(out_of_time)} of {folds} folds: "
            "still a held-out lower bound, possibly a looser one; a larger budget may read "
            "higher")
    warnings += ceiling_warning(mi_raw, sizes, "MI")
    return EstimatorResult(NAME, max(0.0, mi_raw), time.perf_counter() - t0, notes=notes,
                           warnings=warnings, details=details)


def fold_readouts(reads: list[float], ses: list[float], sizes: list[int],
                  perm_obs: list[float], perm_null: list[list[float]]) -> tuple[float, dict]:
    """The cross-fitted readout: the folds' DV readouts weighted by their rows (mi_raw), the
    spread, and where the folds were permuted, their statistics and null draws (combined
    by ``mitool.inference`` from the per-fold ones)."""
    w = np.asarray(sizes, dtype=float) / sum(sizes)
    mi_raw = float(np.dot(w, reads))
    details = {"mi_raw": mi_raw, "folds": len(reads),
               "fold_mi_raw": [round(r, 6) for r in reads],
               "spread": float(np.sqrt(np.sum((w * np.asarray(ses)) ** 2)))}
    if perm_null:
        null = [float(np.dot(w, d)) for d in zip(*perm_null, strict=True)]
        details.update(permutation_statistic=float(np.dot(w, perm_obs)), null_mi_raw=null,
                       null_mi=[max(0.0, v) for v in null],
                       fold_permutation_statistic=perm_obs, fold_null_mi_raw=perm_null)
    return mi_raw, details


def ceiling_warning(mi_raw: float, sizes: list[int], quantity: str) -> list[str]:
    """A DV readout on n rows cannot exceed log n: near it, the truth may be higher."""
    ceiling = math.log(min(sizes))
    if mi_raw <= ceiling - 1.0:
        return []
    return [f"estimate {mi_raw:.3f} nats is within 1 nat of the DV readout's ceiling "
            f"{ceiling:.2f} (log of the rows per fold): the true {quantity} may be higher"]


def run(name: str, data: PreparedData, opts: RunOptions) -> EstimatorResult:
    """The registry's runner."""
    return estimate(data, seed=opts.seed, permutations=opts.permutations,
                    deadline=opts.deadline)
