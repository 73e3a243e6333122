"""The estimators: one registry (``registry``) knows each of them; this is the package face.

``parse_estimators`` turns ``-e`` into registered names; ``run_estimator`` runs one by name
(its module imported only then).
"""

from __future__ import annotations

from mitool.errors import UsageError
from mitool.estimators.base import EstimatorResult, PreparedData, RunOptions
from mitool.estimators.config import NeuralConfig
from mitool.estimators.registry import default_names, names, run_estimator, supporting_z

ALL_KEYWORD = "all"  # every registered estimator
DEFAULT_KEYWORD = "default"  # the default set


def parse_estimators(spec: str | list[str] | tuple[str, ...] | None,
                     conditional: bool = False) -> list[str]:
    """'a,b' or ['a', 'b'] or 'all' or None (the default set) -> validated, ordered names.

    ``conditional`` (Z columns given): 'all' and the default set are those of I(X;Y|Z), and
    a named estimator that does not take Z is refused, naming those that do (and the other
    way round without Z)."""
    if spec is None:
        return list(default_names(conditional))
    every = names()
    group_all = names(conditional)
    parts = [spec] if isinstance(spec, str) else list(spec)
    chosen: list[str] = []
    for part in parts:
        for name in (p.strip().lower() for p in part.split(",")):
            if not name:
                continue
            if name in (ALL_KEYWORD, DEFAULT_KEYWORD):
                group = group_all if name == ALL_KEYWORD else default_names(conditional)
                chosen.extend(n for n in group if n not in chosen)
                continue
            if name not in every:
                import difflib

                close = difflib.get_close_matches(name, every, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                raise UsageError(
                    f"unknown estimator '{name}'{hint} (choose from: {', '.join(every)}, all)",
                    parameter="estimators",
                )
            if name not in group_all:
                raise UsageError(
                    f"estimator '{name}' does not estimate I(X;Y|Z); with --z use "
                    f"{', '.join(supporting_z())}" if conditional else
                    f"estimator '{name}' estimates I(X;Y|Z): give Z columns (--z), or use "
                    f"one of {', '.join(names(False))}", parameter="estimators")
            if name not in chosen:
                chosen.append(name)
    if not chosen:
        raise UsageError("--estimator names no estimator", parameter="estimators")
    return chosen


def asks_default(spec: str | list[str] | tuple[str, ...] | None) -> tuple[bool, set[str]]:
    """(whether ``spec`` asks for the default set, by None or the ``default`` keyword; the
    names it gives explicitly). Where the default set is asked for, its rules leave out what
    does not join on these columns; a name given explicitly always runs."""
    if spec is None:
        return True, set()
    parts = [spec] if isinstance(spec, str) else list(spec)
    tokens = [t.strip().lower() for part in parts for t in part.split(",") if t.strip()]
    return DEFAULT_KEYWORD in tokens, {t for t in tokens if t not in (ALL_KEYWORD,
                                                                       DEFAULT_KEYWORD)}


__all__ = ["EstimatorResult", "NeuralConfig", "PreparedData", "RunOptions", "asks_default",
           "parse_estimators", "run_estimator"]
