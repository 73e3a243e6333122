"""k-nearest-neighbour MI estimators (Kraskov–Stögbauer–Grassberger and Ross's mixed case).

KSG algorithm 1 with the max-norm, for multi-dimensional X and Y:
    I = ψ(k) + ψ(N) − ⟨ψ(n_x + 1) + ψ(n_y + 1)⟩
where ε_i is the distance to the k-th neighbour of point i in the joint space and n_x(i),
n_y(i) count the points strictly closer than ε_i in each marginal space. KD-trees make it
O(N log N) in low dimension; blocked brute force takes over in high dimension, and a
compiled quantile grid handles one column against one
(``mitool.estimators.neighbours``). Columns are standardised and jittered (seeded) so that
ties, which break the estimator, have probability zero.
"""

from __future__ import annotations

import numpy as np

from mitool.errors import UsageError
from mitool.estimators.neighbours import (
    choose_method,
    count_within,
    ksg_search_brute,
    kth_distance,
)

JITTER = 1e-10


EULER_GAMMA = 0.5772156649015329


def digamma(n) -> np.ndarray:
    """ψ at positive integers (every argument KSG and Ross's formula take): ψ(1) = −γ,
    ψ(n + 1) = ψ(n) + 1/n, from one cumulative sum. Agrees with scipy.special.digamma to
    about 1e-12 (tests/test_knn.py), without its 0.1 s import."""
    n = np.asarray(n)
    idx = n.astype(np.int64)
    if np.any(idx != n) or np.any(idx < 1):
        raise ValueError("digamma here takes positive integers")
    top = int(idx.max()) if idx.size else 1
    table = np.empty(top + 1)
    table[0] = np.nan
    table[1:] = -EULER_GAMMA + np.concatenate([[0.0], np.cumsum(1.0 / np.arange(1, top))])
    return table[idx]


def prescale(a: np.ndarray) -> np.ndarray:
    """Scale each column by a power of two so its largest magnitude lies in [0.5, 1).

    Exact in floating point (only the exponent changes), and it keeps the squares inside
    ``std`` from overflowing (values near 1e300) or underflowing (near 1e-300), after which
    the tie-breaking jitter would swamp the data. MI does not change under scaling.
    """
    a = np.asarray(a, dtype=np.float64)  # (n, d)
    if a.size == 0:
        return a
    m = np.abs(a).max(axis=0)  # (d,)
    exp = np.frexp(np.where(m > 0, m, 1.0))[1]
    return np.ldexp(a, -exp[None, :]) if np.any(exp != 0) else a


def standardize(a: np.ndarray, rng: np.random.Generator, jitter: bool = True) -> np.ndarray:
    """Centre and scale each column to unit variance, then add tiny noise against ties."""
    a = prescale(a)  # (n, d)
    std = a.std(axis=0)
    std[std == 0] = 1.0
    z = (a - a.mean(axis=0)) / std
    if jitter:
        z = z + JITTER * np.maximum(1.0, np.abs(z).mean(axis=0)) * rng.standard_normal(z.shape)
    return z


def copula_scores(a: np.ndarray) -> np.ndarray:
    """Per-column normal scores of the ranks (ties averaged): the Gaussian-copula transform.

    A monotone map of each column, so the true MI is unchanged, but k-NN estimators stop
    suffering from heavy tails and skewed marginals (Ince et al. 2017).
    """
    from scipy.special import ndtri
    from scipy.stats import rankdata

    a = np.asarray(a, dtype=np.float64)  # (n, d)
    n = a.shape[0]
    return ndtri(rankdata(a, axis=0) / (n + 1))


def _strict_counts(points: np.ndarray, radii: np.ndarray, search: str = "kdtree"
                   ) -> np.ndarray:
    """For each point, how many *other* points lie strictly within its radius (max-norm).

    One dimension needs no tree: two binary searches on the distances |v_j − v_i| < r
    themselves (not on shifted bounds v_i ± r, which round and let the k-th neighbour, at
    distance exactly r, be counted now and then), compiled (``knn_grid``).
    """
    if points.shape[1] == 1:
        from mitool.estimators.knn_grid import strict_counts_1d

        return strict_counts_1d(points[:, 0], radii)
    return count_within(points, radii, search)


