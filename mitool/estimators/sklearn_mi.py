"""scikit-learn's own estimator, run for one column against one column, as a reference."""

from __future__ import annotations

import time

import numpy as np

from mitool.estimators.base import EstimatorResult, PreparedData, RunOptions


def run_sklearn(data: PreparedData, k: int = 3, seed: int = 0) -> EstimatorResult:
    """``mutual_info_regression`` (continuous target) or ``mutual_info_classif`` (discrete).

    scikit-learn scores each feature against one target, so this applies only when X and Y
    are a single column each (the registry checks it before running).
    """
    from sklearn.feature_selection import mutual_info_classif, mutual_info_regression

    t0 = time.perf_counter()
    feature, target = data.x, data.y[:, 0]
    feat_disc, targ_disc = bool(data.x_discrete[0]), bool(data.y_discrete[0])
    if feat_disc and not targ_disc:  # MI is symmetric: put the label on the target side
        feature, target = data.y, data.x[:, 0]
        feat_disc, targ_disc = targ_disc, feat_disc
    if data.n < k + 1:
        from mitool.errors import UsageError

        raise UsageError(f"scikit-learn's estimator needs more rows than k: {data.n} rows, k={k}")
    if targ_disc:
        fn, which = mutual_info_classif, "mutual_info_classif"
        target = target.astype(np.int64)
    else:
        fn, which = mutual_info_regression, "mutual_info_regression"
    from mitool.estimators.knn import prescale

    if not feat_disc:  # scikit-learn's own scaling overflows near 1e300 (MI is scale-free)
        feature = prescale(feature)
    if not targ_disc:
        target = prescale(target[:, None])[:, 0]
    mi = fn(feature, target, discrete_features=[feat_disc], n_neighbors=k, random_state=seed)[0]
    return EstimatorResult(
        "sklearn", float(mi), time.perf_counter() - t0,
        notes=[f"sklearn.feature_selection.{which}"], details={"k": k, "function": which},
    )


def run(name: str, data: PreparedData, opts: RunOptions) -> EstimatorResult:
    """The registry's runner (``mitool.estimators.registry``): on the distinct rows where
    repeated rows are copies (``ksg.distinct_rows``), scikit-learn's estimator as it is."""
    from mitool.estimators.ksg import distinct_rows

    rows, note = distinct_rows(data)
    r = run_sklearn(rows, k=opts.k, seed=opts.seed)
    if note:
        r.notes.append(note)
    return r


def statistic(data: PreparedData, opts: RunOptions) -> float:
    """scikit-learn's value (clipped at 0 inside it: ties there make the test conservative)."""
    return run_sklearn(data, k=opts.k, seed=opts.seed).mi
