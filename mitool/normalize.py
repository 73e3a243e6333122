"""MI on a 0-1 scale, so pairs can be compared (``--normalize``).

MI in nats has no upper end for continuous columns and an upper end that depends on the
levels for discrete ones, so 0.3 nats means different things for different pairs:

- both sides continuous: the informational coefficient of correlation (Linfoot 1957),
  IC = sqrt(1 - exp(-2 I)); for a Gaussian pair it is |rho|, whatever the units;
- a discrete side: I as a share of the smaller entropy of the discrete sides, I / min H
  (1: knowing the other side determines it); with two discrete sides also the symmetric
  uncertainty 2 I / (H(X) + H(Y)).

The entropies are the ones the caps use (``mitool.estimators.caps``: Miller-Madow, at
most ln K), so a capped MI reads at most 1. Pure functions of numbers in nats.
"""

from __future__ import annotations

import math


def normalized(mi: float | None, h_x: float | None, h_y: float | None) -> dict[str, float | None]:
    """The 0-1 readings of ``mi`` (nats) given the entropies (nats) of the discrete sides
    (None for a continuous side)."""
    if mi is None:
        return {}
    mi = max(0.0, mi)
    if h_x is None and h_y is None:
        return {"ic": math.sqrt(-math.expm1(-2.0 * mi))}
    smaller = min(h for h in (h_x, h_y) if h is not None)
    out: dict[str, float | None] = {
        "share_of_entropy": min(1.0, mi / smaller) if smaller > 0 else None}
    if h_x is not None and h_y is not None:
        out["symmetric_uncertainty"] = (min(1.0, 2.0 * mi / (h_x + h_y))
                                        if h_x + h_y > 0 else None)
    return out
