"""``mitool estimate``: options in, library call, table, JSON or CSV out."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path

import typer

from mitool.cli import output as cli_output
from mitool.cli.options import (
    ContinuousOption,
    DataArgument,
    DatetimePartsOption,
    DecimalOption,
    DiscreteOption,
    EncodingOption,
    Format,
    FormatOption,
    GapsOption,
    InputFormatOption,
    MaxRowsOption,
    NormalizeOption,
    OutputOption,
    QuietOption,
    SeedOption,
    SepOption,
    ThousandsOption,
    TimeOption,
    Unit,
    UnitOption,
    read_source,
    table_options,
)
from mitool.cli.output import guarded


class GateOn(str, Enum):
    estimate = "estimate"
    ci = "ci"


def _estimator_help() -> str:
    from mitool.estimators.registry import estimator_help  # plain data: no numpy, no torch

    return estimator_help()


ESTIMATOR_HELP = _estimator_help()


def estimate_command(
    data: DataArgument,
    *,
    x: list[str] = typer.Option(..., "--x", "-x", help="X columns: names or globs, comma-separated, repeatable."),
    y: list[str] = typer.Option(..., "--y", "-y", help="Y columns: names or globs, comma-separated, repeatable."),
    z: list[str] = typer.Option([], "--z", "-z", help="Conditioning columns (names or globs, comma-separated, repeatable): estimate I(X;Y|Z) with auto-cmi, ksg-cmi and gcmi-cmi; --permutations then permutes X only within Z-neighbourhoods."),
    estimator: str | None = typer.Option(None, "--estimator", "-e", help=ESTIMATOR_HELP),
    k: int = typer.Option(3, "--k", help="Neighbours for the k-NN estimators (ksg, sklearn, ksg-cmi)."),
    neighbours: str = typer.Option("auto", "--neighbours", help="ksg's neighbour search: auto (a compiled grid for one column against one, kd-tree in low dimension, brute force from 16 joint dimensions), grid, kdtree or brute; the same answer either way."),
    unit: UnitOption = Unit.nats,
    fmt: FormatOption = Format.table,
    output: OutputOption = None,
    discrete: DiscreteOption,
    continuous: ContinuousOption,
    max_rows: MaxRowsOption = None,
    input_format: InputFormatOption = None,
    sep: SepOption = None,
    decimal: DecimalOption = None,
    thousands: ThousandsOption = None,
    encoding: EncodingOption = None,
    datetime_parts: DatetimePartsOption = None,
    normalize: NormalizeOption = False,
    seed: SeedOption = 0,
    transform: str | None = typer.Option(None, "--transform", help="standardize or copula (per-column normal scores of the ranks: MI unchanged, robust to heavy tails and skew), for ksg and the neural estimators alike. Default: plain ksg, and the neural estimators' own default; with --z, ksg-cmi reads copula."),
    steps: int | None = typer.Option(None, "--steps", help="Neural: maximum training steps."),
    epochs: float | None = typer.Option(None, "--epochs", help="Neural: training length in passes over the training rows (instead of --steps)."),
    batch_size: int | None = typer.Option(None, "--batch-size", help="Neural: minibatch size."),
    lr: float | None = typer.Option(None, "--lr", help="Neural: Adam learning rate."),
    hidden: str | None = typer.Option(None, "--hidden", help="Neural: hidden layer sizes, e.g. '128,128' or '256x3'."),
    critic: str | None = typer.Option(None, "--critic", help="Neural: statistics network, concat or separable."),
    holdout: float | None = typer.Option(None, "--holdout", help="Neural: one split, with this fraction of rows held out for the reported estimate (instead of --folds)."),
    folds: int | None = typer.Option(None, "--folds", help="Neural: cross-fitting folds (default 3 below 100,000 rows, every row held out once; 1 from there on, and 1 = one split, see --holdout)."),
    patience: int | None = typer.Option(None, "--patience", help="Neural: evaluations without improvement before early stopping."),
    budget: float | None = typer.Option(None, "--budget", help="Seconds for the whole estimate: the cheap estimators run first, then the learned critics train in the time left (each reads out its best checkpoint when its share runs out; the report says so)."),
    ema_rate: float | None = typer.Option(None, "--ema-rate", help="MINE: moving-average rate of the gradient correction."),
    readout: str | None = typer.Option(None, "--readout", help="JSD: KL bound used to read MI in nats, dv or nwj."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
    plot: Path | None = typer.Option(None, "--plot", help="Draw the neural training curves to this PNG (needs matplotlib)."),
    quiet: QuietOption = False,
    permutations: int = typer.Option(0, "--permutations", help="Permutation test with N shuffles of Y: p-value, null mean and 95th percentile. With --z: a local permutation of X among the --k-perm rows nearest in Z."),
    k_perm: int = typer.Option(5, "--k-perm", help="With --z and --permutations: the rows nearest in Z among which each row's X is redrawn (Runge 2018)."),
    bootstrap: int = typer.Option(0, "--bootstrap", help="95% confidence intervals: k-NN from N half-samples; neural estimators from min(N, 5) training runs with fresh seeds."),
    fail_below: float | None = typer.Option(None, "--fail-below", help="CI gate: exit 3 if the headline MI (report unit) is below X."),
    fail_above: float | None = typer.Option(None, "--fail-above", help="CI gate: exit 3 if the headline MI (report unit) is above X."),
    gate_on: GateOn = typer.Option(GateOn.estimate, "--gate-on", help="Gate on the estimate, or on the 95% interval (ci: must be confidently inside the bounds)."),
    fail_if_independent: float | None = typer.Option(None, "--fail-if-independent", help="CI gate: exit 3 if the permutation p-value is above ALPHA (runs 200 permutations unless --permutations is given)."),
    lag: int | None = typer.Option(None, "--lag", help="Time series: the lagged MI I(X(t-L);Y(t)), X read L steps before Y (rows in file order, or by --time); with --z, I(X(t-L);Y(t)|Z(t))."),
    lags: str | None = typer.Option(None, "--lags", help="Time series: lagged MI at each lag of FIRST:LAST (both included), FIRST:LAST:EVERY or a list 1,2,5; one row per lag and the best lag."),
    time_col: TimeOption = None,
    gaps: GapsOption = None,
) -> None:
    """Estimate the mutual information I(X;Y) between two sets of columns, or I(X;Y|Z) with --z.

    Exit codes: 0 success, 1 runtime failure, 2 bad usage or input, 3 a CI gate tripped
    (the full report is still printed), 130 interrupted.

    Example: mitool estimate sample_data/wine.csv --x alcohol --y target --unit bits

    Time series: mitool estimate sample_data/var_series.csv --x x --y y --time t --lags 0:5
    """
    with guarded():
        import dataclasses

        from mitool.errors import UsageError
        from mitool.estimation import estimate, progress_to
        from mitool.estimators import parse_estimators
        from mitool.estimators.config import KnnConfig, NeuralConfig
        from mitool.estimators.registry import family
        from mitool.gate import GateSpec
        from mitool.inference import InferenceSpec

        # every destination is checked before any work (a typo costs a second, not a run)
        cli_output.check_destinations({"--output": output, "--plot": plot})
        if plot is not None:
            cli_output.require_matplotlib("--plot")
            if not any(n in family("neural") for n in parse_estimators(estimator)):
                raise UsageError("--plot draws neural training curves: add a neural estimator "
                                 "(e.g. -e smile) or drop --plot")

        if holdout is not None and folds is not None and folds > 1:
            raise UsageError("--holdout sets one split; it cannot be used with --folds > 1")
        overrides = {
            "steps": steps, "epochs": epochs, "batch_size": batch_size, "lr": lr,
            "critic": critic, "holdout": holdout, "patience": patience, "ema_rate": ema_rate,
            "readout": readout, "device": device, "budget": budget,
            "folds": 1 if holdout is not None and folds is None else folds,
        }
        if hidden is not None:
            from mitool.estimators.neural import parse_hidden

            overrides["hidden"] = parse_hidden(hidden)
        cfg = dataclasses.replace(
            NeuralConfig(), **{k_: v for k_, v in overrides.items() if v is not None}
        )
        source = read_source(data)
        if lag is not None or lags is not None:
            _lagged(source, x, y, z, estimator, seed, unit, fmt, output, plot, normalize,
                    quiet, lag, lags, time_col, gaps,
                    table_options(discrete, continuous, max_rows, input_format, sep,
                                  decimal, thousands, encoding, datetime_parts),
                    KnnConfig(k, transform, neighbours), cfg,
                    InferenceSpec(permutations, bootstrap, k_perm),
                    GateSpec(fail_below, fail_above, gate_on.value, fail_if_independent))
            return
        if time_col is not None or gaps is not None:
            raise UsageError("--time and --gaps order a time series for --lag or --lags (or "
                             "mitool te); add one of those, or drop them")
        with cli_output.progress_reporter("training", quiet) as cb, progress_to(cb):
            result = estimate(
                source, x=x, y=y, z=z or None, estimators=estimator, seed=seed,
                unit=unit.value,
                table=table_options(discrete, continuous, max_rows, input_format, sep,
                                    decimal, thousands, encoding, datetime_parts),
                knn=KnnConfig(k, transform, neighbours), neural=cfg,
                inference=InferenceSpec(permutations, bootstrap, k_perm),
                gate=GateSpec(fail_below, fail_above, gate_on.value, fail_if_independent),
            )
        _finish(result, fmt, output, plot, normalize)
        _report_gate(result.gate)


def _report_gate(gate) -> None:
    """The gate's checks on stderr; a tripped gate exits with its code (the report is out)."""
    if gate is None:
        return
    for check in gate["checks"]:
        mark = "passed" if check["passed"] else "FAILED"
        sys.stderr.write(f"gate {mark}: {check['message']}\n")
    if not gate["passed"]:
        raise typer.Exit(gate["exit_code"])


