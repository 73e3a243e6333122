"""``mitool.pairs``: screen many columns for dependence, one MI estimate per pair.

The per-pair work is a plain function (``_score_pair``) run through joblib, so the same
loop runs on local processes (``loky``), threads, or a Ray / Dask cluster by switching
joblib's backend: users with hundreds of columns outgrow one machine.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

from mitool import __version__
from mitool.data.columns import prepare, split_specs
from mitool.errors import InputError, UsageError
from mitool.estimation import SCHEMA_VERSION, to_unit

BACKENDS = ("loky", "threading", "ray", "dask")
PAIR_ESTIMATORS = ("ksg", "sklearn")


@dataclass
class PairScore:
    x: str
    y: str
    mi: float | None  # nats
    n_used: int
    seconds: float
    p_value: float | None = None
    null_p95: float | None = None
    note: str | None = None


@dataclass
class PairsResult:
    """All pair scores, sorted by MI (highest first)."""

    path: str
    target: str | None
    estimator: str
    unit: str
    k: int
    seed: int
    n_rows: int
    permutations: int
    scores: list[PairScore]
    seconds: float
    backend: str
    jobs: int
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "mitool_version": __version__,
            "command": "pairs",
            "input": {"path": self.path, "n_rows": self.n_rows},
            "target": self.target,
            "estimator": self.estimator,
            "unit": self.unit,
            "k": self.k,
            "seed": self.seed,
            "permutations": self.permutations,
            "backend": self.backend,
            "jobs": self.jobs,
            "seconds": round(self.seconds, 4),
            "pairs": [
                {
                    "x": s.x, "y": s.y, "mi": to_unit(s.mi, self.unit), "n_used": s.n_used,
                    "p_value": s.p_value, "null_p95": to_unit(s.null_p95, self.unit),
                    "seconds": round(s.seconds, 4), "note": s.note,
                }
                for s in self.scores
            ],
            "warnings": self.warnings,
        }

    def matrix(self) -> tuple[list[str], np.ndarray]:
        """Symmetric MI matrix (report unit) over all columns seen, NaN on the diagonal."""
        names = list(dict.fromkeys([s.x for s in self.scores] + [s.y for s in self.scores]))
        idx = {n: i for i, n in enumerate(names)}
        m = np.full((len(names), len(names)), np.nan)
        for s in self.scores:
            v = np.nan if s.mi is None else to_unit(s.mi, self.unit)
            m[idx[s.x], idx[s.y]] = m[idx[s.y], idx[s.x]] = v
        return names, m


def _score_pair(frame, a: str, b: str, discrete: list[str], estimator: str, k: int,
                seed: int, permutations: int) -> PairScore:
    """One pair: prepare the two columns (missing rows dropped for this pair), estimate, test."""
    from mitool.estimators import run_estimator
    from mitool.inference import knn_permutation

    t0 = time.perf_counter()
    prep = prepare(frame[[a, b]], [a], [b], [c for c in discrete if c in (a, b)], (), seed=seed)
    data = prep.data
    if data.x.shape[1] == 0 or data.y.shape[1] == 0:
        return PairScore(a, b, 0.0, data.n, time.perf_counter() - t0,
                         p_value=1.0 if permutations else None, note="constant column: MI is 0")
    if data.n < k + 1:
        return PairScore(a, b, None, data.n, time.perf_counter() - t0,
                         note=f"only {data.n} complete rows (need more than k={k})")
    r = run_estimator(estimator, data, k=k, seed=seed)
    score = PairScore(a, b, r.mi, data.n, 0.0)
    if permutations and r.mi is not None:
        test = knn_permutation(estimator, data, k, permutations, seed)
        score.p_value, score.null_p95 = test["p_value"], test["null_p95"]
    score.seconds = time.perf_counter() - t0
    return score


@contextlib.contextmanager
def _backend(backend: str, jobs: int, address: str | None):
    """joblib's parallel_config for the chosen backend (ray/dask registered on demand)."""
    import joblib

    if backend == "ray":
        try:
            from ray.util.joblib import register_ray
        except ImportError:
            raise UsageError("--backend ray needs Ray: pip install 'mitool[distributed-ray]'") from None
        register_ray()
        with joblib.parallel_config(backend="ray", n_jobs=jobs):
            yield
    elif backend == "dask":
        try:
            from dask.distributed import Client
        except ImportError:
            raise UsageError(
                "--backend dask needs dask.distributed: pip install 'mitool[distributed-dask]'"
            ) from None
        client = Client(address) if address else Client(processes=False)
        try:
            with joblib.parallel_config(backend="dask", n_jobs=jobs):
                yield
        finally:
            client.close()
    else:
        with joblib.parallel_config(backend=backend, n_jobs=jobs):
            yield


