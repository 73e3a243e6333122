"""Time series: lagged MI I(X(t-L); Y(t)) and transfer entropy, as library calls.

Why a use case of its own: both are ordinary (conditional) MI on a *lagged view* of the table
(``mitool.data.lagged``), so each builds that view and hands it to ``mitool.estimate`` — the
same estimators, kinds, warnings and intervals as any estimate. What is new is the order in
time (``time=``, gaps refused or dropped) and, for transfer entropy, a significance test that
keeps each series' own dynamics: time-shift surrogates, which circularly shift the source
series by a random offset (a row shuffle would destroy the source's autocorrelation and
reject for any autocorrelated pair).

- ``lagged_mi(data, x, y, lag=L)``: one lag, the ``estimate`` report with ``lag`` added.
- ``lag_scan(data, x, y, lags="0:10")``: one row per lag and the best lag.
- ``transfer_entropy(data, x, y, history="k,l")``: TE(X→Y) and TE(Y→X) in one report.
"""

from __future__ import annotations

import dataclasses
import time as _time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mitool import __version__
from mitool.data.columns import resolve_columns, split_specs
from mitool.data.lagged import (
    GAP_CHOICES,
    TimeGrid,
    lag_name,
    lagged_frame,
    parse_history,
    parse_lags,
    row_grid,
    time_grid,
)
from mitool.data.loading import TableOptions, flatten_columns, load_frame
from mitool.data.tables import CsvOptions
from mitool.errors import InputError, UsageError, names_parameters
from mitool.estimation import EstimateResult, current_progress, estimate
from mitool.estimators.config import KnnConfig, NeuralConfig
from mitool.gate import DEFAULT_PERMUTATIONS, GateSpec, evaluate_gate
from mitool.inference import InferenceSpec, half_sampling_interval, null_summary

TE_SCHEMA_VERSION = 2  # 2: intervals (--bootstrap), block half-sampling
MIN_PAIRS = 10  # fewer lagged rows than this is no series to estimate on
TE_DEFAULT = "auto-cmi"


@dataclass
class Series:
    """A table read as a time series: the selected columns, their order in time, and how
    they were read (``load_series``)."""

    frame: Any  # pandas DataFrame, the selected columns in file order
    grid: TimeGrid
    x: list[str]
    y: list[str]
    z: list[str] | None
    time: str | None
    gaps: str
    label: str
    format: str
    decimal: str
    thousands: str | None
    warnings: list[str] = field(default_factory=list)

    def info(self, n_pairs: int) -> dict[str, Any]:
        """The ``series`` block of a report: how rows became pairs in time."""
        return {"time": self.time, "n_rows": int(len(self.frame)), "n_pairs": n_pairs,
                "gaps": self.gaps, **self.grid.to_dict()}


