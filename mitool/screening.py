"""``mitool.pairs``: screen many columns for dependence, one MI estimate per pair.

The table is read and typed once (``mitool.data.kinds``); columns that are empty, all
missing or constant are skipped and named. The typed columns go to the workers once — a
memory-mapped file for local processes, one object in the cluster's store for Ray
(``ray.put``) and Dask (``scatter``) — and tasks carry only column indices. Each pair gets
its own seed from (seed, i, j), so results do not depend on the backend, the number of
workers or the order the tasks finish in. Tasks are chunks of pairs, biggest first.

``refine``: score every pair with a cheap ``prescreen`` estimator, then only the ``refine``
highest pairs with ``estimator`` (for 1,000+ columns, or neural estimators).

``given``: score I(X_i; target | Z) instead, Z the given columns (conditional estimators,
``auto-cmi`` by default; p-values from the local permutation test). A column then ranks by
what it adds to Z: a near-copy of a given column drops to the bottom.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

from mitool import __version__
from mitool.data.columns import split_specs
from mitool.data.kinds import FEW_VALUES, ColumnKind, TypedColumn, check_levels, classify
from mitool.data.loading import TableOptions, flatten_columns, load_frame
from mitool.errors import InputError, MitoolError, UsageError, names_parameters
from mitool.estimators.base import PreparedData, ProgressCallback, RunOptions
from mitool.estimators.config import KnnConfig, NeuralConfig
from mitool.inference import InferenceSpec

SCHEMA_VERSION = 3  # 3: given, conditional, quantity, k_perm (with given); 2: q_value, ...
BACKENDS = ("loky", "threading", "ray", "dask")
MAX_LISTED = 10  # warnings name at most this many pairs/columns, then count the rest


@dataclass
class PairScore:
    """One pair's result; MI values in the result's unit."""

    x: str
    y: str
    mi: float | None
    n_used: int
    seconds: float
    estimator: str
    mi_raw: float | None = None
    p_value: float | None = None
    q_value: float | None = None
    null_p95: float | None = None
    prescreen_mi: float | None = None
    method: str | None = None
    note: str | None = None
    # H of each all-discrete column of the pair in nats (None: continuous), as caps.py
    entropies: tuple[float | None, float | None] = (None, None)

    def normalized(self, unit: str) -> dict[str, float | None]:
        """The score on a 0-1 scale (``mitool.normalize``) with the entropies in ``unit``,
        the unit ``mi`` is in."""
        from mitool.normalize import normalized
        from mitool.units import to_nats, to_unit

        h_x, h_y = self.entropies
        return {"H_x": to_unit(h_x, unit), "H_y": to_unit(h_y, unit),
                **normalized(to_nats(self.mi, unit), h_x, h_y)}

    def to_dict(self) -> dict[str, Any]:
        return {
            "x": self.x, "y": self.y, "mi": self.mi, "mi_raw": self.mi_raw,
            "estimator": self.estimator, "n_used": self.n_used, "p_value": self.p_value,
            "q_value": self.q_value, "null_p95": self.null_p95,
            "prescreen_mi": self.prescreen_mi, "seconds": round(self.seconds, 4),
            "method": self.method, "note": self.note,
        }


@dataclass
class PairsResult:
    """All pair scores, highest MI first (pairs without an estimate last)."""

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
    skipped: list[dict[str, str]] = field(default_factory=list)
    columns: list[dict[str, Any]] = field(default_factory=list)
    prescreen: str | None = None
    refine: int | None = None
    given: list[str] | None = None  # the conditioning columns Z of I(X;Y|Z); None: I(X;Y)
    k_perm: int | None = None  # with given and permutations: the local permutation's k

    def to_dict(self, normalized: bool = False) -> dict[str, Any]:
        """The versioned JSON report; with ``normalized``, each pair's 0-1 readings."""
        return {
            "schema_version": SCHEMA_VERSION,
            "mitool_version": __version__,
            "command": "pairs",
            "input": {"path": self.path, "n_rows": self.n_rows},
            "target": self.target,
            "estimator": self.estimator,
            "prescreen": self.prescreen,
            "refine": self.refine,
            **({"given": self.given, "conditional": True, "quantity": "I(X;Y|Z)"}
               if self.given is not None else {}),
            "unit": self.unit,
            "k": self.k,
            "seed": self.seed,
            "permutations": self.permutations,
            "p_values": self._p_values(),
            **({"k_perm": self.k_perm} if self.given is not None and self.permutations
               else {}),
            "backend": self.backend,
            "jobs": self.jobs,
            "seconds": round(self.seconds, 4),
            "columns": self.columns,
            "skipped": self.skipped,
            "pairs": [{**s.to_dict(), **({"normalized": s.normalized(self.unit)}
                                         if normalized else {})} for s in self.scores],
            "warnings": self.warnings,
        }

    def _p_values(self) -> str | None:
        if not self.permutations:
            return None
        test = ("per pair, a local permutation test (X redrawn among the k_perm rows nearest "
                "in the given columns)" if self.given is not None else "per pair")
        return f"{test}; q_value is the Benjamini-Hochberg adjusted p-value over all pairs tested"

    def matrix(self) -> tuple[list[str], np.ndarray]:
        """Symmetric MI matrix (report unit) over all columns seen, NaN on the diagonal."""
        names = list(dict.fromkeys([s.x for s in self.scores] + [s.y for s in self.scores]))
        idx = {n: i for i, n in enumerate(names)}
        m = np.full((len(names), len(names)), np.nan)
        for s in self.scores:
            v = np.nan if s.mi is None else s.mi
            m[idx[s.x], idx[s.y]] = m[idx[s.y], idx[s.x]] = v
        return names, m


