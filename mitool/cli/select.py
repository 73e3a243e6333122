"""``mitool select``: greedy forward feature selection by conditional MI (``mitool.selection``)."""

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
    InputFormatOption,
    MaxRowsOption,
    OutputOption,
    QuietOption,
    SeedOption,
    SepOption,
    ThousandsOption,
    Unit,
    UnitOption,
    read_source,
    table_options,
)
from mitool.cli.output import guarded

CSV_FIELDS = ["step", "feature", "gain", "gain_raw", "cumulative", "estimator", "candidates",
              "p_value", "runner_up", "runner_up_gain", "capped_from", "seconds"]


def select_command(
    data: DataArgument,
    *,
    target: str = typer.Option(..., "--target", "-t", help="The column to explain."),
    k: int = typer.Option(10, "--k", help="Select at most this many columns."),
    columns: list[str] = typer.Option([], "--columns", "-c", help="Candidate columns (names or globs, comma-separated, repeatable). Default: all but the target and --given."),
    given: list[str] = typer.Option([], "--given", "-g", help="Columns every step conditions on (never selected): start the selection from them."),
    estimator: str | None = typer.Option(None, "--estimator", "-e", help="gcmi-cmi (the default for a continuous target: fast, keeps its accuracy as the selected set grows), ksg-cmi (the default for a discrete target; reads non-monotone dependence, slower) or auto-cmi."),
    min_gain: float = typer.Option(0.0, "--min-gain", help="Stop when the best remaining column adds less than this many nats."),
    permutations: int = typer.Option(0, "--permutations", help="At each step, a local permutation test (N draws) of the best gain against the best of all candidates; stop when p > --alpha."),
    alpha: float = typer.Option(0.05, "--alpha", help="With --permutations: the significance level of the stop test."),
    k_perm: int = typer.Option(5, "--k-perm", help="With --permutations: the rows nearest in the selected columns among which the target is redrawn."),
    knn_k: int = typer.Option(3, "--knn-k", help="Neighbours of ksg-cmi."),
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
) -> None:
    """Pick columns one at a time, each the one that adds most to those already picked:
    the highest I(X; target | selected). A near-copy of a picked column adds nothing and is
    passed over.

    Example: mitool select sample_data/wine.csv --target target --k 5
    """
    with guarded():
        from mitool.errors import UsageError
        from mitool.estimators.config import KnnConfig
        from mitool.inference import InferenceSpec
        from mitool.selection import select

        if knn_k < 1:  # KnnConfig would name its own --k, which is select's column count
            raise UsageError(f"--knn-k must be a positive integer, got {knn_k}")
        cli_output.check_destinations({"--output": output})
        source = read_source(data)
        with cli_output.progress_reporter("select", quiet) as progress:
            result = select(
                source, target, columns=columns or None, estimator=estimator,
                max_features=k, given=given or None, min_gain=min_gain, alpha=alpha,
                seed=seed, unit=unit.value,
                table=table_options(discrete, continuous, max_rows, input_format, sep,
                                    decimal, thousands, encoding),
                knn=KnnConfig(knn_k), inference=InferenceSpec(permutations, 0, k_perm),
                progress=progress,
            )
        doc = result.to_dict()
        emitted = cli_output.emit_report(
            fmt, doc, table=lambda: _render(doc),
            csv=lambda: cli_output.csv_text(CSV_FIELDS, doc["steps"]),
            warnings=result.warnings,
        )
        cli_output.write_after_report({"--output": cli_output.report_writer(output, emitted)},
                                      emitted)


def _render(doc: dict) -> None:
    from rich.markup import escape
    from rich.table import Table

    unit = doc["unit"]
    z = f" | {', '.join(doc['given'])}" if doc["given"] else ""
    title = f"Forward selection for '{doc['target']}': gain = I(X; {doc['target']} | chosen{z})"
    caption = (f"{doc['input']['path']}: {doc['input']['n_used']:,} of "
               f"{doc['input']['n_rows']:,} rows, {doc['estimator']} (estimates, not bounds), "
               f"{doc['seconds']:.2f}s")
    if doc["permutations"]:
        caption += (f"; p: best gain against the best of all candidates, "
                    f"{doc['permutations']} local permutations (k_perm={doc['k_perm']})")
    caption += f"; gain and total in {unit}; total: the gains summed (the chain rule)"
    table = Table(title=escape(title), caption=escape(caption))
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("feature", overflow="fold", min_width=8)
    table.add_column("gain", justify="right", no_wrap=True)
    table.add_column("total", justify="right", no_wrap=True)
    if doc["permutations"]:
        table.add_column("p-value", justify="right", no_wrap=True)
    table.add_column("runner-up (gain)", overflow="fold", min_width=8)
    for s in doc["steps"]:
        gain = f"{s['gain']:.4f}" + (" (capped)" if s["capped_from"] is not None else "")
        cells = [str(s["step"]), escape(s["feature"]), gain, f"{s['cumulative']:.4f}"]
        if doc["permutations"]:
            cells.append(f"{s['p_value']:.3g}")
        runner = ("—" if s["runner_up"] is None
                  else f"{s['runner_up']} ({s['runner_up_gain']:.4f})")
        cells.append(escape(runner))
        table.add_row(*cells)
    console = cli_output.stdout_console()
    console.print(table)
    console.print(f"stopped: {doc['stop_reason']} ({doc['stop_detail']})", highlight=False,
                  markup=False)


def register(app: typer.Typer) -> None:
    app.command("select")(select_command)
