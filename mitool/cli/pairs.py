"""``mitool pairs``: screen columns against a target (or all pairs) for dependence."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path

import typer

from mitool.cli import output as cli_output
from mitool.cli.output import guarded


class PairsFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


CSV_FIELDS = ["x", "y", "mi", "mi_raw", "estimator", "n_used", "p_value", "q_value", "null_p95",
              "prescreen_mi", "seconds", "note"]


def pairs_command(
    data: str = typer.Argument(..., help="CSV, TSV or Parquet file, or '-' for standard input."),
    target: str | None = typer.Option(None, "--target", "-t", help="Score every column against this one; without it, every pair of columns."),
    columns: list[str] = typer.Option([], "--columns", "-c", help="Columns to screen (names or globs, comma-separated, repeatable). Default: all."),
    estimator: str = typer.Option("ksg", "--estimator", "-e", help="Any mitool estimator (ksg, sklearn, gcmi, or a neural one: slow, see --refine)."),
    prescreen: str | None = typer.Option(None, "--prescreen", help="Cheap estimator that scores every pair first; --estimator then re-scores only the top --refine pairs."),
    refine: int | None = typer.Option(None, "--refine", help="Re-score only the N highest pairs of --prescreen with --estimator."),
    k: int = typer.Option(3, "--k", help="Neighbours for the k-NN estimators."),
    unit: str = typer.Option("nats", "--unit", help="nats or bits."),
    fmt: PairsFormat = typer.Option(PairsFormat.table, "--format", "-f", help="table, json or csv (on stdout)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Also write the report (JSON, or CSV with --format csv) to this file, atomically."),
    discrete: list[str] = typer.Option([], "--discrete", help="Columns to treat as discrete."),
    continuous: list[str] = typer.Option([], "--continuous", help="Columns to force numeric."),
    permutations: int = typer.Option(0, "--permutations", help="Permutation p-value per pair with N shuffles (plus Benjamini-Hochberg q-values over all pairs)."),
    jobs: int = typer.Option(1, "--jobs", "-j", help="Parallel workers (-1: all cores)."),
    backend: str = typer.Option("loky", "--backend", help="loky (local processes), threading, ray or dask (ray/dask need their extras)."),
    address: str | None = typer.Option(None, "--address", help="Ray or Dask cluster address, e.g. tcp://host:8786 (default: a local cluster)."),
    max_rows: int | None = typer.Option(None, "--max-rows", help="Use a seeded random sample of at most N rows."),
    input_format: str | None = typer.Option(None, "--input-format", help="csv, tsv or parquet."),
    sep: str | None = typer.Option(None, "--sep", help="CSV field separator (default: detected)."),
    decimal: str | None = typer.Option(None, "--decimal", help="CSV decimal mark, e.g. ',' (default: detected)."),
    thousands: str | None = typer.Option(None, "--thousands", help="CSV thousands separator to remove, e.g. ','."),
    transform: str = typer.Option("standardize", "--transform", help="ksg: standardize or copula."),
    seed: int = typer.Option(0, "--seed", help="Seed; every pair derives its own from it."),
    top: int | None = typer.Option(None, "--top", help="Report only the N highest pairs (every format)."),
    heatmap: Path | None = typer.Option(None, "--heatmap", help="All-pairs mode: draw the MI matrix to this PNG."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress on stderr."),
) -> None:
    """Rank columns by their MI with a target, or every pair of columns, in parallel."""
    with guarded():
        from mitool.atomic import check_distinct, check_writable
        from mitool.data.loading import TableOptions
        from mitool.data.tables import CsvOptions
        from mitool.errors import UsageError
        from mitool.estimators.config import KnnConfig
        from mitool.inference import InferenceSpec
        from mitool.screening import Parallel, pairs

        if heatmap is not None and target is not None:
            raise UsageError("--heatmap draws the all-pairs matrix: drop --target to use it")
        if top is not None and top < 1:
            raise UsageError(f"--top must be a positive integer, got {top}")
        if output is not None:
            check_writable(output, "--output")
        if heatmap is not None:
            check_writable(heatmap, "--heatmap")
            cli_output.require_matplotlib("--heatmap")
        check_distinct({"--output": output, "--heatmap": heatmap})
        source: object = sys.stdin.buffer.read() if data == "-" else data
        with cli_output.progress_reporter("pairs", quiet) as progress:
            result = pairs(
                source, target=target, columns=columns or None, estimator=estimator,
                seed=seed, unit=unit,
                table=TableOptions(discrete, continuous, max_rows, input_format,
                                   CsvOptions(sep, decimal, thousands)),
                knn=KnnConfig(k, transform), inference=InferenceSpec(permutations),
                prescreen=prescreen, refine=refine,
                parallel=Parallel(jobs, backend, address), progress=progress,
            )
        doc = result.to_dict()
        if top is not None:
            doc["top"] = top
            doc["pairs"] = doc["pairs"][:top]
        csv_text = _csv(doc) if fmt is PairsFormat.csv else None
        for w in result.warnings:
            cli_output.warn(w)
        if fmt is PairsFormat.json:
            cli_output.emit_json(doc)
        elif csv_text is not None:
            cli_output.emit_text(csv_text)
        else:
            _render(doc)
        writes = []
        if heatmap is not None:
            from mitool.plotting import draw_heatmap

            names, matrix = result.matrix()
            writes.append(lambda: draw_heatmap(names, matrix, heatmap, result.unit,
                                               f"pairwise MI ({result.estimator})"))
        if output is not None:
            from mitool.atomic import atomic_write_text
            from mitool.jsonout import dumps

            text = csv_text if csv_text is not None else dumps(doc)
            writes.append(lambda: atomic_write_text(output, text))
        cli_output.write_after_report(writes)


def _csv(doc: dict) -> str:
    import csv
    import io

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for row in doc["pairs"]:
        w.writerow({f: ("" if row.get(f) is None else row[f]) for f in CSV_FIELDS})
    return buf.getvalue()


def _render(doc: dict) -> None:
    from rich.markup import escape
    from rich.table import Table

    title = f"MI with '{doc['target']}'" if doc["target"] else "MI of every column pair"
    rows = doc["pairs"]
    est = doc["estimator"]
    if doc["prescreen"]:
        est = f"{doc['prescreen']} on every pair, {doc['estimator']} on the top {doc['refine']}"
    shown = f", top {len(rows)} shown" if doc.get("top") else ""
    caption = (f"{doc['input']['path']}: {doc['input']['n_rows']:,} rows, {est} (k={doc['k']}), "
               f"{doc['seconds']:.2f}s{shown}")
    if doc["permutations"]:
        caption += (f"; p-values per pair ({doc['permutations']} permutations), q-values "
                    "Benjamini-Hochberg over all pairs")
    table = Table(title=escape(title), caption=escape(caption))
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("column" if doc["target"] else "pair", overflow="fold")
    table.add_column(f"MI ({doc['unit']})", justify="right", no_wrap=True)
    if doc["prescreen"]:
        table.add_column(f"{doc['prescreen']}", justify="right", no_wrap=True)
    if doc["permutations"]:
        table.add_column("p-value", justify="right", no_wrap=True)
        table.add_column("q-value", justify="right", no_wrap=True)
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
        cells += [f"{r['n_used']:,}", escape(r["note"] or "")]
        table.add_row(*cells)
    cli_output.stdout_console().print(table)


def register(app: typer.Typer) -> None:
    app.command("pairs")(pairs_command)
