"""The ``ksg`` estimator entry point: picks the right k-NN formula for the column types."""

from __future__ import annotations

import time

from mitool.estimators.base import EstimatorResult, PreparedData
from mitool.estimators.knn import discrete_mi, joint_codes, ksg_mi, mixed_mi


def run_ksg(data: PreparedData, k: int = 3, seed: int = 0) -> EstimatorResult:
    """KSG for continuous X and Y; Ross's k-NN formula when one side is all discrete;
    the plug-in (contingency) MI when both are. Discrete columns mixed with continuous ones on
    the same side are treated as continuous (jitter breaks their ties), and the note says so.
    """
    t0 = time.perf_counter()
    xd, yd = bool(data.x_discrete.all()), bool(data.y_discrete.all())
    notes: list[str] = []
    if xd and yd:
        mi = discrete_mi(joint_codes(data.x), joint_codes(data.y))
        method = "plug-in MI of the contingency table (both sides discrete)"
    elif yd:
        mi = mixed_mi(data.x, joint_codes(data.y), k=k, seed=seed)
        method = "k-NN for continuous X and discrete Y (Ross 2014)"
    elif xd:
        mi = mixed_mi(data.y, joint_codes(data.x), k=k, seed=seed)
        method = "k-NN for discrete X and continuous Y (Ross 2014)"
    else:
        mi = ksg_mi(data.x, data.y, k=k, seed=seed)
        method = "KSG algorithm 1, max-norm"
        if data.x_discrete.any() or data.y_discrete.any():
            notes.append("discrete columns mixed with continuous ones are treated as continuous")
    return EstimatorResult(
        "ksg", mi, time.perf_counter() - t0, notes=[method, *notes],
        details={"k": k, "method": method},
    )
