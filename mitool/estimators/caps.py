"""What is possible caps what is reported: with a discrete side, I(X;Y) ≤ H(that side) ≤ ln K.

A number above that is a bias (gcmi's Gaussian model of level indicators, a k-NN estimate on
repeated rows) or a bug, never information. The cap is the side's entropy with the
Miller-Madow correction (the plug-in entropy is biased low by about (K − 1)/(2N), so the
corrected one is the safer ceiling), and never above ln K for its K observed levels.
"""

from __future__ import annotations

import math

import numpy as np

from mitool.estimators.base import EstimatorResult, PreparedData


def side_entropies(data: PreparedData) -> tuple[float | None, float | None]:
    """H(X), H(Y) in nats for the all-discrete sides (None for a side with a continuous
    column): Miller-Madow corrected, never above ln K for K observed levels."""
    out: list[float | None] = []
    for values, discrete in ((data.x, data.x_discrete), (data.y, data.y_discrete)):
        if values.shape[1] == 0 or not discrete.all():
            out.append(None)
            continue
        _, counts = np.unique(values, axis=0, return_counts=True)
        k, n = counts.size, int(counts.sum())
        p = counts / n
        plugin = float(-(p * np.log(p)).sum())
        corrected = plugin + (k - 1) / (2.0 * n)  # Miller-Madow
        out.append(min(corrected, math.log(k)) if k > 1 else 0.0)
    return out[0], out[1]


def entropy_cap(data: PreparedData,
                entropies: tuple[float | None, float | None] | None = None
                ) -> tuple[float, str] | None:
    """(cap in nats, what it is) from the all-discrete sides, or None without one."""
    caps = []
    h = side_entropies(data) if entropies is None else entropies
    for side, values, cap in (("X", data.x, h[0]), ("Y", data.y, h[1])):
        if cap is None:
            continue
        k = np.unique(values, axis=0).shape[0]
        caps.append((cap, f"H({side}) = {cap:.4f} nats ({k} levels: at most ln {k} = "
                          f"{math.log(k):.4f})"))
    return min(caps) if caps else None


def apply_cap(result: EstimatorResult, cap: tuple[float, str] | None) -> None:
    """Cap ``result`` (nats) in place, saying so; a value within the cap is left alone."""
    if cap is None or result.mi is None:
        return
    ceiling, what = cap
    d = result.details
    d["cap"] = ceiling
    if result.mi > ceiling + 1e-12:
        d["capped_from"] = result.mi
        result.mi = ceiling
        result.warnings.append(
            f"{result.estimator} read {d['capped_from']:.4f} nats, more than the discrete side "
            f"can carry ({what}): capped at {ceiling:.4f} (a bias of this estimator here, not "
            "information)")
    for key in ("ci_low", "ci_high"):
        if d.get(key) is not None and d[key] > ceiling:
            d[key] = ceiling