def _lagged(source, x, y, z, estimator, seed, unit, fmt, output, plot, normalize, quiet,
            lag, lags, time_col, gaps, table, knn, cfg, spec, gate) -> None:
    """``--lag`` (the estimate report of one lag) or ``--lags`` (one row per lag)."""
    from mitool.errors import UsageError
    from mitool.estimation import progress_to
    from mitool.timeseries import lag_scan, lagged_mi

    gaps_value = "refuse" if gaps is None else gaps.value
    if lag is not None and lags is not None:
        raise UsageError("--lag and --lags both given: one lag, or a range of them")
    if lag is not None:
        with cli_output.progress_reporter("training", quiet) as cb, progress_to(cb):
            result = lagged_mi(source, x, y, lag, estimator, z=z or None, time=time_col,
                               gaps=gaps_value, seed=seed, unit=unit.value, table=table,
                               knn=knn, neural=cfg, inference=spec, gate=gate)
        _finish(result, fmt, output, plot, normalize)
        _report_gate(result.gate)
        return
    if gate.active:
        raise UsageError("a CI gate reads one estimate: gate one lag with --lag L, not --lags")
    for flag, used in (("--plot", plot is not None), ("--normalize", normalize)):
        if used:
            raise UsageError(f"{flag} reads one estimate: use it with --lag L, not --lags")
    with cli_output.progress_reporter("training", quiet) as cb, progress_to(cb):
        scan = lag_scan(source, x, y, lags, estimator, z=z or None, time=time_col,
                        gaps=gaps_value, seed=seed, unit=unit.value, table=table, knn=knn,
                        neural=cfg, inference=spec)
    doc = scan.to_dict()
    emitted = cli_output.emit_report(
        fmt, doc, table=lambda: render_lag_scan(scan, doc),
        csv=lambda: cli_output.csv_text(LAG_CSV_FIELDS, [
            {**row, "unit": doc["unit"], "best": doc["best_lag"] is not None
             and row["lag"] == doc["best_lag"]["lag"]} for row in doc["lags"]]),
        warnings=scan.warnings)
    cli_output.write_after_report({"--output": cli_output.report_writer(output, emitted)},
                                  emitted)