# ----------------------------------------------------------------------------- the columns

@dataclass
class Columns:
    """The screened columns, typed once: what every worker needs besides the arrays."""

    names: list[str]
    info: list[ColumnKind]
    discrete: list[bool]
    has_numeric: list[bool]  # discrete columns whose levels are numbers (see check_levels)
    coded: list[str | None] = field(default_factory=list)  # a pair row's note: read as codes


@dataclass(frozen=True)
class PairSettings:
    estimator: str
    k: int
    permutations: int
    neural: NeuralConfig
    transform: str
    parent_pid: int  # workers in other processes leave Ctrl-C to this one
    given: tuple[int, ...] = ()  # column indices of Z
    conditional: bool = False  # I(X;Y|Z) (Z may be empty: selection's first step)
    k_perm: int = 5


def _type_columns(frame, names: list[str], discrete: list[str], continuous: list[str],
                  decimal: str, thousands: str | None):
    """(values (n, c), numeric (n, c), Columns, warnings, skipped) for the kept columns."""
    kept, infos, disc, has_num, vals, nums, coded = [], [], [], [], [], [], []
    warnings: list[str] = []
    skipped: list[dict[str, str]] = []
    codes: list[str] = []
    n = len(frame)
    for c in names:
        declared = "discrete" if c in discrete else "continuous" if c in continuous else None
        try:
            col = classify(frame[c], c, declared, decimal=decimal, thousands=thousands)
            levels = _code_levels(col) if declared is None else None
            if levels is not None:  # a small-integer code: its MI is the contingency one
                col = classify(frame[c], c, "discrete", decimal=decimal, thousands=thousands)
                col.info.reason = (f"numeric with {levels} integer levels: read as discrete "
                                   f"codes (--continuous {c} reads it as a number)")
                codes.append(f"{c} ({levels})")
        except InputError as exc:
            skipped.append({"column": c, "reason": str(exc)})
            continue
        v = col.values
        present = v[~np.isnan(v)]
        if present.size == 0:
            skipped.append({"column": c, "reason": "empty or all missing"})
            continue
        if np.all(present == present[0]):
            skipped.append({"column": c, "reason": "constant: carries no information"})
            continue
        warnings.extend(col.warnings)
        kept.append(c)
        infos.append(col.info)
        disc.append(col.discrete)
        has_num.append(col.numeric_values is not None)
        vals.append(v)
        nums.append(col.numeric_values if col.numeric_values is not None else np.full(n, np.nan))
        coded.append(f"{c} read as discrete codes" if levels is not None else None)
    if codes:
        warnings.append(
            f"{len(codes)} numeric column(s) with at most {FEW_VALUES} integer levels read as "
            f"discrete codes, so their MI is the contingency (or Ross) MI of the levels: "
            f"{', '.join(codes[:MAX_LISTED])}{', ...' if len(codes) > MAX_LISTED else ''}; "
            "--continuous NAME reads one as a number")
    values = np.column_stack(vals) if vals else np.empty((n, 0))
    numeric = np.column_stack(nums) if nums else np.empty((n, 0))
    return values, numeric, Columns(kept, infos, disc, has_num, coded), warnings, skipped


