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
