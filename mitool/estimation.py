"""``mitool.estimate``: the library call behind ``mitool estimate``.

Reads a table (path, bytes or DataFrame), prepares the selected columns, runs the chosen
estimators and returns one ``EstimateResult``: the CLI renders it, Python users read it.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from mitool import __version__
from mitool.data.columns import Prepared, prepare, split_specs
from mitool.data.dateparts import parse_parts
from mitool.data.loading import TableOptions, flatten_columns, load_frame
from mitool.errors import UsageError, names_parameters
from mitool.estimators import asks_default, parse_estimators
from mitool.estimators.base import EstimatorResult, ProgressCallback, RunOptions
from mitool.estimators.config import KnnConfig, NeuralConfig
from mitool.estimators.registry import (
    DefaultContext,
    default_set,
    family,
    run_estimator,
)
from mitool.gate import DEFAULT_BOOTSTRAP, DEFAULT_PERMUTATIONS, GateSpec, evaluate_gate
from mitool.inference import InferenceSpec, attach_inference
from mitool.units import check_unit, convert_result, to_unit

SCHEMA_VERSION = 6  # 6: lag, series, the --lags report (mitool.timeseries); 5: z and conditional (I(X;Y|Z), --z); 4: auto from bounds only, kind, cap

# where ``estimate`` reports long work ((done, total, fields) calls): set by ``progress_to``
_PROGRESS: ContextVar[ProgressCallback | None] = ContextVar("mitool_progress", default=None)


@contextmanager
def progress_to(callback: ProgressCallback | None) -> Iterator[None]:
    """Report the progress of every ``estimate`` inside the block to ``callback``: the CLI's
    progress bar. A context, not a parameter: ``estimate`` keeps to its twelve."""
    token = _PROGRESS.set(callback)
    try:
        yield
    finally:
        _PROGRESS.reset(token)


def current_progress() -> ProgressCallback | None:
    """The callback ``progress_to`` set, if any: other use cases report to the same bar."""
    return _PROGRESS.get()


@dataclass
class InputInfo:
    path: str
    format: str
    n_rows: int
    n_used: int
    n_dropped: int
    n_sampled: int | None = None
    repeated_rows: float = 0.0  # share of rows repeating another exactly (selected columns)


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
    # H(X), H(Y) in nats of the all-discrete sides (None: a continuous side), as caps.py
    entropies: tuple[float | None, float | None] = (None, None)
    z: list[str] | None = None  # the conditioning columns of I(X;Y|Z); None: I(X;Y)

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

    def normalized(self) -> dict[str, float | None]:
        """The headline on a 0-1 scale (``mitool.normalize``: IC for continuous sides, the
        share of the smaller discrete entropy otherwise), with the discrete sides'
        entropies ``H_x``, ``H_y`` in the report's unit (None for a continuous side)."""
        from mitool.normalize import normalized
        from mitool.units import to_nats, to_unit

        h_x, h_y = self.entropies
        return {"H_x": to_unit(h_x, self.unit), "H_y": to_unit(h_y, self.unit),
                **normalized(to_nats(self.mi, self.unit), h_x, h_y)}

    def to_dict(self, normalized: bool = False) -> dict[str, Any]:
        """The versioned JSON report (schema documented in docs/json-schema.md); with
        ``normalized``, the ``normalized`` block (``--normalize``)."""
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
            **({"z": self.z, "conditional": True, "quantity": "I(X;Y|Z)"}
               if self.z is not None else {}),
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
            **({"normalized": self.normalized()} if normalized else {}),
            **self.extra,
        }


