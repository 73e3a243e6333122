"""MI between two discrete variables from their contingency table, with bias corrections.

The plug-in MI (entropies of the empirical frequencies) is biased upwards by about
(R−1)(C−1)/(2N) for R×C levels: two independent 50- and 20-level columns at N = 1,000 get
0.47 nats. Corrections compared in ``benchmarks/discrete_mi.py``:

- ``miller-madow``: each entropy + (occupied cells − 1)/(2N). Undercorrects sparse tables,
  where most joint cells are empty.
- ``grassberger``: Grassberger's (2003) entropy estimator, H = log N − (1/N) Σ n G(n) with
  G(n) = ψ(n) + ½(−1)ⁿ(ψ((n+1)/2) − ψ(n/2)), for each of H(A), H(B), H(A,B).
- ``chao-shen``: the coverage-adjusted Horvitz–Thompson entropy (Chao & Shen 2003).
- ``shrinkage``: James–Stein shrinkage of the cell frequencies towards uniform (Hausser &
  Strimmer 2009), joint and marginals.
- ``permutation``: plug-in minus its mean under shuffles of B (exact in expectation under
  independence; over-corrects strong dependence).
- ``jackknife``: the delete-one jackknife of the plug-in MI, N·I − (N−1)·mean of the N
  leave-one-out values (computed per occupied cell, not per row).
- ``nsb``: each entropy by Nemenman–Shafee–Bialek (2002), the posterior mean under a mixture
  of Dirichlet priors flat in the prior entropy, over the observed levels (joint: all R·C
  cells), integrated on a grid of the concentration.
- ``<name>-clipped``: that estimate, never above the plug-in. The plug-in's bias is upward
  (about (R−1)(C−1)/(2N) in a sparse table), so a "correction" that raises the MI above it
  moves away from the truth: Grassberger's odd/even term does that on small tables
  (a 2×3 table reading 0.0041 against a plug-in of 0.0024).

All values are in nats and may be negative (``clip`` at 0 where a caller wants).
"""

from __future__ import annotations

import numpy as np

CORRECTIONS = ("plugin", "miller-madow", "grassberger", "chao-shen", "shrinkage", "permutation",
               "jackknife", "nsb", "miller-madow-clipped", "grassberger-clipped",
               "jackknife-clipped", "nsb-clipped")
# chosen in benchmarks/discrete_mi.py (docs/benchmarks.md): the lowest RMSE of those that
# never read above the plug-in (NSB never did in 1,200 runs; clipped so it never can)
DEFAULT_CORRECTION = "nsb-clipped"
DEFAULT_METHOD = "NSB entropies, never above the plug-in"