# --lags --format csv: one row per lag (docs/json-schema.md)
LAG_CSV_FIELDS = ["lag", "best", "mi", "unit", "estimator", "kind", "n_used", "ci_low",
                  "ci_high", "p_value"]


def render_lag_scan(scan, doc: dict) -> None:
    """The Rich table of ``--lags``: one row per lag, then the best lag."""
    from rich.markup import escape
    from rich.table import Table

    s = doc["series"]
    cond = f" | {', '.join(doc['z'])}(t)" if doc.get("z") else ""
    title = f"I({', '.join(doc['x'])}(t-L) ; {', '.join(doc['y'])}(t){cond})"
    order = f"ordered by {s['time']} (step {s['step']})" if s["time"] else "rows in file order"
    table = Table(title=escape(title),
                  caption=escape(f"{doc['input']['path']}: {doc['input']['n_rows']:,} rows, "
                                 f"{order}"))
    has_p = any(r["p_value"] is not None for r in doc["lags"])
    has_ci = any(r["ci_low"] is not None for r in doc["lags"])
    for name, justify in (("lag", "right"), ("MI", "right"), ("unit", "left"),
                          ("estimator", "left"), ("rows", "right")):
        table.add_column(name, justify=justify, no_wrap=True)
    if has_ci:
        table.add_column("95% CI", justify="right", no_wrap=True)
    if has_p:
        table.add_column("p-value", justify="right", no_wrap=True)
    best = doc["best_lag"]
    for r in doc["lags"]:
        mark = " *" if best is not None and r["lag"] == best["lag"] else ""
        row = [f"{r['lag']}{mark}", _fmt_mi(r["mi"]), doc["unit"], r["estimator"] or "—",
               f"{r['n_used']:,}"]
        if has_ci:
            row.append("—" if r["ci_low"] is None
                       else f"[{_fmt_mi(r['ci_low'], 3)}, {_fmt_mi(r['ci_high'], 3)}]")
        if has_p:
            row.append("—" if r["p_value"] is None else f"{r['p_value']:.3g}")
        table.add_row(*[escape(c) for c in row])
    console = cli_output.stdout_console()
    console.print(table)
    if best is not None:
        p = best["p_value_adjusted"]
        console.print(f"best lag (*): {best['lag']}, MI {_fmt_mi(best['mi'])} {doc['unit']}"
                      + ("" if p is None else f", p {p:.3g} after Bonferroni over "
                         f"{len(doc['lags'])} lags")
                      + "; the largest of several estimates reads high", highlight=False)