@names_parameters("estimate")
def estimate(
    data: Any,
    x: str | list[str],
    y: str | list[str],
    estimators: str | list[str] | None = None,
    *,
    z: str | list[str] | None = None,
    seed: int = 0,
    unit: str = "nats",
    table: TableOptions | None = None,
    knn: KnnConfig | None = None,
    neural: NeuralConfig | None = None,
    inference: InferenceSpec | None = None,
    gate: GateSpec | None = None,
) -> EstimateResult:
    """Estimate I(X;Y) between two sets of columns of a table, or I(X;Y|Z) given a third.

    Parameters
    ----------
    data : a CSV/TSV/Parquet path, raw bytes (e.g. stdin) or a pandas DataFrame.
    x, y : column names or shell-style globs ("a,b" strings or lists).
    z : conditioning columns (same forms): estimate I(X;Y|Z) with the estimators that take
        Z (``registry.supporting_z``; default ``auto-cmi``); p-values then come from a local
        permutation of X within Z-neighbourhoods (``mitool.inference``).
    estimators : registered names ("ksg,gcmi" or a list), "all", or None for the default
        set: ``auto`` (the headline) beside its components and ``sklearn``, each left out
        where its registry rule says so (``mitool.estimators.registry``).
    seed : seeds sampling, jitter, splits, training and permutations.
    unit : "nats" or "bits" for the report (``EstimateResult.to_dict``).
    table : how the table is read and typed (forced column kinds, ``max_rows``, format,
        CSV layout): ``mitool.data.loading.TableOptions``.
    knn : k, transform and neighbour search of the k-NN estimators (``KnnConfig``); its
        ``transform`` also reaches the neural estimators when set.
    neural : training settings of the neural estimators (``NeuralConfig``).
    inference : permutations for p-values, subsamples for 95% intervals (``InferenceSpec``;
        schemes in ``mitool.inference``).
    gate : CI thresholds (``GateSpec``); the outcome is in ``result.gate``, never raised.
        Long work reports to the callback of ``progress_to`` (a context), if any.

    Returns
    -------
    EstimateResult : every estimator's row (MI in ``unit``), the headline (``.mi``), the
        columns' kinds, warnings, and the gate's outcome; ``.to_dict()`` is the JSON report.

    Examples
    --------
    >>> import mitool
    >>> r = mitool.estimate("sample_data/gaussian_1d.csv", x="x", y="y", estimators="ksg")
    >>> round(r.mi, 1)
    0.5
    >>> from mitool.inference import InferenceSpec
    >>> r = mitool.estimate(df, x=["a", "b"], y="label", inference=InferenceSpec(200, 0))
    >>> r = mitool.estimate(df, x="a", y="label", z=["t", "site"])  # I(a;label|t,site)
    """
    t0 = time.perf_counter()
    progress = _PROGRESS.get()
    check_unit(unit)
    table = table or TableOptions()
    knn = knn or KnnConfig()
    knn.validate()
    spec = inference or InferenceSpec()
    spec.validate()
    data, table, x, y, z = flatten_columns(data, table, x, y, z)
    z_specs = split_specs(z) if z is not None else None
    if z_specs is not None and not z_specs:
        raise UsageError("no Z columns given ({param})", parameter="z")
    names = parse_estimators(estimators, conditional=z_specs is not None)
    notes: list[str] = []
    if gate is not None and gate.active:
        gate.validate()
        if gate.fail_if_independent is not None and spec.permutations == 0:
            spec = dataclasses.replace(spec, permutations=DEFAULT_PERMUTATIONS)
            notes.append(f"--fail-if-independent: running {spec.permutations} permutations")
        if gate.on == "ci" and spec.bootstrap == 0:
            spec = dataclasses.replace(spec, bootstrap=DEFAULT_BOOTSTRAP)
            notes.append(f"--gate-on ci: computing intervals with {spec.bootstrap} subsamples")
    x_specs, y_specs = split_specs(x), split_specs(y)
    if not x_specs:
        raise UsageError("no X columns given ({param})", parameter="x")
    if not y_specs:
        raise UsageError("no Y columns given ({param})", parameter="y")
    disc, cont = table.discrete_columns, table.continuous_columns
    loaded = load_frame(data, x_specs, y_specs, table.input_format, set(cont), table.csv,
                        numbers_without_pandas=frozenset(disc), columns_z=z_specs)
    xs, ys, zs = loaded.x, loaded.y, loaded.z
    if zs is not None:
        _check_z(zs, xs, ys)
    for param, cols in (("discrete", disc), ("continuous", cont)):
        for c in cols:
            if c not in xs and c not in ys and c not in (zs or []):
                raise UsageError(f"{{param}} '{c}' is not one of the selected "
                                 f"--x/--y{'/--z' if zs is not None else ''} columns",
                                 parameter=param, function="TableOptions")
    prepared: Prepared = prepare(loaded.frame, xs, ys, disc, cont, max_rows=table.max_rows,
                                 seed=seed, decimal=loaded.decimal, thousands=loaded.thousands,
                                 datetime_parts=parse_parts(table.datetime_parts), z=zs)
    data_ = prepared.data
    xs, ys = prepared.x, prepared.y  # timestamps replaced by their parts (--datetime-parts)
    zs = prepared.z if zs is not None else None
    warnings = list(loaded.notes) + list(prepared.warnings)
    from mitool.estimators.caps import side_entropies
    from mitool.estimators.ksg import distinct_rows
    from mitool.estimators.registry import repeated_rows

    repeated = repeated_rows(data_)
    # a row repeated in X and Y may differ in Z: the conditional estimators read every row
    distinct, copies = distinct_rows(data_) if zs is None else (data_, None)
    if copies:  # a copy is not a draw: every estimator reads each distinct row once
        warnings.append(
            f"{repeated:.1%} of the rows repeat another row exactly in the selected columns; "
            f"with continuous values that is a copy, not a draw: every estimator {copies}")
        data_ = distinct
    if 0 < data_.n < FEW_ROWS and spec.bootstrap == 0:
        warnings.append(
            f"only {data_.n} rows: an MI estimate from so few moves by about "
            f"±{1 / data_.n ** 0.5:.2f} nats from one sample to the next (1/√N); "
            "--bootstrap 50 gives its interval")
    wants_default, explicit = asks_default(estimators)
    if wants_default:  # the default set, less what its rules leave out here (not named ones)
        _, left_out = default_set(data_, DefaultContext(search=knn.search))
        dropped = {n: note for n, note in left_out.items() if n not in explicit}
        names = [n for n in names if n not in dropped]
        notes.extend(note for note in dropped.values() if note)
    cfg = neural or NeuralConfig()
    cfg.check_budget()
    if knn.transform is not None:
        cfg = dataclasses.replace(cfg, transform=knn.transform)
    # I(X;Y|Z) is unchanged by monotone maps of any column, X, Y or Z: k-NN CMI reads normal
    # scores unless told otherwise (heavy tails cost it two thirds of the truth, benchmarks/cmi.py)
    default_transform = "copula" if data_.conditional else "standardize"
    opts = RunOptions(k=knn.k, seed=seed, neural=cfg, progress=progress,
                      permutations=spec.permutations, transform=knn.transform or default_transform,
                      search=knn.search,
                      deadline=None if cfg.budget is None else t0 + cfg.budget)
    _announce_plan(names, data_, cfg, progress, table.max_rows)
    quantity = "I(X;Y|Z)" if zs is not None else "I(X;Y)"
    if data_.x.shape[1] == 0 or data_.y.shape[1] == 0:
        side = "X" if data_.x.shape[1] == 0 else "Y"
        warnings.append(f"every {side} column is constant, so {quantity} = 0 exactly; nothing "
                        "was estimated")
        results = [_exactly_zero(name, side, spec) for name in names]
    else:
        results = _run_all(names, data_, opts, spec)
    if results and all(not r.applicable for r in results):
        why = "; ".join(f"{r.estimator}: {r.reason}" for r in results)
        raise UsageError(f"no requested estimator applies to these columns ({why})")
    curve = _learning_curve(results, data_, opts) if estimators is None else None
    if curve is not None and not curve["converged"]:
        warnings.append(
            f"the headline has not converged: {curve['estimator']} reads "
            f"{curve['half_rows']:.3f} nats on half the rows and {curve['all_rows']:.3f} on "
            "all of them; more rows may change it (a timestamp with a daily or weekly "
            "cycle: try --datetime-parts)")
    for r in results:
        warnings.extend(f"{r.estimator}: {w}" for w in r.warnings)
        convert_result(r, unit)
    result = EstimateResult(
        input=InputInfo(
            path=loaded.label, format=loaded.format, n_rows=prepared.n_rows, n_used=data_.n,
            n_dropped=prepared.n_dropped, n_sampled=prepared.n_sampled,
            repeated_rows=round(repeated, 6),
        ),
        x=xs,
        y=ys,
        discrete=[c for c in xs + ys + (zs or [])
                  if c in data_.x_names + data_.y_names + data_.z_names and _is_disc(data_, c)],
        unit=unit,
        results=results,
        seed=seed,
        k=knn.k,
        seconds=time.perf_counter() - t0,
        warnings=warnings,
        extra=({"notes": notes} if notes else {}) | (
            {"learning_curve": {**curve, "half_rows": to_unit(curve["half_rows"], unit),
                                "all_rows": to_unit(curve["all_rows"], unit)}}
            if curve is not None else {}),
        columns=[{**c.to_dict(), "side": _side(c.name, xs, ys)} for c in prepared.columns],
        entropies=side_entropies(data_),
        z=zs,
    )
    if gate is not None and gate.active:
        result.extra["gate"] = evaluate_gate(gate, result.to_dict())
    result.seconds = time.perf_counter() - t0
    return result