def load_series(data: Any, x: Any, y: Any, z: Any = None, *, time: str | None = None,
                gaps: str = "refuse", table: TableOptions | None = None) -> Series:
    """Read the X, Y (and Z) columns and the time column, and place the rows in time.

    Refused (``UsageError``, exit 2): a time column that is also in X, Y or Z (it orders the
    rows; it is not a variable), ``gaps`` other than refuse/drop, ``gaps='drop'`` without a
    time column, and a time column with gaps unless ``gaps='drop'`` (a lag of L rows
    across a gap is not L steps: the message says how many steps are missing and the fix).
    """
    table = table or TableOptions()
    data, table, x, y, z = flatten_columns(data, table, x, y, z)
    if gaps not in GAP_CHOICES:
        raise UsageError(f"{{param}} must be 'refuse' or 'drop', not '{gaps}'", parameter="gaps")
    if time is not None and not isinstance(time, str):
        time = str(time)
    if gaps == "drop" and time is None:
        raise UsageError("{param} drop needs a time column (--time COL): without one the rows "
                         "are the steps and there are no gaps to drop", parameter="gaps")
    x_specs, y_specs = split_specs(x), split_specs(y)
    z_specs = split_specs(z) if z is not None else None
    if not x_specs:
        raise UsageError("no X columns given ({param})", parameter="x")
    if not y_specs:
        raise UsageError("no Y columns given ({param})", parameter="y")
    if z_specs is not None and not z_specs:
        raise UsageError("no Z columns given ({param})", parameter="z")
    extra = list(z_specs or []) + ([time] if time is not None else [])
    loaded = load_frame(data, x_specs, y_specs, table.input_format,
                        set(table.continuous_columns), table.csv, numbers_without_pandas=None,
                        columns_z=extra or None)
    frame = loaded.frame
    available = [str(c) for c in frame.columns]
    zs = resolve_columns(z_specs, available, "--z") if z_specs is not None else None
    if time is not None:
        if time not in available:
            raise InputError(f"--time '{time}' is not a column (name it exactly; globs are "
                             "not read here)")
        for flag, cols in (("--x", loaded.x), ("--y", loaded.y), ("--z", zs or [])):
            if time in cols:
                raise UsageError(
                    f"the time column '{time}' is also in {flag}: it orders the rows and "
                    f"cannot also be a variable; take it out of {flag} (for a cycle in time, "
                    "add a column of its parts, or use --datetime-parts without --time)")
    warnings: list[str] = []
    if time is None:
        grid = row_grid(len(frame))
    else:
        grid = time_grid(frame[time], time)
        if grid.n_missing_time:
            warnings.append(f"{grid.n_missing_time} row(s) without a time in '{time}' were "
                            "left out of the series")
        if grid.n_gaps and gaps == "refuse":
            raise InputError(
                f"--time '{time}' has {grid.n_gaps} gap(s): {grid.missing_steps} step(s) of "
                f"{grid.step} missing (the largest gap {grid.largest_gap} steps), so a lag "
                "of L rows would not be L steps; fill the missing rows, or pass --gaps drop "
                "(Python: gaps='drop') to pair only rows exactly L steps apart")
        if grid.n_gaps:
            warnings.append(
                f"--gaps drop: '{time}' has {grid.n_gaps} gap(s) ({grid.missing_steps} "
                f"step(s) of {grid.step} missing); only rows exactly the asked number of "
                "steps apart were paired")
    return Series(frame, grid, list(loaded.x), list(loaded.y), zs, time, gaps, loaded.label,
                  loaded.format, loaded.decimal, loaded.thousands, warnings)


def _lagged_table(series: Series, table: TableOptions,
                  columns: list[tuple[str, int]]) -> TableOptions:
    """The table options for a lagged view: forced kinds follow a column to each of its
    lagged copies; the layout is the source file's (the view is a DataFrame)."""
    def mapped(names: list[str]) -> list[str]:
        out: list[str] = []
        for c in names:
            copies = [lag_name(col, o) for col, o in columns if col == c]
            out.extend(copies or [c])
        return out

    return TableOptions(mapped(table.discrete_columns), mapped(table.continuous_columns),
                        table.max_rows, None,
                        CsvOptions(None, series.decimal, series.thousands, None),
                        table.datetime_parts)


def _check_pairs(n_pairs: int, series: Series, what: str) -> None:
    if n_pairs < MIN_PAIRS:
        raise UsageError(
            f"{what} leaves {n_pairs} row(s) of a series of {series.grid.n}"
            + (f" ({series.grid.missing_steps} step(s) missing)" if series.grid.n_gaps else "")
            + f"; at least {MIN_PAIRS} are needed: use a smaller lag or history")


def _lag_columns(series: Series, lag: int) -> list[tuple[str, int]]:
    cols = [(c, -lag) for c in series.x] + [(c, 0) for c in series.y]
    cols += [(c, 0) for c in series.z or []]
    names = [lag_name(c, o) for c, o in cols]
    if len(set(names)) < len(names):
        raise UsageError("at lag 0 a column in both --x and --y is the same variable twice; "
                         "use a lag other than 0 for a column's own past")
    return cols