def _finish(result, fmt: Format, output: Path | None, plot: Path | None,
            normalize: bool = False) -> None:
    """Warnings to stderr, the report to stdout, then the files (a late write failure still
    leaves the report on stdout, and exits 1)."""
    doc = result.to_dict(normalized=normalize)
    emitted = cli_output.emit_report(
        fmt, doc, table=lambda: render_estimate(result, normalize),
        csv=lambda: estimate_csv(result, doc), warnings=result.warnings,
    )
    plot_writer = None
    if plot is not None:
        def plot_writer() -> None:
            from mitool.plotting import plot_training_curves

            plot_training_curves(result.results, plot, unit=result.unit)
    cli_output.write_after_report(
        {"--plot": plot_writer, "--output": cli_output.report_writer(output, emitted)}, emitted
    )


# one row per estimator result (docs/json-schema.md): the table's columns, machine-readable
CSV_FIELDS = ["estimator", "headline", "mi", "unit", "ci_low", "ci_high", "p_value", "seconds",
              "applicable", "reason"]


def estimate_csv(result, doc: dict) -> str:
    """``--format csv``: the JSON report's ``results`` as rows (the headline marked)."""
    rows = [
        {**row, "unit": doc["unit"], "headline": r is result.headline}
        for r, row in zip(result.results, doc["results"], strict=True)
    ]
    return cli_output.csv_text(CSV_FIELDS, rows)


