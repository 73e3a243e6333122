"""The ``ksg`` estimator entry point: picks the right k-NN formula for the column types."""

from __future__ import annotations

import time

import numpy as np

from mitool.errors import UsageError
from mitool.estimators.base import EstimatorResult, PreparedData, RunOptions
from mitool.estimators.discrete import DEFAULT_CORRECTION, DEFAULT_METHOD, discrete_mi, plugin_mi
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


TIE_DRAWS = 5  # dequantization draws averaged on tied grid columns: seed-stable estimates
# from this share of repeated rows they are copies to read once; below it they are the
# coincidences of rounded values (7 significant digits: 2 of 5,000 rows), which k-NN's
# tie-breaking jitter absorbs
COPY_SHARE = 0.01


def grid_step(column: np.ndarray, distinct: np.ndarray | None = None) -> float | None:
    """The step of a tied column whose distinct values sit on a grid (integers, values
    rounded to 0.01, ...), or None (no ties, or ties that are not a grid: copied rows).
    ``distinct``: the column's sorted distinct values, where already known."""
    u = np.unique(column) if distinct is None else distinct
    if u.size == column.size or u.size < 2:
        return None
    gaps = np.diff(u)
    step = float(gaps.min())
    ratio = gaps / step
    if np.all(np.abs(ratio - np.round(ratio)) <= 1e-6 * np.maximum(1.0, ratio)):
        return step
    return None


def _continuous(data: PreparedData) -> list[tuple[str, int]]:
    return [(s, int(j)) for s, flags in (("x", data.x_discrete), ("y", data.y_discrete))
            for j in np.flatnonzero(~flags)]


def _column(data: PreparedData, c: tuple[str, int]) -> np.ndarray:
    return (data.x if c[0] == "x" else data.y)[:, c[1]]


def distinct_rows(data: PreparedData) -> tuple[PreparedData, str | None]:
    """The distinct rows where repeated rows are copies: a tied continuous column whose
    ties are not a grid (integers, rounded values) can only come from repeated rows, and
    their zero distances make k-NN's neighbour counts explode (6 nats on independent data
    written four times)."""
    from mitool.estimators.registry import distinct_values, repeated_rows

    cont = _continuous(data)
    if not cont or repeated_rows(data) < COPY_SHARE:
        return data, None
    distinct = distinct_values(data)
    copied = [c for c in cont if distinct[c].size < data.n
              and grid_step(_column(data, c), distinct[c]) is None]
    if not copied:
        return data, None
    keep = np.sort(np.unique(np.hstack([data.x, data.y]), axis=0, return_index=True)[1])
    return data.subset(keep), (f"read the {keep.size:,} distinct rows of {data.n:,} (repeated "
                               "rows of continuous values are copies, not draws)")


def tie_views(data: PreparedData, seed: int) -> tuple[list[PreparedData], list[str]]:
    """The data ksg reads, and what was done (issue 21: ties and repeated rows): the
    distinct rows where rows are copies (``distinct_rows``); then each tied column on a
    grid is quantised, so each value is spread uniformly over its grid cell (the law of
    the underlying continuous value), and the estimate is the mean of ``TIE_DRAWS`` such
    draws, so it does not hang on one seed's tie-breaking."""
    from mitool.estimators.registry import distinct_values

    if ("tie_views", seed) in data.memo:
        return data.memo[("tie_views", seed)]
    base, note = distinct_rows(data)
    notes = [note] if note else []
    distinct = distinct_values(base)
    grid = {c: step for c in _continuous(base)
            if (step := grid_step(_column(base, c), distinct[c])) is not None}
    if not grid:
        data.memo[("tie_views", seed)] = ([base], notes)
        return [base], notes
    views = []
    for r in range(TIE_DRAWS):
        rng = np.random.default_rng([seed, 6007, r])
        x, y = base.x.copy(), base.y.copy()
        for (s, j), step in grid.items():
            (x if s == "x" else y)[:, j] += rng.uniform(-step / 2, step / 2, size=base.n)
        views.append(PreparedData(x, y, base.x_names, base.y_names, base.x_discrete,
                                  base.y_discrete))
    names = ", ".join((base.x_names if s == "x" else base.y_names)[j] for s, j in grid)
    notes.append(f"tied columns on a grid ({names}) spread uniformly over their step, the "
                 f"estimate averaged over {TIE_DRAWS} draws")
    data.memo[("tie_views", seed)] = (views, notes)
    return views, notes


def ksg_statistic(
    data: PreparedData, k: int = 3, seed: int = 0, clip: bool = True,
    transform: str = "standardize", search: str = "auto",
) -> tuple[float, str]:
    """(MI in nats, method) with the k-NN formula that fits the column types.

    KSG for continuous X and Y; Ross's formula when one side is all discrete; the
    contingency-table MI with NSB entropies, never above the plug-in, when both are (the
    plug-in is biased up by about (R-1)(C-1)/(2N); see ``mitool.estimators.discrete``).
    ``clip=False`` gives the raw value (permutation tests);
    ``transform="copula"`` maps continuous columns to normal scores first.
    """
    xd, yd = bool(data.x_discrete.all()), bool(data.y_discrete.all())
    if not (xd and yd):
        views, _ = tie_views(data, seed)
        if len(views) > 1 or views[0] is not data:
            reads = [_ksg_formula(_transformed(v, transform), k, seed, search) for v in views]
            mi = float(np.mean([raw for raw, _ in reads]))
            return (max(0.0, mi) if clip else mi), reads[0][1]
    return _ksg_formula(_transformed(data, transform), k, seed, search, clip)


def _ksg_formula(data: PreparedData, k: int, seed: int, search: str, clip: bool = False
                 ) -> tuple[float, str]:
    xd, yd = bool(data.x_discrete.all()), bool(data.y_discrete.all())
    if xd and yd:
        mi = discrete_mi(joint_codes(data.x), joint_codes(data.y), DEFAULT_CORRECTION)
        return (max(0.0, mi) if clip else mi), (
            f"contingency-table MI, {DEFAULT_METHOD} (both sides discrete)"
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
    notes = [method] + tie_views(data, seed)[1]
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
