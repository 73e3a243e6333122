"""``mitool te``: transfer entropy both ways between two series, as a table, JSON or CSV."""

from __future__ import annotations

import typer

from mitool.cli import output as cli_output
from mitool.cli.options import (
    ContinuousOption,
    DataArgument,
    DecimalOption,
    DiscreteOption,
    EncodingOption,
    Format,
    FormatOption,
    GapsOption,
    InputFormatOption,
    MaxRowsOption,
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


def te_command(
    data: DataArgument,
    *,
    x: list[str] = typer.Option(..., "--x", "-x", help="The first series: column(s), comma-separated, repeatable."),
    y: list[str] = typer.Option(..., "--y", "-y", help="The second series: column(s), comma-separated, repeatable."),
    history: str = typer.Option("1,1", "--history", help="K,L: the source's and the target's history lengths in steps (K alone: both). TE(X→Y) = I(Y(t); X(t-1..t-K) | Y(t-1..t-L))."),
    estimator: str | None = typer.Option(None, "--estimator", "-e", help="The conditional MI estimator: auto-cmi (default), ksg-cmi or gcmi-cmi."),
    time_col: TimeOption = None,
    gaps: GapsOption = None,
    permutations: int = typer.Option(0, "--permutations", help="P time-shift surrogates per direction (the source series circularly shifted by a random offset, which keeps each series' own dynamics): a p-value for each direction."),
    min_shift: int | None = typer.Option(None, "--min-shift", help="The smallest surrogate shift in steps (default: the larger of the history + 1 and a tenth of the rows)."),
    bootstrap: int = typer.Option(0, "--bootstrap", help="B block half-samples per direction: a 95% interval for each TE (half of the runs of consecutive steps, without replacement, so the series' serial dependence is kept)."),
    block: int | None = typer.Option(None, "--block", help="With --bootstrap: steps per run (default: about the cube root of the rows)."),
    k: int = typer.Option(3, "--k", help="Neighbours for ksg-cmi."),
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
    seed: SeedOption = 0,
    quiet: QuietOption = False,
    fail_below: float | None = typer.Option(None, "--fail-below", help="CI gate: exit 3 if TE(X→Y) (report unit) is below X."),
    fail_above: float | None = typer.Option(None, "--fail-above", help="CI gate: exit 3 if TE(X→Y) (report unit) is above X."),
    fail_if_independent: float | None = typer.Option(None, "--fail-if-independent", help="CI gate: exit 3 if TE(X→Y)'s surrogate p-value is above ALPHA (runs 200 surrogates unless --permutations is given)."),
) -> None:
    """Transfer entropy between two time series, both directions: TE(X→Y) and TE(Y→X).

    TE(X→Y) is how much X's past tells about Y's next value beyond Y's own past, a conditional
    MI estimated by auto-cmi (or -e). Rows are the steps in file order, or ordered by --time.

    Exit codes: 0 success, 1 runtime failure, 2 bad usage or input, 3 a CI gate tripped.

    Example: mitool te sample_data/var_series.csv --x x --y y --time t --permutations 99
    """
    with guarded():
        from mitool.estimation import progress_to
        from mitool.estimators.config import KnnConfig
        from mitool.gate import GateSpec
        from mitool.timeseries import transfer_entropy

        cli_output.check_destinations({"--output": output})
        source = read_source(data)
        stage = "surrogates" if permutations or not bootstrap else "interval"
        with cli_output.progress_reporter(stage, quiet) as cb, progress_to(cb):
            result = transfer_entropy(
                source, x, y, history, estimator, time=time_col,
                gaps="refuse" if gaps is None else gaps.value, permutations=permutations,
                min_shift=min_shift, bootstrap=bootstrap, block=block, seed=seed,
                unit=unit.value,
                table=table_options(discrete, continuous, max_rows, input_format, sep,
                                    decimal, thousands, encoding),
                knn=KnnConfig(k), gate=GateSpec(fail_below, fail_above, "estimate",
                                                fail_if_independent))
        doc = result.to_dict()
        emitted = cli_output.emit_report(
            fmt, doc, table=lambda: render_te(doc),
            csv=lambda: cli_output.csv_text(TE_CSV_FIELDS, te_rows(doc)),
            warnings=result.warnings)
        cli_output.write_after_report(
            {"--output": cli_output.report_writer(output, emitted)}, emitted)
        from mitool.cli.estimate import _report_gate

        _report_gate(result.gate)


# --format csv: one row per direction (docs/json-schema.md)
TE_CSV_FIELDS = ["source", "target", "te", "unit", "estimator", "chosen", "n_used", "p_value",
                 "permutations", "null_p95", "ci_low", "ci_high"]


def te_rows(doc: dict) -> list[dict]:
    return [{**d, "source": ",".join(d["source"]), "target": ",".join(d["target"]),
             "unit": doc["unit"]} for d in doc["directions"]]


def render_te(doc: dict) -> None:
    """The Rich table: one row per direction."""
    from rich.markup import escape
    from rich.table import Table

    s, h = doc["series"], doc["history"]
    order = f"ordered by {s['time']} (step {s['step']})" if s["time"] else "rows in file order"
    table = Table(title=escape(f"transfer entropy, history {h['source']},{h['target']}"),
                  caption=escape(f"{doc['input']['path']}: {doc['input']['n_rows']:,} rows, "
                                 f"{order}"))
    has_p = doc["surrogates"] is not None
    has_ci = any("ci_low" in d for d in doc["directions"])
    # the unit and auto-cmi in the caption, its choice in the row: a row fits 80 columns
    for name in ("direction", "TE", "estimator", "rows"):
        table.add_column(name, justify="left" if name in ("direction", "estimator")
                         else "right", no_wrap=True)
    if has_ci:
        table.add_column("95% CI", justify="right", no_wrap=True)
    if has_p:
        table.add_column("p", justify="right", no_wrap=True)
        table.add_column("null 95%", justify="right", no_wrap=True)
    for d in doc["directions"]:
        te = "—" if d["te"] is None else f"{d['te']:.4f}"
        est = d.get("chosen") or d["estimator"] or "—"  # auto-cmi: the component it chose
        row = [f"{','.join(d['source'])} → {','.join(d['target'])}", te, est,
               f"{d['n_used']:,}"]
        if has_ci:
            lo, hi = d.get("ci_low"), d.get("ci_high")
            row.append("—" if lo is None or hi is None else f"{lo:.4f}–{hi:.4f}")
        if has_p:
            p, q = d.get("p_value"), d.get("null_p95")
            row += ["—" if p is None else f"{p:.3g}", "—" if q is None else f"{q:.4f}"]
        table.add_row(*[escape(c) for c in row])
    console = cli_output.stdout_console()
    console.print(table)
    chose = ("; estimator: auto-cmi's choice" if any(d.get("chosen") for d in doc["directions"])
             else "")
    console.print(f"TE(X→Y) = I(Y(t); X(t-1..t-K) | Y(t-1..t-L)) in {doc['unit']}{chose}; "
                  "each TE is an estimate (either side of the truth)"
                  + (f"; p-values from {doc['surrogates']['permutations']} time-shift "
                     "surrogates per direction" if has_p else
                     "; --permutations P tests each direction")
                  + ("; intervals from block half-samples of the series" if has_ci else ""),
                  highlight=False)


def register(app: typer.Typer) -> None:
    app.command("te")(te_command)