def _estimate_lag(series: Series, lag: int, estimators: Any, seed: int, unit: str,
                  table: TableOptions, knn: KnnConfig | None, neural: NeuralConfig | None,
                  inference: InferenceSpec | None, gate: GateSpec | None) -> EstimateResult:
    """``estimate`` on the lagged view of one lag, its report saying so."""
    if isinstance(lag, bool) or not isinstance(lag, (int, np.integer)):
        raise UsageError(f"{{param}} takes an integer number of steps, not {lag!r}",
                         parameter="lag")
    lag = int(lag)
    if abs(lag) >= series.grid.n:
        raise UsageError(f"{{param}} {lag} is not below the series' {series.grid.n} rows: no "
                         "pair is that far apart", parameter="lag")
    cols = _lag_columns(series, lag)
    frame, n_pairs = lagged_frame(series.frame, series.grid, cols)
    _check_pairs(n_pairs, series, f"lag {lag}")
    r = estimate(frame, x=[lag_name(c, -lag) for c in series.x], y=list(series.y),
                 estimators=estimators, z=list(series.z) if series.z is not None else None,
                 seed=seed, unit=unit, table=_lagged_table(series, table, cols), knn=knn,
                 neural=neural, inference=inference, gate=gate)
    r.input.path, r.input.format = series.label, series.format
    r.warnings[:0] = series.warnings
    quantity = f"I(X(t-{lag});Y(t)" if lag >= 0 else f"I(X(t+{-lag});Y(t)"
    r.extra.update({"lag": lag, "quantity": quantity + ("|Z(t))" if series.z else ")"),
                    "series": series.info(n_pairs)})
    return r


@names_parameters("lagged_mi")
def lagged_mi(
    data: Any,
    x: str | list[str],
    y: str | list[str],
    lag: int = 1,
    estimators: str | list[str] | None = None,
    *,
    z: str | list[str] | None = None,
    time: str | None = None,
    gaps: str = "refuse",
    seed: int = 0,
    unit: str = "nats",
    table: TableOptions | None = None,
    knn: KnnConfig | None = None,
    neural: NeuralConfig | None = None,
    inference: InferenceSpec | None = None,
    gate: GateSpec | None = None,
) -> EstimateResult:
    """The lagged MI I(X(t-L); Y(t)) (with ``z``: I(X(t-L); Y(t) | Z(t))) of a table read as
    a time series.

    Parameters
    ----------
    data, x, y, z, estimators, seed, unit, table, knn, neural, inference, gate : as in
        ``mitool.estimate``, which runs on the lagged view.
    lag : L, in steps (rows without ``time``): X is read L steps before Y; negative, after.
    time : a column that orders the rows (numbers or dates/datetimes); its modal spacing is
        the step. It must not also be in X, Y or Z.
    gaps : "refuse" (a time column with missing steps is refused, exit 2) or "drop" (pair
        only rows exactly L steps apart).

    Returns
    -------
    EstimateResult : as ``estimate``'s, with ``extra`` holding ``lag``, ``quantity`` and
        ``series`` (the time column, rows, pairs and gaps); X columns are named ``x(t-L)``.

    Examples
    --------
    >>> import mitool
    >>> r = mitool.lagged_mi("sample_data/var_series.csv", x="x", y="y", lag=1, time="t")
    >>> r.mi, r.extra["lag"]
    """
    table = table or TableOptions()
    series = load_series(data, x, y, z, time=time, gaps=gaps, table=table)
    return _estimate_lag(series, lag, estimators, seed, unit, table, knn, neural, inference,
                         gate)


@dataclass
class LagScanResult:
    """One report for many lags: ``reports[i]`` is the full estimate at ``lags[i]``."""

    lags: list[int]
    reports: list[EstimateResult]
    series: Series
    unit: str
    seed: int
    seconds: float
    warnings: list[str] = field(default_factory=list)

    @property
    def best(self) -> tuple[int, EstimateResult] | None:
        """The lag whose headline is largest (the same estimator at every lag)."""
        scored = [(r.mi, lag, r) for lag, r in zip(self.lags, self.reports, strict=True)
                  if r.mi is not None]
        if not scored:
            return None
        _, lag, r = max(scored, key=lambda t: t[0])
        return lag, r

    def row(self, lag: int, r: EstimateResult) -> dict[str, Any]:
        h = r.headline
        d = {} if h is None else h.details
        return {"lag": lag, "mi": r.mi, "estimator": None if h is None else h.estimator,
                "kind": d.get("kind"), "n_used": r.input.n_used,
                "p_value": d.get("p_value"), "permutations": d.get("permutations"),
                "null_p95": d.get("null_p95"), "ci_low": d.get("ci_low"),
                "ci_high": d.get("ci_high"), "warnings": r.warnings}

    def to_dict(self) -> dict[str, Any]:
        """The versioned JSON report (docs/json-schema.md, ``estimate`` with ``--lags``)."""
        first = self.reports[0]
        best = self.best
        best_doc = None
        if best is not None:
            lag, r = best
            p = r.headline.details.get("p_value") if r.headline else None
            best_doc = {"lag": lag, "mi": r.mi,
                        "p_value": p,
                        "p_value_adjusted": None if p is None else min(1.0, p * len(self.lags)),
                        "note": "the lag with the largest estimate; a maximum over lags "
                                "reads high, and its own p-value is per lag: "
                                "p_value_adjusted is Bonferroni over the lags"}
        from mitool.estimation import SCHEMA_VERSION

        return {
            "schema_version": SCHEMA_VERSION, "mitool_version": __version__,
            "command": "estimate",
            "input": {"path": self.series.label, "format": self.series.format,
                      "n_rows": int(len(self.series.frame))},
            "x": self.series.x, "y": self.series.y,
            **({"z": self.series.z, "conditional": True} if self.series.z else {}),
            "quantity": "I(X(t-L);Y(t)" + ("|Z(t))" if self.series.z else ")"),
            "series": {k: v for k, v in self.series.info(0).items() if k != "n_pairs"},
            "unit": self.unit, "k": first.k, "seed": self.seed,
            "seconds": round(self.seconds, 4),
            "lags": [self.row(lag, r) for lag, r in zip(self.lags, self.reports, strict=True)],
            "best_lag": best_doc, "warnings": self.warnings,
        }


