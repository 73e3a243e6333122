"""``mitool pairs``: screen columns against a target (or all pairs) for dependence, or for
conditional dependence given some columns (``--given``)."""

from __future__ import annotations

from pathlib import Path

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
    NormalizeOption,
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

CSV_FIELDS = ["x", "y", "mi", "mi_raw", "estimator", "n_used", "p_value", "q_value", "null_p95",
              "prescreen_mi", "seconds", "note"]
# with --normalize (docs/json-schema.md, the pairs' normalized block)
NORMALIZED_FIELDS = ["ic", "share_of_entropy", "symmetric_uncertainty", "H_x", "H_y"]


def pairs_command(
    data: DataArgument,
    *,
    target: str | None = typer.Option(None, "--target", "-t", help="Score every column against this one; without it, every pair of columns."),
    columns: list[str] = typer.Option([], "--columns", "-c", help="Columns to screen (names or globs, comma-separated, repeatable). Default: all."),
    given: list[str] = typer.Option([], "--given", "-g", help="Conditioning columns Z (names or globs, comma-separated, repeatable): rank by I(X;target|Z), what each column adds to Z; Z is not screened."),
    estimator: str | None = typer.Option(None, "--estimator", "-e", help="Any mitool estimator (default ksg; sklearn, gcmi, or a neural one: slow, see --refine). With --given: auto-cmi (default), ksg-cmi or gcmi-cmi."),
    prescreen: str | None = typer.Option(None, "--prescreen", help="Cheap estimator that scores every pair first; --estimator then re-scores only the top --refine pairs."),
    refine: int | None = typer.Option(None, "--refine", help="Re-score only the N highest pairs of --prescreen with --estimator."),
    k: int = typer.Option(3, "--k", help="Neighbours for the k-NN estimators."),
    unit: UnitOption = Unit.nats,
    fmt: FormatOption = Format.table,
    output: OutputOption = None,
    discrete: DiscreteOption,
    continuous: ContinuousOption,
    permutations: int = typer.Option(0, "--permutations", help="Permutation p-value per pair with N shuffles (plus Benjamini-Hochberg q-values over all pairs). With --given: a local permutation of X among the --k-perm rows nearest in Z."),
    k_perm: int = typer.Option(5, "--k-perm", help="With --given and --permutations: the rows nearest in Z among which each row's X is redrawn (Runge 2018)."),
    jobs: int = typer.Option(1, "--jobs", "-j", help="Parallel workers (-1: all cores)."),
    backend: str = typer.Option("loky", "--backend", help="loky (local processes), threading, ray or dask (ray/dask need their extras)."),
    address: str | None = typer.Option(None, "--address", help="Ray or Dask cluster address, e.g. tcp://host:8786 (default: a local cluster)."),
    max_rows: MaxRowsOption = None,
    input_format: InputFormatOption = None,
    sep: SepOption = None,
    decimal: DecimalOption = None,
    thousands: ThousandsOption = None,
    encoding: EncodingOption = None,
    normalize: NormalizeOption = False,
    transform: str | None = typer.Option(None, "--transform", help="k-NN: standardize (default) or copula (the default with --given)."),
    seed: SeedOption = 0,
    top: int | None = typer.Option(None, "--top", help="Report only the N highest pairs (every format)."),
    heatmap: Path | None = typer.Option(None, "--heatmap", help="All-pairs mode: draw the MI matrix to this PNG."),
    quiet: QuietOption = False,
) -> None:
    """Rank columns by their MI with a target, or every pair of columns, in parallel.

    Every pair derives its own seed from --seed, so results do not depend on --jobs.

    Example: mitool pairs sample_data/wine.csv --target target --permutations 100

    Example: mitool pairs sample_data/wine.csv --target target --given flavanoids
    """
    with guarded():
        from mitool.errors import UsageError
        from mitool.estimators.config import KnnConfig
        from mitool.inference import InferenceSpec
        from mitool.screening import Parallel, pairs

        if heatmap is not None and target is not None:
            raise UsageError("--heatmap draws the all-pairs matrix: drop --target to use it")
        if top is not None and top < 1:
            raise UsageError(f"--top must be a positive integer, got {top}")
        cli_output.check_destinations({"--output": output, "--heatmap": heatmap})
        if heatmap is not None:
            cli_output.require_matplotlib("--heatmap")
        source = read_source(data)
        with cli_output.progress_reporter("pairs", quiet) as progress:
            result = pairs(
                source, target=target, columns=columns or None, estimator=estimator,
                given=given or None, seed=seed, unit=unit.value,
                table=table_options(discrete, continuous, max_rows, input_format, sep,
                                    decimal, thousands, encoding),
                knn=KnnConfig(k, transform), inference=InferenceSpec(permutations, 0, k_perm),
                prescreen=prescreen, refine=refine,
                parallel=Parallel(jobs, backend, address), progress=progress,
            )
        doc = result.to_dict(normalized=normalize)
        if top is not None:
            doc["top"] = top
            doc["pairs"] = doc["pairs"][:top]
        csv_fields = CSV_FIELDS + (NORMALIZED_FIELDS if normalize else [])
        emitted = cli_output.emit_report(
            fmt, doc, table=lambda: _render(doc),
            csv=lambda: cli_output.csv_text(
                csv_fields, [{**r, **r.get("normalized", {})} for r in doc["pairs"]]),
            warnings=result.warnings,
        )
        heatmap_writer = None
        if heatmap is not None:
            def heatmap_writer() -> None:
                from mitool.plotting import draw_heatmap

                names, matrix = result.matrix()
                what = (f"pairwise MI given {', '.join(result.given)}"
                        if result.given is not None else "pairwise MI")
                draw_heatmap(names, matrix, heatmap, result.unit,
                             f"{what} ({result.estimator})")
        cli_output.write_after_report(
            {"--heatmap": heatmap_writer, "--output": cli_output.report_writer(output, emitted)},
            emitted,
        )


