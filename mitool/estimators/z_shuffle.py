"""Shuffles of X that keep its dependence on Z: each row's X redrawn among the rows nearest
to it in Z (Runge 2018's local permutation; CCMI's nearest-neighbour product rows). Shared by
the conditional independence test (``mitool.inference``) and ``gbm-cmi``."""

from __future__ import annotations

import numpy as np

K_PERM = 5  # neighbours in Z among which a row's X is redrawn (Runge 2018 uses 5-10)


def z_neighbourhoods(z: np.ndarray, z_discrete: np.ndarray, k_perm: int
                     ) -> list[np.ndarray]:
    """For each row, the rows its X may be drawn from: its k_perm nearest rows (itself
    included) in the continuous Z columns, max-norm on their ranks scaled to [0, 1), within
    its stratum of the discrete Z columns (the whole stratum where it has no continuous
    column, or fewer than k_perm rows)."""
    from scipy.spatial import cKDTree
    from scipy.stats import rankdata

    from mitool.estimators.knn import joint_codes

    n = z.shape[0]
    zd, zc = z[:, z_discrete], z[:, ~z_discrete]
    strata = joint_codes(zd) if zd.shape[1] else np.zeros(n, dtype=np.int64)
    ranks = (np.column_stack([rankdata(c) for c in zc.T]) / n if zc.shape[1]
             else np.empty((n, 0)))  # (n, dc), rank-standardised
    out: list[np.ndarray] = [np.empty(0, dtype=np.int64)] * n
    for level in np.unique(strata):
        rows = np.flatnonzero(strata == level)
        if zc.shape[1] == 0 or rows.size <= k_perm:
            for i in rows:
                out[i] = rows
            continue
        _, idx = cKDTree(ranks[rows]).query(ranks[rows], k=k_perm, p=np.inf)  # (m, k_perm)
        for i, near in zip(rows, rows[idx], strict=True):
            out[i] = near
    return out


def local_permutation(neighbourhoods: list[np.ndarray], rng: np.random.Generator
                      ) -> np.ndarray:
    """One draw of source rows (n,) for X: rows visited in random order, each takes a random
    one of its neighbourhood not taken yet (a repeat only when all are taken), as Runge's
    CMIknn does."""
    n = len(neighbourhoods)
    taken = np.zeros(n, dtype=bool)
    source = np.empty(n, dtype=np.int64)
    for i in rng.permutation(n):
        near = neighbourhoods[i]
        order = near[rng.permutation(near.size)]
        free = order[~taken[order]]
        pick = free[0] if free.size else order[0]
        source[i] = pick
        taken[pick] = True
    return source