def contingency(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Counts table (R, C) of two label vectors (n,) of any hashable codes."""
    _, ai = np.unique(np.asarray(a).ravel(), return_inverse=True)
    _, bi = np.unique(np.asarray(b).ravel(), return_inverse=True)
    table = np.zeros((ai.max() + 1, bi.max() + 1), dtype=np.int64)
    np.add.at(table, (ai, bi), 1)
    return table


def _plugin_entropy(counts: np.ndarray) -> float:
    c = counts[counts > 0].astype(np.float64)
    n = c.sum()
    return float(np.log(n) - (c * np.log(c)).sum() / n)


def _grassberger_entropy(counts: np.ndarray) -> float:
    from scipy.special import digamma  # of half-integers; here, not at import (0.1 s)

    c = counts[counts > 0].astype(np.float64)
    n = c.sum()
    sign = np.where(c % 2 == 0, 1.0, -1.0)
    g = digamma(c) + 0.5 * sign * (digamma((c + 1) / 2) - digamma(c / 2))
    return float(np.log(n) - (c * g).sum() / n)


def _chao_shen_entropy(counts: np.ndarray) -> float:
    """Coverage-adjusted Horvitz–Thompson entropy (Chao & Shen 2003)."""
    c = counts[counts > 0].astype(np.float64)
    n = c.sum()
    f1 = float((c == 1).sum())
    if f1 == n:
        f1 = n - 1
    p = (1 - f1 / n) * c / n
    return float(-(p * np.log(p) / (1 - (1 - p) ** n)).sum())


def _shrink(counts: np.ndarray) -> np.ndarray:
    """James–Stein shrinkage of frequencies towards the uniform distribution over all cells."""
    c = counts.ravel().astype(np.float64)
    n, k = c.sum(), c.size
    u = c / n
    target = 1.0 / k
    denom = (n - 1) * ((target - u) ** 2).sum()
    lam = 1.0 if denom == 0 else min(1.0, max(0.0, (1 - (u**2).sum()) / denom))
    return (lam * target + (1 - lam) * u).reshape(counts.shape)


def _entropy_of(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def mi_from_table(table: np.ndarray, correction: str = DEFAULT_CORRECTION,
                  permutations: int = 20, seed: int = 0) -> float:
    """I(A;B) in nats from an (R, C) count table with the given bias correction."""
    table = np.asarray(table, dtype=np.int64)
    n = int(table.sum())
    row, col = table.sum(axis=1), table.sum(axis=0)
    if correction.endswith("-clipped"):  # never above the plug-in (module docstring)
        return min(mi_from_table(table, correction[:-len("-clipped")], permutations, seed),
                   mi_from_table(table, "plugin"))
    if correction == "jackknife":
        return _jackknife_mi(table)
    if correction == "nsb":
        return float(_nsb_entropy(row) + _nsb_entropy(col) - _nsb_entropy(table))
    if correction in ("plugin", "permutation"):
        mi = _plugin_entropy(row) + _plugin_entropy(col) - _plugin_entropy(table)
        if correction == "permutation":
            mi -= _null_mean(row, col, permutations, seed)
        return float(mi)
    if correction == "miller-madow":
        def h(c):
            return _plugin_entropy(c) + (np.count_nonzero(c) - 1) / (2 * n)
        return float(h(row) + h(col) - h(table))
    if correction == "grassberger":
        return float(_grassberger_entropy(row) + _grassberger_entropy(col)
                     - _grassberger_entropy(table))
    if correction == "chao-shen":
        return float(_chao_shen_entropy(row) + _chao_shen_entropy(col)
                     - _chao_shen_entropy(table))
    if correction == "shrinkage":
        p = _shrink(table)
        return float(_entropy_of(p.sum(axis=1)) + _entropy_of(p.sum(axis=0)) - _entropy_of(p))
    raise ValueError(f"unknown correction {correction!r}; choose from {', '.join(CORRECTIONS)}")


def _xlogx(c: np.ndarray) -> np.ndarray:
    c = np.asarray(c, dtype=np.float64)
    return np.where(c > 0, c * np.log(np.where(c > 0, c, 1.0)), 0.0)


def _jackknife_mi(table: np.ndarray) -> float:
    """Delete-one jackknife of the plug-in MI: the rows of one cell share a leave-one-out
    value, so it costs one update per occupied cell. Plug-in entropy of counts summing to
    m: log m − S/m with S = Σ c log c; removing a row from a cell of count c changes S by
    (c−1)log(c−1) − c log c."""
    n = float(table.sum())
    row, col = table.sum(axis=1), table.sum(axis=0)
    s_j, s_r, s_c = _xlogx(table).sum(), _xlogx(row).sum(), _xlogx(col).sum()

    def mi(m, sj, sr, sc):
        return np.log(m) - sr / m - sc / m + sj / m  # H(R) + H(C) - H(R,C)

    full = mi(n, s_j, s_r, s_c)
    r_idx, c_idx = np.nonzero(table)
    cnt = table[r_idx, c_idx].astype(np.float64)
    d = lambda c: _xlogx(c - 1) - _xlogx(c)  # noqa: E731 - S's change when one row leaves
    loo = mi(n - 1, s_j + d(cnt), s_r + d(row[r_idx]), s_c + d(col[c_idx]))
    return float(n * full - (n - 1) * (cnt * loo).sum() / n)


def _nsb_entropy(counts: np.ndarray, grid: int = 400) -> float:
    """Nemenman–Shafee–Bialek entropy (nats) of ``counts`` over its K cells (zeros count as
    possible but unseen levels): the posterior mean entropy under Dirichlet(β) priors mixed
    by dξ/dβ, ξ(β) the prior mean entropy, so the prior over H is flat. The integral over β
    runs on a log grid (its weights peak sharply: 400 points from 1e-4/K to 1e4 suffice)."""
    from scipy.special import gammaln, polygamma, psi

    c = np.asarray(counts, dtype=np.float64).ravel()
    k, n = c.size, c.sum()
    if k < 2 or n == 0:
        return 0.0
    occupied = c[c > 0]
    zeros = k - occupied.size
    beta = np.exp(np.linspace(np.log(1e-4 / k), np.log(1e4), grid))  # (G,)
    kb = k * beta
    # log evidence p(n | β) up to a constant, and the prior weight dξ/dβ (times β: log grid)
    log_ev = (gammaln(kb) - gammaln(n + kb)
              + (gammaln(occupied[:, None] + beta) - gammaln(beta)).sum(axis=0))
    dxi = k * polygamma(1, kb + 1) - polygamma(1, beta + 1)
    log_w = log_ev + np.log(np.maximum(dxi, 1e-300)) + np.log(beta)
    w = np.exp(log_w - log_w.max())
    # posterior mean entropy given β (Wolpert & Wolf)
    post = (psi(n + kb + 1)
            - ((occupied[:, None] + beta) * psi(occupied[:, None] + beta + 1)).sum(axis=0)
            / (n + kb)
            - zeros * beta * psi(beta + 1) / (n + kb))
    return float((w * post).sum() / w.sum())


def _null_mean(row: np.ndarray, col: np.ndarray, permutations: int, seed: int) -> float:
    """Mean plug-in MI of tables with these margins under random pairing (shuffles)."""
    rng = np.random.default_rng([seed, 31337])
    a = np.repeat(np.arange(row.size), row)
    b = np.repeat(np.arange(col.size), col)
    vals = []
    for _ in range(max(1, permutations)):
        t = np.zeros((row.size, col.size), dtype=np.int64)
        np.add.at(t, (a, rng.permutation(b)), 1)
        vals.append(_plugin_entropy(row) + _plugin_entropy(col) - _plugin_entropy(t))
    return float(np.mean(vals))


def discrete_mi(a: np.ndarray, b: np.ndarray, correction: str = DEFAULT_CORRECTION) -> float:
    """I(A;B) in nats for two label vectors, bias-corrected (not clipped)."""
    return mi_from_table(contingency(a, b), correction)


def plugin_mi(a: np.ndarray, b: np.ndarray) -> float:
    """The uncorrected plug-in I(A;B) in nats (always >= 0)."""
    return max(0.0, mi_from_table(contingency(a, b), "plugin"))
