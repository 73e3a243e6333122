"""``gcmi``: Gaussian-copula MI (Ince et al. 2017), with a bias correction and an analytic p-value.

Each continuous column is replaced by the normal scores of its ranks (a monotone map, so the
true MI is unchanged); a discrete column by indicator columns of its levels (one level
dropped). The estimate is the MI of a Gaussian with the resulting correlations,
−½ Σ log(1 − ρᵢ²) over the canonical correlations ρᵢ. It is

- exact for Gaussian data and any monotone map of each column, at any dimension;
- a lower bound on the true MI when X and Y are one continuous column each (the Gaussian
  copula has the least MI of all joint laws with normal margins and that correlation);
- blind to dependence that is not linear in the normal scores (mixtures, rings, spirals,
  a shared scale as in Student-t): there it underestimates, which is why it is a third
  opinion beside KSG and the neural bounds, not a replacement.

Bias: the plug-in value of independent data is ≈ d_x·d_y/(2N) high. The Gaussian entropy of
d columns estimated from N rows has a known bias (Ince et al. 2017, eq. in ``ent_g``), and
correcting H(X), H(Y) and H(X,Y) removes it from the MI at any true value.
p-value: under independence −(N − 1 − (d_x + d_y + 1)/2)·Σ log(1 − ρᵢ²) follows χ² with
d_x·d_y degrees of freedom (Bartlett 1938), d counting the columns after encoding.
"""

from __future__ import annotations

import math
import time

import numpy as np
from scipy.special import digamma, ndtri
from scipy.stats import chi2, rankdata

from mitool.estimators.base import EstimatorResult, PreparedData, RunOptions

RANK_TOL = 1e-10  # eigenvalues below this fraction of the largest: a redundant direction


def gaussian_scores(values: np.ndarray, discrete: np.ndarray) -> np.ndarray:
    """(n, d) columns -> (n, d') encoded columns: normal scores, or level indicators."""
    n = values.shape[0]
    parts = []
    for j in range(values.shape[1]):
        col = values[:, j]
        if discrete[j]:
            levels, codes = np.unique(col, return_inverse=True)
            if levels.size > 1:
                parts.append(np.eye(levels.size)[codes][:, 1:])
        else:
            parts.append(ndtri(rankdata(col) / (n + 1))[:, None])
    return np.hstack(parts) if parts else np.empty((n, 0))


def _whitener(c: np.ndarray) -> np.ndarray:
    """C^(-1/2) on the non-degenerate directions of a covariance c (d, d) -> (d, r)."""
    w, v = np.linalg.eigh(c)
    keep = w > RANK_TOL * max(float(w.max()), 1e-300)
    return v[:, keep] / np.sqrt(w[keep])


