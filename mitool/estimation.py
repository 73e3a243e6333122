"""``mitool.estimate``: the library call behind ``mitool estimate``.

Reads a table (path, bytes or DataFrame), prepares the selected columns, runs the chosen
estimators and returns one ``EstimateResult``: the CLI renders it, Python users read it.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from dataclasses import dataclass, field
from typing import Any

from mitool import __version__
from mitool.data.columns import Prepared, prepare, resolve_columns, split_specs
from mitool.data.tables import CsvOptions
from mitool.errors import UsageError
from mitool.estimators import parse_estimators, run_estimator
from mitool.estimators.base import EstimatorResult, ProgressCallback
from mitool.estimators.config import NeuralConfig
from mitool.gate import DEFAULT_BOOTSTRAP, DEFAULT_PERMUTATIONS, GateSpec, evaluate_gate
from mitool.inference import attach_inference

# from this many rows the default set leaves sklearn out (200k rows: 14 s against ksg's 2.4)
SKLEARN_DEFAULT_MAX_ROWS = 200_000
# the default set leaves ksg out when its exact brute-force search would need more than
# this many coordinate comparisons (N² · d; 10^11 is a couple of minutes on two cores)
KSG_DEFAULT_MAX_WORK = 1e11
SCHEMA_VERSION = 2  # 2: neural curve[].heldout renamed validation (docs/json-schema.md)
UNITS = ("nats", "bits")
# keys of results/details that hold an amount of information (converted to the report's unit)
_INFO_KEYS = {
    "mi", "ci_low", "ci_high", "ceiling", "spread", "stderr", "null_mean", "null_p95",
    "null_mi", "train", "validation", "readout_mi", "bias", "statistic", "mi_raw", "dv", "nwj",
    "ci_runs", "smile", "infonce", "mi_plugin", "null_mi_raw", "ci_bias_allowance",
    "permutation_statistic", "full", "half", "shortfall", "shortfall_stderr",
}


def to_unit(value: Any, unit: str) -> Any:
    """Nats -> the report's unit (bits divide by ln 2); lists convert element-wise."""
    if unit == "nats" or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [to_unit(v, unit) for v in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value / math.log(2)
    return value


def convert_result(r: EstimatorResult, unit: str) -> EstimatorResult:
    """``r`` with its MI and every amount of information in ``details`` in ``unit`` (in place)."""
    if r.unit == unit:
        return r
    if r.unit != "nats":
        raise ValueError(f"can only convert from nats, not {r.unit}")
    r.mi = to_unit(r.mi, unit)
    r.details = _convert(r.details, unit)
    r.unit = unit
    return r


def _convert(obj: Any, unit: str) -> Any:
    if isinstance(obj, dict):
        return {
            k: (to_unit(v, unit) if k in _INFO_KEYS and not isinstance(v, dict) else _convert(v, unit))
            for k, v in obj.items()
        }
    if isinstance(obj, list):
        return [_convert(v, unit) for v in obj]
    return obj


@dataclass
class InputInfo:
    path: str
    format: str
    n_rows: int
    n_used: int
    n_dropped: int
    n_sampled: int | None = None


@dataclass
class EstimateResult:
    """Everything ``mitool estimate`` reports. MI values inside are in nats; ``to_dict`` converts."""

    input: InputInfo
    x: list[str]
    y: list[str]
    discrete: list[str]
    unit: str
    results: list[EstimatorResult]
    seed: int
    k: int
    seconds: float
    warnings: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. the CI gate outcome
    columns: list[dict[str, Any]] = field(default_factory=list)  # kind and reason per column

    @property
    def headline(self) -> EstimatorResult | None:
        """The first requested estimator that produced a number."""
        return next((r for r in self.results if r.mi is not None), None)

    @property
    def mi(self) -> float | None:
        """Headline MI in the report's unit (every result's values are in that unit)."""
        h = self.headline
        return None if h is None else h.mi

    @property
    def gate(self) -> dict[str, Any] | None:
        """The CI gate's outcome ({passed, exit_code, checks}), or None without a gate."""
        return self.extra.get("gate")

    def result(self, name: str) -> EstimatorResult:
        for r in self.results:
            if r.estimator == name:
                return r
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """The versioned JSON report (schema documented in docs/json-schema.md)."""
        h = self.headline
        results = []
        for r in self.results:
            row = {
                "estimator": r.estimator,
                "mi": r.mi,
                "seconds": round(r.seconds, 4),
                "applicable": r.applicable,
                "reason": r.reason,
                "notes": r.notes,
                "warnings": r.warnings,
                **r.details,
            }
            results.append(row)
        return {
            "schema_version": SCHEMA_VERSION,
            "mitool_version": __version__,
            "command": "estimate",
            "input": vars(self.input).copy(),
            "x": self.x,
            "y": self.y,
            "discrete": self.discrete,
            "columns": self.columns,
            "unit": self.unit,
            "mi": self.mi,
            "estimator": None if h is None else h.estimator,
            "k": self.k,
            "seed": self.seed,
            "seconds": round(self.seconds, 4),
            "results": results,
            "warnings": self.warnings,
            **self.extra,
        }


@dataclass
class LoadedTable:
    """The selected columns as a DataFrame (string column names), and how they were read."""

    frame: Any
    x: list[str]
    y: list[str]
    label: str
    format: str
    notes: list[str] = field(default_factory=list)  # layout detected (separator, decimal)
    decimal: str = "."
    thousands: str | None = None


def load_frame(
    source: Any,
    columns_x: list[str],
    columns_y: list[str],
    input_format: str | None = None,
    as_text: set[str] | frozenset[str] = frozenset(),
    csv: CsvOptions | None = None,
) -> LoadedTable:
    """Read only the selected columns of ``source`` (a path, bytes or a DataFrame).

    Column names are strings from here on (a DataFrame's labels are printed: ``0`` -> "0");
    a selected name that appears twice in the header is refused.
    """
    import pandas as pd

    from mitool.data.tables import check_unique

    opts = csv or CsvOptions()
    if isinstance(source, pd.DataFrame):
        available = [str(c) for c in source.columns]
        x = resolve_columns(columns_x, available, "--x")
        y = resolve_columns(columns_y, available, "--y")
        check_unique(available, x + y)
        frame = source.set_axis(available, axis=1)
        return LoadedTable(frame, x, y, "<DataFrame>", "dataframe",
                           decimal=opts.decimal or ".", thousands=opts.thousands)
    from mitool.data.tables import open_source, read_columns_names, read_selected

    if not isinstance(source, (str, bytes, bytearray, os.PathLike)):
        raise UsageError(
            f"data must be a path, bytes or a pandas DataFrame, not {type(source).__name__}"
        )
    src = open_source(source, input_format, opts)
    available = read_columns_names(src)
    x = resolve_columns(columns_x, available, "--x")
    y = resolve_columns(columns_y, available, "--y")
    wanted = list(dict.fromkeys(x + y))
    check_unique(available, wanted)
    table = read_selected(src, wanted, {c for c in as_text if c in wanted})
    frame = table.to_pandas(date_as_object=False)
    return LoadedTable(frame, x, y, src.label, src.fmt, list(src.notes), src.decimal,
                       src.thousands)


def estimate(
    data: Any,
    x: str | list[str],
    y: str | list[str],
    estimators: str | list[str] | None = None,
    *,
    k: int = 3,
    unit: str = "nats",
    discrete: str | list[str] | None = None,
    continuous: str | list[str] | None = None,
    max_rows: int | None = None,
    seed: int = 0,
    input_format: str | None = None,
    neural: NeuralConfig | None = None,
    progress: ProgressCallback | None = None,
    permutations: int = 0,
    bootstrap: int = 0,
    gate: GateSpec | None = None,
    transform: str | None = None,
    sep: str | None = None,
    decimal: str | None = None,
    thousands: str | None = None,
    neighbours: str = "auto",
) -> EstimateResult:
    """Estimate I(X;Y) between two sets of columns of a table.

    ``data``: a CSV/TSV/Parquet path, raw bytes (e.g. stdin) or a pandas DataFrame.
    ``x``/``y``: column names or shell-style globs ("a,b" strings or lists).
    ``estimators``: names, "all", or None for the default set (headline neural estimator,
    ``ksg`` and ``sklearn``). The result's MI values are in nats; ``to_dict`` uses ``unit``.
    ``permutations``/``bootstrap``: p-values and 95% intervals (schemes in ``mitool.inference``).
    ``gate``: CI thresholds; the outcome is in ``result.gate`` (never raised as an error).
    ``transform``: "standardize" or "copula" (per-column normal scores of the ranks; MI is
    unchanged by it) for ksg and the neural estimators alike. None: plain KSG, and the neural
    estimators use ``neural.transform`` (their default, chosen by benchmark).
    ``sep``/``decimal``/``thousands``: CSV layout (None: detected; see ``mitool.data.tables``).
    ``neighbours``: ksg's neighbour search, auto (by dimension), kdtree or brute.
    """
    t0 = time.perf_counter()
    if unit not in UNITS:
        raise UsageError(f"unknown unit '{unit}'; choose nats or bits")
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise UsageError(f"--k must be a positive integer, got {k}")
    names = parse_estimators(estimators)
    from mitool.estimators.ksg import neighbour_search
    from mitool.estimators.neighbours import brute_work, choose_method

    choose_method(1, 2, neighbours, plane=True)  # validates the name
    for opt, val in (("--permutations", permutations), ("--bootstrap", bootstrap)):
        if not isinstance(val, int) or val < 0:
            raise UsageError(f"{opt} must be a non-negative integer, got {val}")
    notes: list[str] = []
    if gate is not None and gate.active:
        gate.validate()
        if gate.fail_if_independent is not None and permutations == 0:
            permutations = DEFAULT_PERMUTATIONS
            notes.append(f"--fail-if-independent: running {permutations} permutations")
        if gate.on == "ci" and bootstrap == 0:
            bootstrap = DEFAULT_BOOTSTRAP
            notes.append(f"--gate-on ci: computing intervals with {bootstrap} subsamples")
    x_specs, y_specs = split_specs(x), split_specs(y)
    if not x_specs:
        raise UsageError("no X columns given (--x)")
    if not y_specs:
        raise UsageError("no Y columns given (--y)")
    disc, cont = split_specs(discrete), split_specs(continuous)
    table = load_frame(data, x_specs, y_specs, input_format, set(cont),
                       CsvOptions(sep, decimal, thousands))
    xs, ys, label, fmt = table.x, table.y, table.label, table.format
    for opt, cols in (("--discrete", disc), ("--continuous", cont)):
        for c in cols:
            if c not in xs and c not in ys:
                raise UsageError(f"{opt} '{c}' is not one of the selected --x/--y columns")
    prepared: Prepared = prepare(table.frame, xs, ys, disc, cont, max_rows=max_rows, seed=seed,
                                 decimal=table.decimal, thousands=table.thousands)
    data_ = prepared.data
    warnings = list(table.notes) + list(prepared.warnings)
    joint = data_.x.shape[1] + data_.y.shape[1]
    if (estimators is None and "ksg" in names and neighbour_search(data_, neighbours) == "brute"
            and brute_work(data_.n, joint) > KSG_DEFAULT_MAX_WORK):
        names.remove("ksg")
        notes.append(
            f"ksg left out of the default set: {joint} joint dimensions on {data_.n:,} rows "
            f"need an exact all-pairs neighbour search (N²·d = {brute_work(data_.n, joint):.0e} "
            "comparisons, far beyond minutes here); ask for it with -e ksg, or estimate it on "
            "a sample with --max-rows 50000")
    if estimators is None and data_.n >= SKLEARN_DEFAULT_MAX_ROWS and "sklearn" in names:
        names.remove("sklearn")
        notes.append(f"sklearn left out of the default set on {data_.n:,} rows: it repeats "
                     "ksg's estimate (the same KSG formula) at about 6x its time; ask for it "
                     "with -e default,sklearn")

    from mitool.estimators.gcmi_rot import rotatable  # here: scipy stays out of CLI start-up

    if estimators is None and "gcmi-rot" in names and not rotatable(data_):
        names.remove("gcmi-rot")  # one column a side or discrete columns: nothing to rotate
    cfg = neural or NeuralConfig()
    knn_transform = "standardize"  # plain KSG unless asked: it is the reference estimator
    if transform is not None:
        if transform not in ("standardize", "copula"):
            raise UsageError(f"unknown transform '{transform}'; choose standardize or copula")
        cfg = dataclasses.replace(cfg, transform=transform)
        knn_transform = transform

    results: list[EstimatorResult] = []
    _announce_big_neural_run(names, data_, cfg, progress, max_rows)
    if data_.x.shape[1] == 0 or data_.y.shape[1] == 0:
        side = "X" if data_.x.shape[1] == 0 else "Y"
        warnings.append(f"every {side} column is constant, so I(X;Y) = 0 exactly; nothing was estimated")
        for name in names:
            exact: dict[str, Any] = {}
            if permutations:
                exact.update(p_value=1.0, permutations=permutations)
            if bootstrap:
                exact.update(ci_low=0.0, ci_high=0.0, ci_method="exact (constant side)")
            results.append(
                EstimatorResult(
                    name, 0.0, 0.0, notes=[f"{side} is constant: MI is exactly 0"], details=exact
                )
            )
    else:
        done: dict[str, EstimatorResult] = {}
        for name in names:
            if name in done:  # already run as a component of auto, with the same settings
                continue
            r = run_estimator(
                name, data_, k=k, seed=seed, neural=cfg, progress=progress,
                permutations=permutations, knn_transform=knn_transform, knn_search=neighbours,
            )
            attach_inference(r, data_, k, seed, permutations, bootstrap, neural=cfg,
                             progress=progress)
            done[name] = r
            for part_name, part in (r.components or {}).items():
                # auto's components get their own rows (computed once), in the order asked
                # for when also requested, after auto otherwise
                if part_name not in done and _same_settings(part_name, cfg):
                    done[part_name] = part
        order = list(dict.fromkeys(names + [n for n in done if n not in names]))
        results = [done[n] for n in order if n in done]
    if results and all(not r.applicable for r in results):
        why = "; ".join(f"{r.estimator}: {r.reason}" for r in results)
        raise UsageError(f"no requested estimator applies to these columns ({why})")
    for r in results:
        warnings.extend(f"{r.estimator}: {w}" for w in r.warnings)
        convert_result(r, unit)
    result = EstimateResult(
        input=InputInfo(
            path=label, format=fmt, n_rows=prepared.n_rows, n_used=data_.n,
            n_dropped=prepared.n_dropped, n_sampled=prepared.n_sampled,
        ),
        x=xs,
        y=ys,
        discrete=[c for c in xs + ys if c in data_.x_names + data_.y_names and _is_disc(data_, c)],
        unit=unit,
        results=results,
        seed=seed,
        k=k,
        seconds=time.perf_counter() - t0,
        warnings=warnings,
        extra={"notes": notes} if notes else {},
        columns=[{**c.to_dict(), "side": "x" if c.name in xs else "y"} for c in prepared.columns],
    )
    if gate is not None and gate.active:
        result.extra["gate"] = evaluate_gate(gate, result.to_dict())
    result.seconds = time.perf_counter() - t0
    return result


BIG_NEURAL_ROWS = 200_000  # from this many rows a neural run says how long it will take


def _announce_big_neural_run(names, data, cfg, progress, max_rows) -> None:
    """Before a neural run on a big table, say how long it should take and that --max-rows
    exists (through the progress callback's notice: the library never prints)."""
    from mitool.estimators import NEURAL

    neural = [n for n in names if n in NEURAL or n == "auto"]
    if progress is None or not neural or data.n < BIG_NEURAL_ROWS or data.x.shape[1] == 0:
        return
    from mitool.estimators.config import resolve_folds
    from mitool.estimators.neural.engine import expected_seconds

    each = expected_seconds("smile", data, cfg)
    progress(0, 0, {"message": (
        f"{data.n:,} rows: each neural estimator should take about {each:.0f} s here "
        f"({resolve_folds(cfg.folds, data.n)} fold(s); its cost hardly grows with the rows); "
        "the k-NN estimators do "
        "grow with them" + ("" if max_rows else ": --max-rows N estimates on a seeded sample"))})


def _same_settings(name: str, cfg: NeuralConfig) -> bool:
    """Whether auto's component ``name`` is what running ``name`` alone would give."""
    from mitool.estimators import NEURAL
    from mitool.estimators.auto import auto_neural_config

    return name not in NEURAL or auto_neural_config(cfg) == cfg


def _is_disc(data, c: str) -> bool:
    if c in data.x_names:
        return bool(data.x_discrete[data.x_names.index(c)])
    return bool(data.y_discrete[data.y_names.index(c)])