def _checked_frame(frame, names: list[str], table: TableOptions, seed: int):
    """The loaded frame once the table options agree with it: every --discrete/--continuous
    column among ``names``, at least one data row, and at most ``max_rows`` rows (a seeded
    sample). Shared by ``pairs`` and ``select``."""
    for param, named in (("discrete", table.discrete_columns),
                         ("continuous", table.continuous_columns)):
        for c in named:
            if c not in names:
                raise UsageError(f"{{param}} '{c}' is not one of the selected columns",
                                 parameter=param, function="TableOptions")
    if len(frame) == 0:
        raise InputError("the table has a header but no data rows")
    max_rows = table.max_rows
    if max_rows is not None:
        if not isinstance(max_rows, int) or max_rows < 1:
            raise UsageError(f"{{param}} must be a positive integer, got {max_rows}",
                             function="TableOptions", parameter="max_rows")
        if len(frame) > max_rows:
            frame = frame.sample(n=max_rows, random_state=seed).reset_index(drop=True)
    return frame


def _code_levels(col) -> int | None:
    """The number of levels of a numeric column that looks like a code (2 to FEW_VALUES
    distinct integers), else None. k-NN on such a column reads the MI of the levels spread
    over their steps, which can be several times below the contingency MI of the codes."""
    if col.discrete or col.info.source not in ("numeric", "text"):
        return None
    present = col.values[~np.isnan(col.values)]
    distinct = np.unique(present)
    if 1 < distinct.size <= FEW_VALUES and bool(np.all(distinct == np.round(distinct))):
        return int(distinct.size)
    return None


def pair_seed(seed: int, i: int, j: int) -> int:
    """A seed per pair, the same whatever runs it (SeedSequence mixes the three numbers)."""
    return int(np.random.SeedSequence([seed, i, j]).generate_state(1)[0])


# ----------------------------------------------------------------------------- one pair

def score_pair(values: np.ndarray, numeric: np.ndarray, cols: Columns, i: int, j: int,
               settings: PairSettings, seed: int) -> PairScore:
    """Estimate I(column i; column j) (given the columns ``settings.given`` when
    ``settings.conditional``) on the rows where all of them are present (MI in nats)."""
    from mitool.estimators.caps import apply_cap, entropy_cap, side_entropies
    from mitool.estimators.registry import run_estimator
    from mitool.inference import InferenceSpec, attach_inference

    t0 = time.perf_counter()
    a, b = cols.names[i], cols.names[j]
    va, vb = np.asarray(values[:, i]), np.asarray(values[:, j])
    keep = ~np.isnan(va) & ~np.isnan(vb)
    for g in settings.given:
        keep &= ~np.isnan(np.asarray(values[:, g]))
    rows = np.flatnonzero(keep)
    n = int(rows.size)
    est = settings.estimator

    def done(mi=None, note=None, **kw) -> PairScore:
        return PairScore(a, b, mi, n, time.perf_counter() - t0, est, note=note, **kw)

    if n < settings.k + 2:
        both = "every value of the pair and the given columns" if settings.given else "both values"
        return done(note=f"only {n} rows have {both} (need more than k + 1 = "
                         f"{settings.k + 1})")
    typed = []
    for idx, v in ((i, va), (j, vb)):
        col = TypedColumn(v, _copy_info(cols.info[idx]),
                          np.asarray(numeric[:, idx]) if cols.has_numeric[idx] else None)
        try:
            typed.append(check_levels(col, rows))
        except InputError as exc:
            return done(note=str(exc))
    xa, xb = typed[0].values[rows], typed[1].values[rows]
    if np.all(xa == xa[0]) or np.all(xb == xb[0]):
        return done(mi=0.0, note="constant on the rows both columns share: MI is 0",
                    mi_raw=0.0, p_value=1.0 if settings.permutations else None)

    def block(t: TypedColumn, v: np.ndarray) -> np.ndarray:
        if t.discrete:
            v = np.unique(v, return_inverse=True)[1].astype(np.float64)
        return v[:, None]

    data = PreparedData(block(typed[0], xa), block(typed[1], xb), [a], [b],
                        np.array([typed[0].discrete]), np.array([typed[1].discrete]))
    if settings.conditional:
        try:
            data = _with_given(data, values, numeric, cols, settings.given, rows, block)
        except InputError as exc:
            return done(note=str(exc))
    try:
        opts = RunOptions(k=settings.k, seed=seed, neural=settings.neural,
                          permutations=settings.permutations, transform=settings.transform)
        r = run_estimator(est, data, opts)
        attach_inference(r, data, opts,
                         InferenceSpec(settings.permutations, 0, settings.k_perm))
        entropies = side_entropies(data)
        apply_cap(r, entropy_cap(data, entropies))  # never above what a discrete side carries
    except MitoolError as exc:
        return done(note=str(exc))
    if not r.applicable:
        return done(note=r.reason)
    d = r.details
    said = [cols.coded[x] for x in (i, j) if cols.coded and cols.coded[x]] + list(r.warnings)
    note = "; ".join(said) if said else None
    return done(mi=r.mi, note=note, mi_raw=d.get("mi_raw", r.mi), p_value=d.get("p_value"),
                entropies=entropies,
                null_p95=d.get("null_p95"),
                method=d.get("method") or d.get("bound") or d.get("chosen"))


