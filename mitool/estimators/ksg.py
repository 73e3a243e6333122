"""The ``ksg`` estimator entry point: picks the right k-NN formula for the column types."""

from __future__ import annotations

import time

from mitool.errors import UsageError
from mitool.estimators.base import EstimatorResult, PreparedData, RunOptions
from mitool.estimators.discrete import DEFAULT_CORRECTION, discrete_mi, plugin_mi
from mitool.estimators.knn import copula_scores, joint_codes, ksg_mi, mixed_mi
from mitool.estimators.neighbours import choose_method

TRANSFORMS = ("standardize", "copula")


def _transformed(data: PreparedData, transform: str) -> PreparedData:
    """Apply the copula transform to the continuous columns (discrete ones stay codes)."""
    if transform == "standardize":
        return data  # ksg_mi standardises itself
    if transform != "copula":
        raise UsageError(f"unknown transform '{transform}'; choose standardize or copula")
    x, y = data.x.copy(), data.y.copy()
    if (~data.x_discrete).any():
        x[:, ~data.x_discrete] = copula_scores(x[:, ~data.x_discrete])
    if (~data.y_discrete).any():
        y[:, ~data.y_discrete] = copula_scores(y[:, ~data.y_discrete])
    return PreparedData(x, y, data.x_names, data.y_names, data.x_discrete, data.y_discrete)


def ksg_statistic(
    data: PreparedData, k: int = 3, seed: int = 0, clip: bool = True,
    transform: str = "standardize", search: str = "auto",
) -> tuple[float, str]:
    """(MI in nats, method) with the k-NN formula that fits the column types.

    KSG for continuous X and Y; Ross's formula when one side is all discrete; the
    contingency-table MI with Grassberger's bias correction when both are (the plug-in value
    is biased up by about (R-1)(C-1)/(2N); see ``mitool.estimators.discrete``). ``clip=False`` gives the raw value (permutation tests);
    ``transform="copula"`` maps continuous columns to normal scores first.
    """
    data = _transformed(data, transform)
    xd, yd = bool(data.x_discrete.all()), bool(data.y_discrete.all())
    if xd and yd:
        mi = discrete_mi(joint_codes(data.x), joint_codes(data.y), DEFAULT_CORRECTION)
        return (max(0.0, mi) if clip else mi), (
            f"contingency-table MI, {DEFAULT_CORRECTION} bias correction (both sides discrete)"
        )
    if yd:
        return mixed_mi(data.x, joint_codes(data.y), k=k, seed=seed, clip=clip,
                        search=search), (
            "k-NN for continuous X and discrete Y (Ross 2014)"
        )
    if xd:
        return mixed_mi(data.y, joint_codes(data.x), k=k, seed=seed, clip=clip,
                        search=search), (
            "k-NN for discrete X and continuous Y (Ross 2014)"
        )
    return (ksg_mi(data.x, data.y, k=k, seed=seed, clip=clip, search=search),
            "KSG algorithm 1, max-norm")


def neighbour_search(data: PreparedData, search: str = "auto") -> str | None:
    """The neighbour search ``ksg`` uses on these columns (None: no search, both discrete)."""
    xd, yd = bool(data.x_discrete.all()), bool(data.y_discrete.all())
    if xd and yd:
        return None
    dims = data.x.shape[1] if yd else data.y.shape[1] if xd else data.x.shape[1] + data.y.shape[1]
    plane = not xd and not yd and data.x.shape[1] == data.y.shape[1] == 1
    return choose_method(data.n, dims, search, plane=plane)


def run_ksg(
    data: PreparedData, k: int = 3, seed: int = 0, transform: str = "standardize",
    search: str = "auto",
) -> EstimatorResult:
    """The ``ksg`` estimator. Discrete columns mixed with continuous ones on the same side are
    treated as continuous (jitter breaks their ties), and the note says so."""
    t0 = time.perf_counter()
    mi_raw, method = ksg_statistic(data, k=k, seed=seed, clip=False, transform=transform,
                                   search=search)
    mi = max(0.0, mi_raw)  # a negative value means "no detectable dependence"
    notes = [method]
    if transform == "copula":
        notes.append("continuous columns mapped to normal scores (Gaussian copula; MI unchanged)")
    mixed_side = (data.x_discrete.any() and not data.x_discrete.all()) or (
        data.y_discrete.any() and not data.y_discrete.all()
    )
    if mixed_side:
        notes.append("discrete columns mixed with continuous ones are treated as continuous")
    details = {"k": k, "method": method, "transform": transform, "mi_raw": mi_raw,
               "neighbour_search": neighbour_search(data, search)}
    if data.x_discrete.all() and data.y_discrete.all():
        details["mi_plugin"] = plugin_mi(joint_codes(data.x), joint_codes(data.y))
        details["correction"] = DEFAULT_CORRECTION
    return EstimatorResult(
        "ksg", mi, time.perf_counter() - t0, notes=notes,
        details=details,
    )


def run(name: str, data: PreparedData, opts: RunOptions) -> EstimatorResult:
    """The registry's runner (``mitool.estimators.registry``)."""
    return run_ksg(data, k=opts.k, seed=opts.seed, transform=opts.transform, search=opts.search)


def statistic(data: PreparedData, opts: RunOptions) -> float:
    """The raw (unclipped) value permutation tests and intervals compare: no ties at 0."""
    return ksg_statistic(data, k=opts.k, seed=opts.seed, clip=False,
                         transform=opts.transform)[0]