def _fmt_mi(value: float | None, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def render_estimate(result, normalize: bool = False) -> None:
    """The Rich table for people (stdout)."""
    from rich.markup import escape
    from rich.table import Table

    info = result.input
    used = f"{info.n_used:,} of {info.n_rows:,} rows"
    if info.n_dropped:
        used += f", {info.n_dropped:,} dropped for missing values"
    if info.n_sampled:
        used += f", sampled to {info.n_sampled:,}"
    title = f"I({', '.join(result.x)} ; {', '.join(result.y)})"
    if result.z is not None:  # conditional: I(X;Y|Z)
        title = f"I({', '.join(result.x)} ; {', '.join(result.y)} | {', '.join(result.z)})"
    table = Table(title=escape(title), caption=escape(f"{info.path}: {used}"))
    # numbers never wrap (an interval cut over two lines reads as two numbers); notes do
    table.add_column("estimator", style="bold", no_wrap=True)
    table.add_column("MI" if result.z is None else "I(X;Y|Z)", justify="right", no_wrap=True)
    table.add_column("unit", no_wrap=True)
    table.add_column("time", justify="right", no_wrap=True)
    extra_cols = [
        c for c, key in (("ci", "ci_low"), ("p_value", "p_value"))
        if any(key in r.details for r in result.results)
    ]
    for c in extra_cols:
        table.add_column("95% CI" if c == "ci" else "p-value", justify="right", no_wrap=True)
    table.add_column("notes", overflow="fold", ratio=1, min_width=12)
    head = result.headline
    for r in result.results:
        mi = r.mi  # every value of the result is in its unit already
        name = r.estimator + (" *" if r is head else "")
        notes = r.reason if not r.applicable else (r.notes[0] if r.notes else "")  # all in JSON
        shown = _fmt_mi(mi)
        spread = r.details.get("spread")
        if mi is not None and spread is not None:
            shown += f" ± {spread:.3f}"
        row = [escape(name), shown, result.unit, f"{r.seconds:.2f}s"]
        for c in extra_cols:
            if c == "ci":
                lo, hi = r.details.get("ci_low"), r.details.get("ci_high")
                row.append(
                    "—" if lo is None else f"[{_fmt_mi(lo, 3)}, {_fmt_mi(hi, 3)}]"
                )
            else:
                p = r.details.get("p_value")
                row.append("—" if p is None else f"{p:.3g}")
        row.append(escape(notes or ""))
        table.add_row(*row)
    console = cli_output.stdout_console()
    console.print(table)
    if head is not None:
        kind = head.details.get("kind")
        what = {"lower bound": "a lower bound: below the truth in expectation",
                "estimate": "an estimate: it may sit on either side of the truth",
                "capped": "capped at what the discrete side can carry"}.get(kind)
        source = head.details.get("chosen")
        console.print(
            f"headline (*): {head.estimator} = {_fmt_mi(result.mi)} {result.unit}"
            + (f", from {source}" if source else "") + (f"; {what}" if what else ""),
            highlight=False)
        for name, why in (head.details.get("skipped") or {}).items():
            console.print(f"not run: {name}, {why}", highlight=False)
    if normalize and head is not None:
        console.print(f"on a 0-1 scale: {describe_normalized(result.normalized(), result.unit)}",
                      highlight=False)


def describe_normalized(n: dict, unit: str) -> str:
    """One line for people: the 0-1 readings and the entropies they divide by."""
    parts = []
    if n.get("ic") is not None:
        parts.append(f"IC {n['ic']:.3f} (|rho| of a Gaussian pair with this MI)")
    if n.get("share_of_entropy") is not None:
        parts.append(f"{n['share_of_entropy']:.3f} of the smaller discrete entropy")
    if n.get("symmetric_uncertainty") is not None:
        parts.append(f"symmetric uncertainty {n['symmetric_uncertainty']:.3f}")
    ent = [f"H({s}) = {n[k]:.4f} {unit}" for s, k in (("X", "H_x"), ("Y", "H_y"))
           if n.get(k) is not None]
    return "; ".join(parts) + (f" ({', '.join(ent)})" if ent else "")


def register(app: typer.Typer) -> None:
    app.command("estimate")(estimate_command)