def _render(doc: dict) -> None:
    from rich.markup import escape
    from rich.table import Table

    title = f"MI with '{doc['target']}'" if doc["target"] else "MI of every column pair"
    if "given" in doc:
        z = ", ".join(doc["given"]) or "nothing (every given column was constant)"
        title = (f"I(X; {doc['target']} | {z}): what each column adds to the given ones"
                 if doc["target"] else f"I(X; Y | {z}) of every column pair")
    rows = doc["pairs"]
    est = doc["estimator"]
    if doc["prescreen"]:
        est = f"{doc['prescreen']} on every pair, {doc['estimator']} on the top {doc['refine']}"
    shown = f", top {len(rows)} shown" if doc.get("top") else ""
    caption = (f"{doc['input']['path']}: {doc['input']['n_rows']:,} rows, {est} (k={doc['k']}), "
               f"{doc['seconds']:.2f}s{shown}")
    if doc["permutations"]:
        local = (f", local: X redrawn among the {doc['k_perm']} rows nearest in the given "
                 "columns" if "k_perm" in doc else "")
        caption += (f"; p-values per pair ({doc['permutations']} permutations{local}), "
                    "q-values Benjamini-Hochberg over all pairs")
    table = Table(title=escape(title), caption=escape(caption))
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("column" if doc["target"] else "pair", overflow="fold")
    mi_head = "CMI" if "given" in doc else "MI"
    table.add_column(f"{mi_head} ({doc['unit']})", justify="right", no_wrap=True)
    if doc["prescreen"]:
        table.add_column(f"{doc['prescreen']}", justify="right", no_wrap=True)
    if doc["permutations"]:
        table.add_column("p-value", justify="right", no_wrap=True)
        table.add_column("q-value", justify="right", no_wrap=True)
    normalized = bool(rows) and "normalized" in rows[0]
    if normalized:
        table.add_column("0-1", justify="right", no_wrap=True)
    table.add_column("rows", justify="right", no_wrap=True)
    table.add_column("notes", overflow="fold")
    for i, r in enumerate(rows, 1):
        name = r["x"] if doc["target"] else f"{r['x']} ~ {r['y']}"
        cells = [str(i), escape(name), "—" if r["mi"] is None else f"{r['mi']:.4f}"]
        if doc["prescreen"]:
            cells.append("—" if r["prescreen_mi"] is None else f"{r['prescreen_mi']:.4f}")
        if doc["permutations"]:
            cells.append("—" if r["p_value"] is None else f"{r['p_value']:.3g}")
            cells.append("—" if r["q_value"] is None else f"{r['q_value']:.3g}")
        if normalized:
            cells.append(_zero_one(r["normalized"]))
        cells += [f"{r['n_used']:,}", escape(r["note"] or "")]
        table.add_row(*cells)
    cli_output.stdout_console().print(table)
    if normalized:
        cli_output.stdout_console().print(
            "0-1: IC = sqrt(1 - e^(-2 MI)) for two continuous columns (|rho| of a Gaussian "
            "pair); H = MI as a share of the smaller entropy of the discrete columns",
            highlight=False)


def _zero_one(n: dict) -> str:
    if n.get("ic") is not None:
        return f"IC {n['ic']:.3f}"
    if n.get("share_of_entropy") is not None:
        return f"H {n['share_of_entropy']:.3f}"
    return "—"


def register(app: typer.Typer) -> None:
    app.command("pairs")(pairs_command)