def canonical_correlations(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Canonical correlations of a (n, p) and b (n, q), and the ranks (p', q') used."""
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    n = a.shape[0]
    wa = _whitener(a.T @ a / (n - 1))  # (p, p')
    wb = _whitener(b.T @ b / (n - 1))  # (q, q')
    cross = wa.T @ (a.T @ b / (n - 1)) @ wb  # (p', q')
    rho = np.linalg.svd(cross, compute_uv=False)
    return np.clip(rho, 0.0, 1.0 - 1e-15), wa.shape[1], wb.shape[1]


def _entropy_bias(d: int, n: int) -> float:
    """How far the plug-in Gaussian entropy of d columns from n rows falls below the truth
    (in expectation): Σᵢ ψ((n−i)/2)/2 + d·(ln 2 − ln(n−1))/2 (Ince et al. 2017)."""
    if d == 0:
        return 0.0
    i = np.arange(1, d + 1)
    return float(digamma((n - i) / 2.0).sum() / 2.0 + d * (math.log(2.0) - math.log(n - 1)) / 2.0)


def gaussian_mi_statistic(a: np.ndarray, b: np.ndarray) -> dict:
    """Corrected and plug-in Gaussian MI (nats) of encoded columns a (n, p), b (n, q), and
    the analytic p-value."""
    rho, p, q = canonical_correlations(a, b)
    return _from_correlations(rho, p, q, a.shape[0])


def _from_correlations(rho: np.ndarray, p: int, q: int, n: int) -> dict:
    """Corrected and plug-in Gaussian MI, and Bartlett's p-value, from canonical
    correlations of p and q (non-degenerate) columns over n rows."""
    plugin = float(-0.5 * np.log1p(-rho**2).sum())
    # H_true ≈ H_plugin - bias(d) for each entropy, so I_true ≈ I_plugin - [b(p)+b(q)-b(p+q)]
    correction = _entropy_bias(p, n) + _entropy_bias(q, n) - _entropy_bias(p + q, n)
    corrected = plugin - correction
    df = p * q
    factor = n - 1 - (p + q + 1) / 2.0
    stat = 2.0 * factor * plugin
    p_value = float(chi2.sf(stat, df)) if df > 0 and factor > 0 else 1.0
    return {"mi_raw": corrected, "mi_plugin": plugin, "canonical_correlations": rho.tolist(),
            "dims": [p, q], "p_value_analytic": p_value, "chi2": stat, "df": df}


# above this many cells the level indicators of a discrete column are not built: 4,043 tail
# numbers x 336,776 flights would be 10.9 GB (issue 23); the group means give the same answer
DENSE_INDICATOR_CELLS = 20_000_000


def gcmi_statistic(data: PreparedData) -> dict:
    """Corrected and plug-in Gaussian-copula MI (nats) and the analytic p-value."""
    for codes, disc, other, other_disc in ((data.x, data.x_discrete, data.y, data.y_discrete),
                                           (data.y, data.y_discrete, data.x, data.x_discrete)):
        if codes.shape[1] == 1 and disc.all() and not other_disc.all():
            levels = np.unique(codes[:, 0]).size
            if codes.shape[0] * levels > DENSE_INDICATOR_CELLS:
                return _one_category_statistic(codes[:, 0], gaussian_scores(other, other_disc))
    return gaussian_mi_statistic(gaussian_scores(data.x, data.x_discrete),
                                 gaussian_scores(data.y, data.y_discrete))


def _one_category_statistic(codes: np.ndarray, b: np.ndarray) -> dict:
    """``gaussian_mi_statistic`` of one discrete column's level indicators against b (n, q),
    without the (n, levels) indicator matrix: the indicators span the group means, so the
    squared canonical correlations are the eigenvalues of the between-group covariance of
    b in b's whitened coordinates. O(n q + levels q^2) time, O(levels q) memory."""
    n = b.shape[0]
    _, inv, counts = np.unique(codes, return_inverse=True, return_counts=True)
    levels = counts.size
    bc = b - b.mean(axis=0)
    wb = _whitener(bc.T @ bc / (n - 1))  # (q, q')
    z = bc @ wb  # (n, q') whitened
    sums = np.zeros((levels, z.shape[1]))
    np.add.at(sums, inv, z)
    between = (sums.T / counts) @ sums / (n - 1)  # sum_k n_k mu_k mu_k^T / (n - 1)
    rho2 = np.sort(np.clip(np.linalg.eigvalsh(between), 0.0, None))[::-1]
    rho = np.sqrt(rho2[:max(0, min(levels - 1, rho2.size))])
    return _from_correlations(np.clip(rho, 0.0, 1.0 - 1e-15), levels - 1, wb.shape[1], n)


def gcmi_value(data: PreparedData, clip: bool = False) -> float:
    """The bias-corrected estimate alone (the statistic permutation tests and intervals use)."""
    v = gcmi_statistic(data)["mi_raw"]
    return max(0.0, v) if clip else v


def run_gcmi(data: PreparedData) -> EstimatorResult:
    """The ``gcmi`` estimator (more rows than columns + 2: the registry checks it)."""
    t0 = time.perf_counter()
    st = gcmi_statistic(data)
    mi = max(0.0, st["mi_raw"])
    notes = ["Gaussian-copula MI of the canonical correlations (normal scores of the ranks), "
             "bias-corrected; analytic p-value (Bartlett's chi-square)"]
    one_to_one = data.x.shape[1] == 1 and data.y.shape[1] == 1 and not (
        data.x_discrete.any() or data.y_discrete.any())
    if one_to_one:
        notes.append("a lower bound on the MI for one continuous column against another")
    if data.x_discrete.any() or data.y_discrete.any():
        notes.append("discrete columns enter as level indicators (a Gaussian channel model)")
    details = {"method": "Gaussian copula (canonical correlations)", **st,
               "lower_bound": one_to_one}
    return EstimatorResult("gcmi", mi, time.perf_counter() - t0, notes=notes, details=details)


def _both_discrete(data: PreparedData) -> bool:
    return bool(data.x_discrete.all() and data.y_discrete.all())


def run(name: str, data: PreparedData, opts: RunOptions) -> EstimatorResult:
    """The registry's runner (``mitool.estimators.registry``). Two discrete sides have no
    Gaussian model worth the name (level indicators of a 38-level column against a
    15-level one read 232 nats): there gcmi is the contingency-table MI, as ksg's."""
    if _both_discrete(data):
        from mitool.estimators.ksg import run_ksg

        r = run_ksg(data, k=opts.k, seed=opts.seed)
        r.estimator = "gcmi"
        r.notes.append("two discrete sides: the contingency-table MI (no Gaussian model)")
        return r
    return run_gcmi(data)


def statistic(data: PreparedData, opts: RunOptions) -> float:
    """The bias-corrected, unclipped value permutation tests and intervals compare."""
    if _both_discrete(data):
        from mitool.estimators.ksg import ksg_statistic

        return ksg_statistic(data, k=opts.k, seed=opts.seed, clip=False)[0]
    return gcmi_value(data)