def _check_k(k: int, n: int) -> None:
    if k < 1:
        raise UsageError(f"{{param}} must be a positive integer, got {k}",
                         parameter="k", function="KnnConfig")
    if n < k + 1:
        raise UsageError(f"KSG needs more rows than k: got {n} rows with k={k}; lower --k")


def ksg_mi(
    x: np.ndarray, y: np.ndarray, k: int = 3, seed: int = 0, clip: bool = True,
    search: str = "auto",
) -> float:
    """KSG (algorithm 1, max-norm) estimate of I(X;Y) in nats for continuous X (n,dx), Y (n,dy).

    Clipped at 0 by default (negative values mean "none"); permutation tests use the raw,
    unclipped value so that the statistic has no ties at 0. ``search``: the neighbour search
    (``mitool.estimators.neighbours``; identical answers, different speed).
    """
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    n = x.shape[0]
    _check_k(k, n)
    rng = np.random.default_rng(seed)
    xs, ys = standardize(x, rng), standardize(y, rng)
    method = choose_method(n, xs.shape[1] + ys.shape[1], search,
                           plane=xs.shape[1] == ys.shape[1] == 1)
    if method == "grid":
        from mitool.estimators.knn_grid import ksg_grid

        eps, nx, ny = ksg_grid(xs[:, 0], ys[:, 0], k)
    elif method == "brute":
        eps, nx, ny = ksg_search_brute(xs, ys, k)
    else:
        # (n,) distance to the k-th neighbour, self excluded (query k+1 including self)
        eps = kth_distance(np.hstack([xs, ys]), k, "kdtree")
        nx = _strict_counts(xs, eps, method)
        ny = _strict_counts(ys, eps, method)
    mi = float(digamma(k) + digamma(n) - np.mean(digamma(nx + 1) + digamma(ny + 1)))
    return max(0.0, mi) if clip else mi


def mixed_mi(
    x: np.ndarray, labels: np.ndarray, k: int = 3, seed: int = 0, clip: bool = True,
    search: str = "auto",
) -> float:
    """I(X;C) for continuous X (n,dx) and a discrete label C (n,) (Ross 2014), max-norm.

    For each point the k-th neighbour distance d_i is taken among points of its own class,
    m_i counts all points within d_i; I = ψ(N) + ⟨ψ(k_i)⟩ − ⟨ψ(N_c)⟩ − ⟨ψ(m_i)⟩.
    Points whose class has a single member carry no information and are dropped.
    """
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    labels = np.asarray(labels).ravel()
    n = x.shape[0]
    _check_k(k, n)
    rng = np.random.default_rng(seed)
    xs = standardize(x, rng)
    method = choose_method(n, xs.shape[1], search)
    radius = np.empty(n)
    k_all = np.empty(n)
    counts = np.empty(n)
    for value in np.unique(labels):
        mask = labels == value
        c = int(mask.sum())
        if c > 1:
            kk = min(k, c - 1)
            pts = xs[mask]
            radius[mask] = kth_distance(pts, kk, method)
            k_all[mask] = kk
        counts[mask] = c
    keep = counts > 1
    n_keep = int(keep.sum())
    if n_keep == 0:
        return 0.0
    xs, radius, k_all, counts = xs[keep], radius[keep], k_all[keep], counts[keep]
    m_all = np.maximum(count_within(xs, radius, method) + 1, 1)  # self included, as in Ross
    mi = float(
        digamma(n_keep) + np.mean(digamma(k_all)) - np.mean(digamma(counts))
        - np.mean(digamma(m_all))
    )
    return max(0.0, mi) if clip else mi


def joint_codes(cols: np.ndarray) -> np.ndarray:
    """Combine several discrete columns (n, d) into one label per row (n,)."""
    cols = np.asarray(cols).reshape(len(cols), -1)
    if cols.shape[1] == 1:
        return cols[:, 0].astype(np.int64)
    return np.unique(cols, axis=0, return_inverse=True)[1].ravel().astype(np.int64)
