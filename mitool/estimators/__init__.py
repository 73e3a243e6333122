"""Estimator registry: names, defaults and one dispatch function."""

from __future__ import annotations

from mitool.errors import UsageError
from mitool.estimators.base import EstimatorResult, PreparedData, ProgressCallback
from mitool.estimators.config import NeuralConfig

NEURAL = ("mine", "mine-biased", "jsd", "nwj", "infonce", "smile")
KNN = ("ksg", "sklearn")
CLOSED_FORM = ("gcmi",)
FITTED_COPULA = ("gcmi-rot",)  # gcmi after maps fitted on half of the rows
COMBINED = ("auto",)
ALL = COMBINED + NEURAL + KNN + CLOSED_FORM + FITTED_COPULA
# auto combines gcmi, ksg and the neural bound (bmi 40 tasks: docs/benchmarks.md); its parts
# are shown as their own rows, computed once
HEADLINE = "auto"
DEFAULT = (HEADLINE, "smile", "gcmi", "gcmi-rot", "ksg", "sklearn")  # gcmi-rot: where it applies


def parse_estimators(spec: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """'a,b' or ['a', 'b'] or 'all' or None (the default set) -> validated, ordered names."""
    if spec is None:
        return list(DEFAULT)
    parts = [spec] if isinstance(spec, str) else list(spec)
    names: list[str] = []
    for part in parts:
        for name in (p.strip().lower() for p in part.split(",")):
            if not name:
                continue
            if name == "all":
                names.extend(n for n in ALL if n not in names)
                continue
            if name == "default":
                names.extend(n for n in DEFAULT if n not in names)
                continue
            if name not in ALL:
                import difflib

                close = difflib.get_close_matches(name, ALL, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                raise UsageError(
                    f"unknown estimator '{name}'{hint} (choose from: {', '.join(ALL)}, all)"
                )
            if name not in names:
                names.append(name)
    if not names:
        raise UsageError("--estimator names no estimator")
    return names


def run_estimator(
    name: str,
    data: PreparedData,
    k: int = 3,
    seed: int = 0,
    neural: NeuralConfig | None = None,
    progress: ProgressCallback | None = None,
    permutations: int = 0,
    knn_transform: str = "standardize",
    knn_search: str = "auto",
) -> EstimatorResult:
    """Run one estimator by name (heavy modules are imported only when used).

    ``knn_transform`` and ``knn_search`` (the neighbour search: auto, kdtree or brute) apply
    to ``ksg``; the neural estimators read ``neural.transform``.
    """
    if name == "ksg":
        from mitool.estimators.ksg import run_ksg

        return run_ksg(data, k=k, seed=seed, transform=knn_transform, search=knn_search)
    if name == "sklearn":
        from mitool.estimators.sklearn_mi import run_sklearn

        return run_sklearn(data, k=k, seed=seed)
    if name == "gcmi":
        from mitool.estimators.gcmi import run_gcmi

        return run_gcmi(data)
    if name == "gcmi-rot":
        from mitool.estimators.gcmi_rot import run_gcmi_rot

        return run_gcmi_rot(data, seed=seed)
    if name == "auto":
        from mitool.estimators.auto import run_auto

        return run_auto(data, k=k, seed=seed, neural=neural, progress=progress,
                        permutations=permutations, knn_search=knn_search)
    if name in NEURAL:
        from mitool.estimators.neural import estimate_neural

        return estimate_neural(
            name, data, neural or NeuralConfig(), seed, progress=progress,
            permutations=permutations,
        )
    raise UsageError(f"unknown estimator '{name}'")


__all__ = [
    "ALL", "CLOSED_FORM", "COMBINED", "DEFAULT", "FITTED_COPULA", "HEADLINE", "KNN", "NEURAL", "EstimatorResult", "NeuralConfig",
    "PreparedData", "parse_estimators", "run_estimator",
]