@names_parameters("lag_scan")
def lag_scan(
    data: Any,
    x: str | list[str],
    y: str | list[str],
    lags: str | list[int] = "0:10",
    estimators: str | list[str] | None = None,
    *,
    z: str | list[str] | None = None,
    time: str | None = None,
    gaps: str = "refuse",
    seed: int = 0,
    unit: str = "nats",
    table: TableOptions | None = None,
    knn: KnnConfig | None = None,
    neural: NeuralConfig | None = None,
    inference: InferenceSpec | None = None,
) -> LagScanResult:
    """Lagged MI at each of several lags (``lagged_mi`` once per lag, the table read once).

    Parameters
    ----------
    lags : "FIRST:LAST" (both included), "FIRST:LAST:EVERY", "1,2,5" or a list of ints.
    the rest : as ``lagged_mi`` (no gate: a gate reads one estimate).

    Returns
    -------
    LagScanResult : ``reports`` (one ``EstimateResult`` per lag), ``best`` (the lag with the
        largest estimate), ``to_dict()`` the JSON report with ``lags`` and ``best_lag``.

    Examples
    --------
    >>> import mitool
    >>> s = mitool.lag_scan("sample_data/var_series.csv", "x", "y", "0:5", time="t")
    >>> [row["mi"] for row in s.to_dict()["lags"]]
    """
    t0 = _time.perf_counter()
    table = table or TableOptions()
    lag_list = parse_lags(lags)
    if len(set(lag_list)) != len(lag_list):
        raise UsageError("{param} repeats a lag", parameter="lags")
    series = load_series(data, x, y, z, time=time, gaps=gaps, table=table)
    reports = [_estimate_lag(series, lag, estimators, seed, unit, table, knn, neural,
                             inference, None) for lag in lag_list]
    warnings = list(series.warnings)
    for lag, r in zip(lag_list, reports, strict=True):
        warnings.extend(f"lag {lag}: {w}" for w in r.warnings if w not in series.warnings)
    return LagScanResult(lag_list, reports, series, unit, seed, _time.perf_counter() - t0,
                         warnings)


# --------------------------------------------------------------------------- transfer entropy

@dataclass
class Direction:
    """TE from ``source`` to ``target`` columns: the estimate, and its surrogate test."""

    source: list[str]
    target: list[str]
    report: EstimateResult  # I(target[t]; source past | target past), the full estimate
    test: dict[str, Any] = field(default_factory=dict)  # p_value, null summary, shifts

    @property
    def te(self) -> float | None:
        return self.report.mi

    def to_dict(self) -> dict[str, Any]:
        h = self.report.headline
        doc = self.report.to_dict()
        return {
            "source": self.source, "target": self.target, "te": self.te,
            "estimator": None if h is None else h.estimator,
            "chosen": None if h is None else h.details.get("chosen"),
            "kind": None if h is None else h.details.get("kind"),
            "n_used": self.report.input.n_used,
            "x": doc["x"], "y": doc["y"], "z": doc.get("z"),
            **self.test,
            "results": doc["results"], "warnings": self.report.warnings,
        }