def _check_z(zs: list[str], xs: list[str], ys: list[str]) -> None:
    """A Z column that is also in X or Y makes I(X;Y|Z) 0 by construction: refuse it."""
    for c in zs:
        for side, cols in (("--x", xs), ("--y", ys)):
            if c in cols:
                raise UsageError(
                    f"column '{c}' is in both --z and {side}; conditioning on a column of X "
                    "or Y makes I(X;Y|Z) 0 by construction: pick different columns")


def _side(name: str, xs: list[str], ys: list[str]) -> str:
    return "x" if name in xs else "y" if name in ys else "z"


def _learning_curve(results: list[EstimatorResult], data, opts: RunOptions) -> dict | None:
    """The default run checks its headline: the component ``auto`` chose, recomputed on
    half the rows (``inference.learning_curve``); explicit ``-e`` runs are left as asked."""
    from mitool.estimators.auto import component_options
    from mitool.inference import learning_curve

    head = next((r for r in results if r.mi is not None), None)
    if head is None or head.estimator != "auto" or not head.details.get("chosen"):
        return None
    chosen = head.components[head.details["chosen"]]  # its value on all rows: not recomputed
    part = component_options(opts)  # the options auto's components ran with
    return learning_curve(chosen.estimator, data, part.k, part.seed, part.transform,
                          full=float(chosen.details.get("mi_raw", chosen.mi)))