def _with_given(data: PreparedData, values: np.ndarray, numeric: np.ndarray, cols: Columns,
                given: tuple[int, ...], rows: np.ndarray, block) -> PreparedData:
    """``data`` with the given columns as Z on ``rows``; a given column constant on these
    rows conditions on nothing and is left out (Z may end up (n, 0): plain I(X;Y))."""
    import dataclasses

    blocks, names, disc = [], [], []
    for g in given:
        col = TypedColumn(np.asarray(values[:, g]), _copy_info(cols.info[g]),
                          np.asarray(numeric[:, g]) if cols.has_numeric[g] else None)
        t = check_levels(col, rows)
        v = t.values[rows]
        if np.all(v == v[0]):
            continue
        blocks.append(block(t, v))
        names.append(cols.names[g])
        disc.append(t.discrete)
    z = np.hstack(blocks) if blocks else np.empty((rows.size, 0))
    return dataclasses.replace(data, z=z, z_names=names, z_discrete=np.array(disc, dtype=bool),
                               memo={})


def _copy_info(info: ColumnKind) -> ColumnKind:
    return ColumnKind(info.name, info.kind, info.source, info.reason, info.n_missing,
                      info.n_unparsable, None, list(info.notes))


def _score_chunk(values, numeric, cols: Columns, chunk: list[tuple[int, int, int]],
                 settings: PairSettings) -> list[PairScore]:
    """Score a chunk of pairs (i, j, seed) in a worker; Ctrl-C is the parent's business
    (a worker process ignores it, so one line, not a traceback per worker, reports it)."""
    if os.getpid() != settings.parent_pid:
        with contextlib.suppress(ValueError):  # only possible in a process's main thread
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        _quiet_threads()
    return [score_pair(values, numeric, cols, i, j, settings, s) for i, j, s in chunk]


def _quiet_threads() -> None:
    """One thread per worker (torch, the compiled k-NN kernels): the workers already use
    every core between them."""
    import sys

    from mitool.estimators.neighbours import set_threads

    set_threads(1)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


# ----------------------------------------------------------------------------- running

def _chunks(todo: list[tuple[int, int, int]], cost: list[float], workers: int
            ) -> list[list[tuple[int, int, int]]]:
    """Pairs into chunks (about 8 per worker, at most 64 pairs), biggest cost first."""
    order = sorted(range(len(todo)), key=lambda t: -cost[t])
    per = max(1, min(64, math.ceil(len(todo) / max(1, 8 * workers))))
    ordered = [todo[t] for t in order]
    return [ordered[s:s + per] for s in range(0, len(ordered), per)]


