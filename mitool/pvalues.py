"""Combining p-values: pure statistics shared by the estimators (gcmi-rot's two halves) and
``mitool.inference`` (auto's components), kept in the core so neither imports the other."""

from __future__ import annotations

import math

import numpy as np


def cauchy_combination(p_values: list[float]) -> float:
    """Combined p-value of several tests of the same null, valid under dependence (ACAT,
    Liu & Xie 2020)."""
    ps = np.clip(np.asarray(p_values, dtype=float), 1e-15, 1 - 1e-15)
    t = float(np.mean(np.tan((0.5 - ps) * math.pi)))
    return float(min(1.0, max(0.0, 0.5 - math.atan(t) / math.pi)))


def min_p_permutation(observed: list[float], nulls: list[np.ndarray]) -> float:
    """Westfall-Young min-p: one exact p-value for several statistics re-estimated on the
    SAME shuffles (null draw b of every statistic comes from shuffle b).

    Each statistic is first turned into its own permutation p-value, the observed values
    and every shuffle's alike (the observed row counts as one of the P + 1 arrangements),
    so a statistic with a wide null (ksg) cannot drown one with a narrow null (gcmi) as the
    raw maximum would. The smallest of them is compared with the smallest on each shuffle:
    under independence the P + 1 arrangements are exchangeable, so the result is exact,
    never below 1/(P + 1), and with one statistic it is that statistic's own p-value. A
    non-finite null draw counts as the most extreme value (conservative)."""
    obs = np.asarray(observed, dtype=float)  # (m,)
    draws = np.vstack([np.asarray(n, dtype=float) for n in nulls])  # (m, P)
    draws = np.where(np.isfinite(draws), draws, np.inf)
    arr = np.hstack([obs[:, None] - 1e-12, draws])  # (m, P + 1); column 0 is observed
    # p of each arrangement within its statistic: the share of arrangements at least as
    # large, itself included
    ordered = np.sort(arr, axis=1)  # (m, P + 1)
    at_least = np.stack([arr.shape[1] - np.searchsorted(ordered[i], arr[i], side="left")
                         for i in range(arr.shape[0])])  # (m, P + 1)
    min_p = at_least.min(axis=0) / arr.shape[1]  # (P + 1,)
    return float(np.sum(min_p <= min_p[0] + 1e-15) / arr.shape[1])


def weighted_bonferroni(p_values: list[float], weights: list[float]) -> float:
    """min(1, min_i p_i / w_i) with the weights summing to at most 1: a valid p-value
    under any dependence between the tests (Bonferroni with unequal shares of alpha, fixed
    before seeing the data). A test with weight 0 has no share of alpha and cannot reject:
    it is left out."""
    if sum(weights) > 1 + 1e-9 or (weights and min(weights) < 0):
        raise ValueError("weights must be 0 or more and sum to at most 1")
    return float(min([1.0, *(p / w for p, w in zip(p_values, weights, strict=True) if w > 0)]))