@dataclass
class TransferEntropyResult:
    """Both directions of transfer entropy between two sets of columns, in one report."""

    x: list[str]
    y: list[str]
    history: tuple[int, int]
    directions: list[Direction]  # [X→Y, Y→X]
    series: Series
    unit: str
    seed: int
    seconds: float
    surrogates: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # notes, the gate

    @property
    def te_xy(self) -> float | None:
        return self.directions[0].te

    @property
    def te_yx(self) -> float | None:
        return self.directions[1].te

    @property
    def gate(self) -> dict[str, Any] | None:
        return self.extra.get("gate")

    def to_dict(self) -> dict[str, Any]:
        """The versioned JSON report (docs/json-schema.md, ``mitool te``)."""
        k, l_ = self.history
        return {
            "schema_version": TE_SCHEMA_VERSION, "mitool_version": __version__,
            "command": "te",
            "input": {"path": self.series.label, "format": self.series.format,
                      "n_rows": int(len(self.series.frame))},
            "x": self.x, "y": self.y,
            "history": {"source": k, "target": l_},
            "quantity": "TE(X→Y) = I(Y(t); X(t-1..t-k) | Y(t-1..t-l))",
            "series": {kk: v for kk, v in self.series.info(0).items() if kk != "n_pairs"},
            "unit": self.unit, "seed": self.seed, "seconds": round(self.seconds, 4),
            "surrogates": self.surrogates,
            "directions": [d.to_dict() for d in self.directions],
            "warnings": self.warnings,
            **self.extra,
        }


def _te_columns(source: list[str], target: list[str], k: int, l_: int
                ) -> list[tuple[str, int]]:
    return ([(c, 0) for c in target] + [(c, -j) for c in source for j in range(1, k + 1)]
            + [(c, -j) for c in target for j in range(1, l_ + 1)])


def _raw(r: EstimateResult) -> float | None:
    h = r.headline
    return None if h is None else float(h.details.get("mi_raw", h.mi))