def _exactly_zero(name: str, side: str, spec: InferenceSpec) -> EstimatorResult:
    """A constant side: I(X;Y) = 0 exactly, with the p-value and interval that go with it."""
    exact: dict[str, Any] = {}
    if spec.permutations:
        exact.update(p_value=1.0, permutations=spec.permutations)
    if spec.bootstrap:
        exact.update(ci_low=0.0, ci_high=0.0, ci_method="exact (constant side)")
    return EstimatorResult(name, 0.0, 0.0, notes=[f"{side} is constant: MI is exactly 0"],
                           details=exact)


def _run_all(names: list[str], data, opts: RunOptions, spec: InferenceSpec
             ) -> list[EstimatorResult]:
    """Each named estimator once, with its inference; a combined estimator's components
    become rows of their own (computed once) where they ran with the same options."""
    from mitool.estimators.auto import component_options
    from mitool.estimators.caps import apply_cap, entropy_cap

    done: dict[str, EstimatorResult] = {}
    # auto-cmi's components run with the options as given (ksg-cmi on copula scores by default)
    reuse = component_options(opts) == opts or data.conditional
    cap = entropy_cap(data)
    from mitool.estimators.registry import HEADLINE, auto_components

    # auto's components come with it (computed once), so they take no share of their own
    provided = set(auto_components(data)) if HEADLINE in names and reuse else set()
    learned = [n for n in names if _trains_a_critic(n, data) and n not in provided]
    # under a time budget each learned run gets an equal share of what is left (auto runs
    # its cheap components first, inside its share)
    for name in names:
        if name in done:  # already run as a component of auto, with the same settings
            continue
        run_opts = opts
        if opts.deadline is not None and name in learned:
            left = [n for n in learned if n not in done]
            now = time.perf_counter()
            run_opts = dataclasses.replace(
                opts, deadline=now + max(0.0, opts.deadline - now) / max(1, len(left)))
        r = run_estimator(name, data, run_opts)
        attach_inference(r, data, opts, spec)
        apply_cap(r, cap)
        done[name] = r
        for part_name, part in (r.components or {}).items():
            # auto's components get their own rows, in the order asked for when also
            # requested, after auto otherwise
            if part_name not in done and reuse:
                done[part_name] = part
    order = list(dict.fromkeys(names + [n for n in done if n not in names]))
    results = [done[n] for n in order if n in done]
    for r in results:
        _say_kind(r, done, data)
    return results