@contextlib.contextmanager
def _shared_arrays(values: np.ndarray, numeric: np.ndarray, backend: str
                   ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Local process workers read the arrays from one memory-mapped file, not a pickle each."""
    if backend != "loky":
        yield values, numeric
        return
    with tempfile.TemporaryDirectory(prefix="mitool-pairs-") as tmp:
        out = []
        for name, arr in (("values", values), ("numeric", numeric)):
            path = os.path.join(tmp, f"{name}.npy")
            np.save(path, np.ascontiguousarray(arr))
            out.append(np.load(path, mmap_mode="r"))
        yield out[0], out[1]
        del out


def _run(chunks, values, numeric, cols, settings, backend, jobs, address,
         progress: ProgressCallback | None, total: int, stage: str) -> list[PairScore]:
    results: list[PairScore] = []
    done = 0

    def tick(batch: list[PairScore]) -> None:
        nonlocal done
        results.extend(batch)
        done += len(batch)
        if progress is not None:
            progress(done, total, {"stage": stage})

    if progress is not None:
        progress(0, total, {"stage": stage})
    if backend in ("loky", "threading"):
        from joblib import Parallel, delayed

        with _shared_arrays(values, numeric, backend) as (v, num):
            run = Parallel(n_jobs=jobs, backend=backend, return_as="generator_unordered")
            for batch in run(delayed(_score_chunk)(v, num, cols, c, settings) for c in chunks):
                tick(batch)
    elif backend == "ray":
        _run_ray(chunks, values, numeric, cols, settings, jobs, address, tick)
    else:
        _run_dask(chunks, values, numeric, cols, settings, jobs, address, tick)
    return results


def _run_ray(chunks, values, numeric, cols, settings, jobs, address, tick) -> None:
    try:
        import ray
    except ImportError:
        raise UsageError("{param} ray needs Ray: pip install 'mitool[distributed-ray]'",
                         parameter="backend", function="Parallel") from None
    started = not ray.is_initialized()
    if started:
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                  "configure_logging": False}
        if address and address != "auto":
            _check_reachable(address, "the Ray cluster")
        try:
            if address:
                ray.init(address=address, **kwargs)
            else:
                ray.init(num_cpus=jobs if jobs > 0 else None, **kwargs)
        except (ConnectionError, RuntimeError, ValueError, SystemExit) as exc:
            where = f"the Ray cluster at '{address}'" if address else "a local Ray instance"
            raise UsageError(f"cannot connect to {where}: {' '.join(str(exc).split())[:300]}"
                             ) from None
    try:
        remote = ray.remote(num_cpus=1)(_score_chunk)
        v_ref, n_ref, c_ref = ray.put(values), ray.put(numeric), ray.put(cols)
        pending = [remote.remote(v_ref, n_ref, c_ref, c, settings) for c in chunks]
        try:
            while pending:
                ready, pending = ray.wait(pending, num_returns=1)
                for ref in ready:
                    tick(ray.get(ref))
        except BaseException:
            for ref in pending:
                with contextlib.suppress(Exception):
                    ray.cancel(ref, force=True)
            raise
    finally:
        if started:
            ray.shutdown()


def _check_reachable(address: str, what: str, timeout: float = 5.0) -> None:
    """Fail in seconds, with the address named, when nothing listens there (Ray itself
    retries for minutes before giving up)."""
    import socket

    target = address.split("://", 1)[-1]
    host, _, port = target.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout):
            pass
    except ValueError:
        raise UsageError(f"{{param}} '{address}' is not host:port",
                         parameter="address", function="Parallel") from None
    except OSError as exc:
        raise UsageError(f"cannot connect to {what} at '{address}': "
                         f"{exc.strerror or exc} (is it running?)") from None


def _run_dask(chunks, values, numeric, cols, settings, jobs, address, tick) -> None:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise UsageError(
            "--backend dask needs dask.distributed: pip install 'mitool[distributed-dask]'"
        ) from None
    cluster = None
    try:
        if address:
            client = Client(address, timeout="10s")
        else:
            cluster = LocalCluster(n_workers=jobs if jobs > 0 else None, threads_per_worker=1,
                                   processes=True, dashboard_address=None)
            client = Client(cluster)
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        where = f"the Dask scheduler at '{address}'" if address else "a local Dask cluster"
        raise UsageError(f"cannot connect to {where}: {' '.join(str(exc).split())[:300]}"
                         ) from None
    try:
        v_f, n_f, c_f = client.scatter([values, numeric, cols], broadcast=True)
        futures = client.map(_score_chunk, [v_f] * len(chunks), [n_f] * len(chunks),
                             [c_f] * len(chunks), chunks, [settings] * len(chunks), pure=False)
        try:
            for fut in as_completed(futures):
                tick(fut.result())
        except BaseException:
            client.cancel(futures)
            raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# ----------------------------------------------------------------------------- the API

@dataclass(frozen=True)
class Parallel:
    """Where the pairs are scored: ``jobs`` workers (-1: every core) on ``backend`` (loky:
    local processes, threading, ray or dask; ``address``: a running Ray or Dask cluster,
    a local one without it)."""

    jobs: int = 1
    backend: str = "loky"
    address: str | None = None

    def validate(self) -> None:
        if self.backend not in BACKENDS:
            raise UsageError(f"{{param}} '{self.backend}' is not a backend; choose one of: "
                             f"{', '.join(BACKENDS)}", function="Parallel", parameter="backend")
        if not isinstance(self.jobs, int) or self.jobs == 0 or self.jobs < -1:
            raise UsageError("{param} must be a positive number, or -1 for all cores",
                             function="Parallel", parameter="jobs")


@names_parameters("pairs")
def pairs(
    data: Any,
    target: str | None = None,
    columns: str | list[str] | None = None,
    estimator: str | None = None,
    *,
    given: str | list[str] | None = None,
    seed: int = 0,
    unit: str = "nats",
    table: TableOptions | None = None,
    knn: KnnConfig | None = None,
    neural: NeuralConfig | None = None,
    inference: InferenceSpec | None = None,
    prescreen: str | None = None,
    refine: int | None = None,
    parallel: Parallel | None = None,
    progress: ProgressCallback | None = None,
) -> PairsResult:
    """MI of every selected column with ``target`` or, without a target, of every column pair;
    with ``given``, the conditional MI given those columns.

    Parameters
    ----------
    data : a CSV/TSV/Parquet path, raw bytes or a pandas DataFrame.
    target : the column every other is scored against; None: every pair of columns.
    columns : names/globs to screen (default: every column but the target).
    estimator : one registered estimator (k-NN, ``gcmi``, neural; default ``ksg``); with
        ``given`` one that estimates I(X;Y|Z) (default ``auto-cmi``).
    given : names/globs of conditioning columns Z: each column is scored by I(X;Y|Z), what
        it tells about the target beyond Z; Z is left out of the candidates, and with
        ``inference`` the p-values come from the local permutation test (``k_perm``).
    seed : every pair derives its own seed from it (the same on every backend).
    unit : "nats" or "bits".
    table : how the table is read and typed (``TableOptions``).
    knn : k, transform and neighbour search of the k-NN estimators (``KnnConfig``).
    neural : training settings when ``estimator`` is neural (``NeuralConfig``).
    inference : ``InferenceSpec(permutations=N)`` gives a p-value per pair and
        Benjamini-Hochberg q-values over all pairs (intervals are not computed here).
    prescreen, refine : score every pair with the cheap ``prescreen`` estimator, then only
        the ``refine`` highest with ``estimator`` (module docstring).
    parallel : workers and backend (``Parallel``).
    progress : ``(done, total, fields)`` callback.

    Returns
    -------
    PairsResult : pairs sorted by MI, highest first; pairs without an estimate (see their
        ``note``) last; ``.to_dict()`` is the JSON report.

    Examples
    --------
    >>> import mitool
    >>> r = mitool.pairs("sample_data/wine.csv", target="target")
    >>> r.scores[0].x
    'flavanoids'
    >>> r = mitool.pairs("sample_data/wine.csv", target="target", given="flavanoids")
    >>> r.to_dict()["quantity"]
    'I(X;Y|Z)'
    >>> from mitool.screening import Parallel
    >>> r = mitool.pairs(df, parallel=Parallel(jobs=-1, backend="dask"))
    """
    from mitool.estimators import parse_estimators
    from mitool.units import check_unit, to_unit

    t0 = time.perf_counter()
    table = table or TableOptions()
    knn = knn or KnnConfig()
    knn.validate()
    spec = inference or InferenceSpec()
    spec.validate()
    par = parallel or Parallel()
    par.validate()
    # CMI: normal scores by default, as in ``estimate`` with Z (heavy tails cost k-NN CMI)
    permutations, k = spec.permutations, knn.k
    transform = knn.transform or ("copula" if given is not None else "standardize")
    jobs, backend, address = par.jobs, par.backend, par.address
    conditional = given is not None
    if estimator is None:
        estimator = "auto-cmi" if conditional else "ksg"
    (estimator,) = _one_estimator(estimator, "estimator", parse_estimators, conditional)
    if prescreen is not None:
        (prescreen,) = _one_estimator(prescreen, "prescreen", parse_estimators, conditional)
    if refine is not None and (not isinstance(refine, int) or refine < 1):
        raise UsageError(f"{{param}} must be a positive integer, got {refine}",
                         parameter="refine")
    if refine is not None and prescreen is None:
        # milliseconds per pair: the natural first pass
        prescreen = "gcmi-cmi" if conditional else "gcmi"
    if prescreen is not None and prescreen == estimator:
        raise UsageError(f"--prescreen {prescreen} is the --estimator itself: --refine re-scores "
                         "the top pairs of a cheaper estimator with a better one")
    if prescreen is not None and refine is None:
        raise UsageError("{param} needs --refine N (how many top pairs to re-score)",
                         parameter="prescreen")
    check_unit(unit)
    workers = (os.cpu_count() or 1) if jobs == -1 else jobs

    if table.datetime_parts:
        raise UsageError("{param} works with estimate only for now; add the parts as columns "
                         "of the table to screen them", parameter="datetime_parts",
                         function="TableOptions")
    data, table, columns, target, given = flatten_columns(data, table, columns, target, given)
    col_specs = split_specs(columns) or ["*"]
    tgt = split_specs(target)
    if len(tgt) > 1:
        raise UsageError("{param} takes one column", parameter="target")
    given_specs = split_specs(given) if conditional else None
    if conditional and not given_specs:
        raise UsageError("{param} names no column", parameter="given")
    disc, cont = table.discrete_columns, table.continuous_columns
    loaded = load_frame(data, col_specs, tgt or col_specs, table.input_format, set(cont),
                        table.csv, columns_z=given_specs)
    frame, names, tnames = loaded.frame, loaded.x, loaded.y
    zs: list[str] = list(dict.fromkeys(loaded.z or []))
    if tgt and tnames[0] in zs:
        raise UsageError(f"{{param}} '{tnames[0]}' is the target: I(X;Y|Y) is 0 for every "
                         "column; drop it from --given", parameter="given")
    if tgt:
        names = [c for c in names if c != tnames[0] and c not in zs] + zs + [tnames[0]]
    else:
        names = [c for c in names if c not in zs] + zs
    frame = _checked_frame(frame, names, table, seed)

    values, numeric, cols, warnings, skipped = _type_columns(
        frame, names, disc, cont, loaded.decimal, loaded.thousands)
    warnings = list(loaded.notes) + warnings
    if skipped:
        shown = "; ".join(f"'{s['column']}' ({s['reason']})" for s in skipped[:MAX_LISTED])
        more = f"; and {len(skipped) - MAX_LISTED} more" if len(skipped) > MAX_LISTED else ""
        warnings.append(f"skipped {len(skipped)} column(s): {shown}{more}")
    index = {c: i for i, c in enumerate(cols.names)}
    given_idx, zs = _given_columns(zs, index, skipped, warnings)
    if tgt:
        t = tnames[0]
        if t not in index:
            reason = next(s["reason"] for s in skipped if s["column"] == t)
            raise InputError(f"the target '{t}' cannot be screened against: {reason}")
        todo_ij = [(index[c], index[t]) for c in cols.names if c != t and c not in zs]
        if not todo_ij:
            raise UsageError("no columns to screen besides the target"
                             + (" and the --given columns" if zs else ""))
    else:
        free = [i for i, c in enumerate(cols.names) if c not in zs]
        if len(free) < 2:
            raise UsageError("all-pairs screening needs at least two usable columns"
                             + (" besides the --given ones" if zs else ""))
        todo_ij = list(combinations(free, 2))

    present = (~np.isnan(values)).sum(axis=0)
    cfg = neural or NeuralConfig()

    def screen(name: str, ij: list[tuple[int, int]], stage: str) -> list[PairScore]:
        todo = [(i, j, pair_seed(seed, i, j)) for i, j in ij]
        cost = [float(min(present[i], present[j])) for i, j in ij]
        chunks = _chunks(todo, cost, workers)
        settings = PairSettings(name, k, permutations, cfg, transform, os.getpid(),
                                given=tuple(given_idx), conditional=conditional,
                                k_perm=spec.k_perm)
        got = _run(chunks, values, numeric, cols, settings, backend, jobs, address, progress,
                   len(todo), stage)
        # back in the order of the pairs, whatever order the workers finished in, so that
        # ties in the ranking break the same way on every backend
        position = {(cols.names[i], cols.names[j]): t for t, (i, j) in enumerate(ij)}
        return sorted(got, key=lambda sc: position[(sc.x, sc.y)])

    first = prescreen if prescreen is not None else estimator
    scores = screen(first, todo_ij, f"pairs ({first})")
    if prescreen is not None:
        by_pair = {(s.x, s.y): s for s in scores}
        ranked = sorted(scores, key=_rank_key)
        top = [(index[s.x], index[s.y]) for s in ranked[:refine] if s.mi is not None]
        refined = {(s.x, s.y): s for s in screen(estimator, top, f"pairs ({estimator})")}
        scores = []
        for key, pre in by_pair.items():
            s = refined.get(key) or PairScore(pre.x, pre.y, None, pre.n_used, 0.0, estimator,
                                              note=pre.note)
            s.prescreen_mi = pre.mi
            scores.append(s)
    _attach_q_values(scores)
    scores.sort(key=_rank_key)
    for s in scores:  # one unit everywhere on the result object
        s.mi, s.mi_raw, s.null_p95, s.prescreen_mi = (
            to_unit(v, unit) for v in (s.mi, s.mi_raw, s.null_p95, s.prescreen_mi))
    noted = [s for s in scores if s.mi is None and s.note]
    if noted:
        shown = "; ".join(f"{s.x} ~ {s.y}: {s.note}" for s in noted[:MAX_LISTED])
        more = f"; and {len(noted) - MAX_LISTED} more" if len(noted) > MAX_LISTED else ""
        warnings.append(f"{len(noted)} pair(s) have no estimate: {shown}{more}")
    return PairsResult(
        path=loaded.label, target=tgt[0] if tgt else None, estimator=estimator, unit=unit,
        k=k, seed=seed, n_rows=len(frame), permutations=permutations, scores=scores,
        seconds=time.perf_counter() - t0, backend=backend, jobs=jobs, warnings=warnings,
        skipped=skipped, columns=[c.to_dict() for c in cols.info], prescreen=prescreen,
        refine=refine, given=zs if conditional else None,
        k_perm=spec.k_perm if conditional and permutations else None,
    )


def _given_columns(zs: list[str], index: dict[str, int], skipped: list[dict[str, str]],
                   warnings: list[str]) -> tuple[list[int], list[str]]:
    """The indices of the given columns that were typed; a constant one conditions on
    nothing and is dropped with a warning, any other unusable one is refused."""
    kept: list[int] = []
    names: list[str] = []
    for c in zs:
        if c in index:
            kept.append(index[c])
            names.append(c)
            continue
        reason = next(s["reason"] for s in skipped if s["column"] == c)
        if reason.startswith("constant"):
            warnings.append(f"--given column '{c}' is constant: conditioning on it changes "
                            "nothing, so it is left out of Z")
            continue
        raise InputError(f"cannot condition on the --given column '{c}': {reason}")
    return kept, names


def _one_estimator(spec, param: str, parse, conditional: bool = False) -> list[str]:
    try:
        names = parse(spec, conditional=conditional)
    except UsageError as exc:  # here Z is --given (given=), not estimate's --z
        exc.template = exc.template.replace("--z", "--given")
        exc.parameter = param
        raise
    if len(names) != 1:
        raise UsageError(f"{{param}} takes one estimator, got {', '.join(names)}",
                         parameter=param)
    return names


def _rank_key(s: PairScore):
    """Highest MI first; then, without an MI, by the prescreen value; no estimate last."""
    if s.mi is not None:
        return (0, -s.mi)
    if s.prescreen_mi is not None:
        return (1, -s.prescreen_mi)
    return (2, 0.0)


def _attach_q_values(scores: list[PairScore]) -> None:
    """Benjamini-Hochberg adjusted p-values over every pair that has a p-value."""
    tested = [s for s in scores if s.p_value is not None]
    if not tested:
        return
    from scipy.stats import false_discovery_control

    q = false_discovery_control([s.p_value for s in tested], method="bh")
    for s, v in zip(tested, q, strict=True):
        s.q_value = float(v)