@names_parameters("transfer_entropy")
def transfer_entropy(
    data: Any,
    x: str | list[str],
    y: str | list[str],
    history: str | int | tuple[int, int] = "1,1",
    estimators: str | None = None,
    *,
    time: str | None = None,
    gaps: str = "refuse",
    permutations: int = 0,
    min_shift: int | None = None,
    bootstrap: int = 0,
    block: int | None = None,
    seed: int = 0,
    unit: str = "nats",
    table: TableOptions | None = None,
    knn: KnnConfig | None = None,
    gate: GateSpec | None = None,
) -> TransferEntropyResult:
    """Transfer entropy both ways: TE(X→Y) = I(Y(t); X(t-1..t-k) | Y(t-1..t-l)) and
    TE(Y→X) (the same history lengths, roles swapped), each a conditional MI on a lagged view.

    Parameters
    ----------
    data, x, y, seed, unit, table, knn : as in ``mitool.estimate``.
    history : "k,l": the source's and the target's history lengths (steps); "k": both.
    estimators : one conditional estimator (``auto-cmi`` by default, ``ksg-cmi``, ``gcmi-cmi``).
    time, gaps : as in ``lagged_mi`` (the rows in time, gaps refused or dropped).
    permutations : P time-shift surrogates per direction: the source series circularly
        shifted by an offset drawn uniformly from [min_shift, n - min_shift], which keeps
        both series' own dynamics and breaks only their timing; p = (1 + #null ≥ observed)
        / (1 + P), the statistic the headline's chosen estimator's raw value.
    min_shift : the smallest shift (default: max(k, l) + 1 and n/10, whichever is larger).
    bootstrap : B block half-samples per direction: a 95% interval for each TE. The lagged
        rows are cut into blocks of ``block`` consecutive steps (default ≈ n^(1/3)) and half
        of the blocks drawn without replacement, so each draw keeps the series' serial
        dependence, which a row-wise half-sample (``block=1``) ignores; the interval is
        ``inference.half_sampling_interval``'s, bias-aware as every conditional MI's
        (coverage on VAR(1) processes: benchmarks/transfer_entropy.py --coverage).
    gate : thresholds on TE(X→Y) (``fail_below``, ``fail_above``, ``fail_if_independent``:
        its surrogate p-value; 200 surrogates unless ``permutations`` is given).

    Returns
    -------
    TransferEntropyResult : ``te_xy``, ``te_yx``, ``directions`` (each with its full
        estimate and surrogate test), ``gate``; ``to_dict()`` is the JSON report.

    Examples
    --------
    >>> import mitool
    >>> r = mitool.transfer_entropy("sample_data/var_series.csv", "x", "y", "1,1", time="t",
    ...                             permutations=99)
    >>> r.te_xy, r.te_yx, r.directions[0].test["p_value"]
    """
    t0 = _time.perf_counter()
    table = table or TableOptions()
    k, l_ = parse_history(history)
    if estimators is not None and len(split_specs(estimators)) != 1:
        raise UsageError("{param} takes one conditional estimator for transfer entropy "
                         "(auto-cmi, ksg-cmi or gcmi-cmi)", parameter="estimators")
    name = split_specs(estimators)[0] if estimators is not None else TE_DEFAULT
    if isinstance(permutations, bool) or not isinstance(permutations, int) or permutations < 0:
        raise UsageError("{param} must be a whole number of surrogates, 0 or more",
                         parameter="permutations")
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, int) or bootstrap < 0 \
            or bootstrap == 1:
        raise UsageError("{param} must be 0 or a whole number of half-samples from 2 (200 is "
                         "a good default)", parameter="bootstrap")
    if block is not None and (isinstance(block, bool) or not isinstance(block, int)
                              or block < 1):
        raise UsageError("{param} must be a whole number of steps, 1 or more",
                         parameter="block")
    notes: list[str] = []
    gate_on = gate is not None and gate.active
    if gate_on:
        gate.validate()
        if gate.on != "estimate":
            raise UsageError("transfer entropy gates on the estimate and its surrogate "
                             "p-value, not on an interval: drop --gate-on ci")
        if gate.fail_if_independent is not None and permutations == 0:
            permutations = DEFAULT_PERMUTATIONS
            notes.append(f"--fail-if-independent: running {permutations} surrogates per "
                         "direction")
    series = load_series(data, x, y, None, time=time, gaps=gaps, table=table)
    both = set(series.x) & set(series.y)
    if both:
        raise UsageError(f"column(s) {', '.join(sorted(both))} in both --x and --y: transfer "
                         "entropy is between two different series")
    n = series.grid.n
    if max(k, l_) >= n:
        raise UsageError(f"{{param}} {k},{l_} is not below the series' {n} rows",
                         parameter="history")
    shift_min = max(k, l_) + 1 if min_shift is None else int(min_shift)
    if min_shift is None:
        shift_min = max(shift_min, n // 10)
    if permutations and (shift_min < 1 or n - 2 * shift_min < 1):
        raise UsageError(f"{{param}} {shift_min} leaves no shift of a series of {n} rows: it "
                         f"must be from 1 to {(n - 1) // 2}", parameter="min_shift")
    directions = []
    for index, (src, tgt) in enumerate(((series.x, series.y), (series.y, series.x))):
        cols = _te_columns(src, tgt, k, l_)
        frame, n_pairs = lagged_frame(series.frame, series.grid, cols)
        _check_pairs(n_pairs, series, f"history {k},{l_}")
        lagged_table = _lagged_table(series, table, cols)
        args = {"x": [lag_name(c, -j) for c in src for j in range(1, k + 1)],
                "y": list(tgt), "z": [lag_name(c, -j) for c in tgt for j in range(1, l_ + 1)]}
        r = estimate(frame, **args, estimators=name, seed=seed, unit=unit,
                     table=lagged_table, knn=knn)
        r.input.path, r.input.format = series.label, series.format
        test: dict[str, Any] = {}
        head = r.headline
        if permutations and head is not None:
            stat = head.details.get("chosen") or head.estimator
            rng = np.random.default_rng([seed, index, 2024])
            shifts = rng.integers(shift_min, n - shift_min + 1, size=permutations)
            null = []
            progress = current_progress()
            for i, s in enumerate(shifts):
                if progress is not None:
                    progress(index * permutations + i, 2 * permutations,
                             {"stage": "surrogates"})
                f_s, _ = lagged_frame(series.frame, series.grid, cols,
                                      shift={c: int(s) for c in src})
                null.append(_raw(estimate(f_s, **args, estimators=stat, seed=seed, unit=unit,
                                          table=lagged_table, knn=knn)))
            observed = _raw(r)
            summary = null_summary(observed, [np.nan if v is None else v for v in null])
            test = {**summary, "statistic": stat, "observed_raw": observed}
        if bootstrap and head is not None:
            test.update(_block_interval(frame, args, r, bootstrap, block, index, seed, unit,
                                        lagged_table, knn))
        directions.append(Direction(list(src), list(tgt), r, test))
    warnings = list(series.warnings)
    for d in directions:
        arrow = f"{','.join(d.source)}→{','.join(d.target)}"
        warnings.extend(f"TE({arrow}): {w}" for w in d.report.warnings
                        if w not in series.warnings)
    result = TransferEntropyResult(
        series.x, series.y, (k, l_), directions, series, unit, seed, 0.0,
        surrogates=None if not permutations else {
            "method": "time shift: the source series circularly shifted by a random offset",
            "permutations": permutations, "min_shift": shift_min, "max_shift": n - shift_min},
        warnings=warnings, extra={"notes": notes} if notes else {})
    if gate_on:
        result.extra["gate"] = _te_gate(gate, result)
    result.seconds = _time.perf_counter() - t0
    return result


def te_block(n: int) -> int:
    """The default block for TE's block half-sampling: ≈ n^(1/3) steps (Hall, Horowitz &
    Jing 1995: the order that suits a variance), at least 2."""
    return max(2, int(round(n ** (1 / 3))))


def block_half_samples(n: int, draws: int, rng: np.random.Generator, block: int
                       ) -> list[np.ndarray]:
    """Rows for each draw: half of the ⌈n/block⌉ runs of ``block`` consecutive rows, drawn
    without replacement, in time order."""
    starts = np.arange(0, n, block)
    out = []
    for _ in range(draws):
        pick = np.sort(rng.choice(starts.size, max(1, starts.size // 2), replace=False))
        out.append(np.concatenate([np.arange(s, min(s + block, n)) for s in starts[pick]]))
    return out


def _block_interval(frame, args, report: EstimateResult, draws: int, block: int | None,
                    index: int, seed: int, unit: str, table: TableOptions,
                    knn: KnnConfig | None) -> dict[str, Any]:
    """TE's interval: the chosen estimator re-run on block half-samples of the lagged rows."""
    head = report.headline
    stat = head.details.get("chosen") or head.estimator
    n = len(frame)
    b = te_block(n) if block is None else min(block, max(1, n // 4))
    rng = np.random.default_rng([seed, index, 104729])
    values, sizes = [], []
    progress = current_progress()
    for i, rows in enumerate(block_half_samples(n, draws, rng, b)):
        if progress is not None:
            progress(index * draws + i, 2 * draws, {"stage": "interval"})
        v = _raw(estimate(frame.iloc[rows].reset_index(drop=True), **args, estimators=stat,
                          seed=seed, unit=unit, table=table, knn=knn))
        if v is not None:
            values.append(v)
            sizes.append(rows.size)
    if len(values) < 2:
        return {"ci_low": None, "ci_high": None, "bootstrap": draws, "ci_block": b}
    ci = half_sampling_interval(_raw(report), values, n, int(round(np.mean(sizes))),
                                conditional=True, unit=unit)
    ci["ci_method"] = (f"block half-sampling: half of the {-(-n // b)} runs of {b} consecutive "
                       f"steps, without replacement, {len(values)} draws of {stat}; normal "
                       "interval" + ci["ci_method"])
    return {**ci, "bootstrap": draws, "ci_block": b}


def _te_gate(gate: GateSpec, result: TransferEntropyResult) -> dict[str, Any]:
    """The gate on TE(X→Y): the ``estimate`` gate's checks, read from that direction."""
    d = result.directions[0]
    label = f"TE({','.join(d.source)}→{','.join(d.target)})"
    row = {"estimator": label, "mi": d.te, **{k_: d.test.get(k_) for k_ in
                                                ("p_value", "permutations", "p_value_floor")}}
    return evaluate_gate(dataclasses.replace(gate, on="estimate"),
                         {"estimator": label, "results": [row], "unit": result.unit})