def pairs(
    data: Any,
    target: str | None = None,
    columns: str | list[str] | None = None,
    *,
    estimator: str = "ksg",
    k: int = 3,
    unit: str = "nats",
    discrete: str | list[str] | None = None,
    permutations: int = 0,
    jobs: int = 1,
    backend: str = "loky",
    address: str | None = None,
    max_rows: int | None = None,
    seed: int = 0,
    input_format: str | None = None,
) -> PairsResult:
    """MI of every selected column with ``target`` or, without a target, of every column pair.

    ``columns``: names/globs (default: every column but the target). Sorted by MI, highest
    first. ``jobs``/``backend``: joblib parallelism (loky, threading, ray, dask).
    """
    from mitool.estimation import UNITS, load_frame

    t0 = time.perf_counter()
    if estimator not in PAIR_ESTIMATORS:
        raise UsageError(
            f"pairs supports the k-NN estimators ({', '.join(PAIR_ESTIMATORS)}), not '{estimator}'"
        )
    if unit not in UNITS:
        raise UsageError(f"unknown unit '{unit}'; choose nats or bits")
    if backend not in BACKENDS:
        raise UsageError(f"unknown --backend '{backend}'; choose one of: {', '.join(BACKENDS)}")
    if jobs == 0 or jobs < -1:
        raise UsageError("--jobs must be a positive number, or -1 for all cores")
    if k < 1:
        raise UsageError(f"--k must be a positive integer, got {k}")
    if permutations < 0:
        raise UsageError("--permutations must be a non-negative integer")

    col_specs = split_specs(columns) or ["*"]
    tgt = split_specs(target)
    if len(tgt) > 1:
        raise UsageError("--target takes one column")
    frame, cols, tcols, label, _ = load_frame(data, col_specs, tgt or col_specs, input_format)
    if tgt:
        t = tcols[0]
        cols = [c for c in cols if c != t]
        if not cols:
            raise UsageError("no columns to screen besides the target")
        todo = [(c, t) for c in cols]
    else:
        if len(cols) < 2:
            raise UsageError("all-pairs screening needs at least two columns")
        todo = list(combinations(cols, 2))
    if len(frame) == 0:
        raise InputError("the table has a header but no data rows")
    if max_rows is not None and len(frame) > max_rows:
        frame = frame.sample(n=max_rows, random_state=seed).reset_index(drop=True)
    disc = split_specs(discrete)
    for c in disc:
        if c not in frame.columns:
            raise UsageError(f"--discrete '{c}' is not one of the selected columns")

    from joblib import Parallel, delayed

    with _backend(backend, jobs, address):
        scores = Parallel()(
            delayed(_score_pair)(frame, a, b, disc, estimator, k, seed, permutations)
            for a, b in todo
        )
    scores.sort(key=lambda s: -np.inf if s.mi is None else -s.mi)
    warnings = [f"{s.x} ~ {s.y}: {s.note}" for s in scores if s.note]
    return PairsResult(
        path=label, target=tgt[0] if tgt else None, estimator=estimator, unit=unit, k=k,
        seed=seed, n_rows=len(frame), permutations=permutations, scores=scores,
        seconds=time.perf_counter() - t0, backend=backend, jobs=jobs, warnings=warnings,
    )