def _learned_critics(names: list[str], data) -> list[str]:
    """The learned critics a run of ``names`` trains here (neural or boosted): the named
    ones, and auto's where auto runs (unconditional: auto-cmi trains none)."""
    from mitool.estimators.registry import HEADLINE, auto_components, learned

    parts = auto_components(data) if HEADLINE in names and not data.conditional else []
    return [n for n in dict.fromkeys(list(names) + parts) if n in learned()]


def _trains_a_critic(name: str, data) -> bool:
    """Whether running ``name`` alone trains a learned critic here."""
    return bool(_learned_critics([name], data))


def _say_kind(r: EstimatorResult, done: dict[str, EstimatorResult], data) -> None:
    """Which way the number can be wrong: a lower bound, an estimate (either side) or
    capped, and why (the registry's entry; a combined estimator's chosen component)."""
    from mitool.estimators.registry import get

    if r.mi is None:
        return
    source = done.get(r.details.get("chosen"), r) if r.components else r
    entry = get(source.estimator)
    if "capped_from" in r.details or "capped_from" in source.details:
        r.details["kind"] = "capped"
        r.details["kind_why"] = ("capped at the entropy of the discrete side: the estimate "
                                 "was above what that side can carry")
    else:
        r.details["kind"] = entry.kind_for(data)
        r.details["kind_why"] = entry.kind_why


# below this many rows the report says how far sampling noise alone moves the number
# (benchmarks/overshoot.py: 1x1, MI 0.3, N = 50: the headline over the truth by more than
# 0.05 in 6 of 20 seeds and under by more than 0.1 in 6, its mean 0.283 on target)
FEW_ROWS = 200
BIG_NEURAL_ROWS = 200_000  # from this many rows a neural run also says --max-rows exists
PLAN_MIN_SECONDS = 10.0  # a learned critic forecast to take longer is announced first


def _announce_plan(names, data, cfg, progress, max_rows) -> None:
    """Before long learned-critic work, say the plan and how long it may take (through the
    progress callback's notice: the library never prints): which estimators run first,
    which train a critic, the forecast at most (``engine.expected_seconds``: the full step
    budget; early stopping usually ends sooner), what --budget would do, and on a big table
    that --max-rows exists."""
    if progress is None or data.x.shape[1] == 0:
        return
    from mitool.estimators.config import resolve_folds
    from mitool.estimators.registry import auto_components

    learned = _learned_critics(names, data)
    neural = [n for n in learned if n in family("neural")]
    if not neural:  # the boosted critic takes seconds; none on one column against one
        return
    from mitool.estimators.neural.engine import expected_seconds

    each = expected_seconds(neural[0], data, cfg)
    if each < PLAN_MIN_SECONDS and cfg.budget is None and data.n < BIG_NEURAL_ROWS:
        return
    folds = resolve_folds(cfg.folds, data.n)
    cheap = [n for n in dict.fromkeys(names + auto_components(data))
             if n not in learned and n not in family("combined")]
    msg = (f"plan: {', '.join(cheap) or 'nothing cheap'} first, then {', '.join(learned)} "
           f"(learned critics; {', '.join(neural)}: at most about {each:.0f} s each here, "
           f"{folds} fold(s) of up "
           "to " + (f"{cfg.steps:,} steps" if cfg.epochs is None else f"{cfg.epochs:g} epochs")
           + "; early stopping usually ends sooner)")
    if cfg.budget is not None:
        msg += f"; --budget {cfg.budget:g} s: the critics stop in time for it"
    elif each >= PLAN_MIN_SECONDS:
        msg += "; --budget SECONDS bounds the whole estimate"
    if data.n >= BIG_NEURAL_ROWS:
        msg += (f"; {data.n:,} rows: a critic's cost hardly grows with the rows, the k-NN "
                "estimators' does" + ("" if max_rows else
                                      ": --max-rows N estimates on a seeded sample"))
    progress(0, 0, {"message": msg})


def _is_disc(data, c: str) -> bool:
    if c in data.x_names:
        return bool(data.x_discrete[data.x_names.index(c)])
    if c in data.z_names:
        return bool(data.z_discrete[data.z_names.index(c)])
    return bool(data.y_discrete[data.y_names.index(c)])
