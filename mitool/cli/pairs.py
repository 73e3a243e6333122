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


def pairs_command(
    data: str = typer.Argument(..., help="CSV, TSV or Parquet file, or '-' for standard input."),
    target: str | None = typer.Option(None, "--target", "-t", help="Score every column against this one; without it, every pair of columns."),
    columns: list[str] = typer.Option([], "--columns", "-c", help="Columns to screen (names or globs, comma-separated, repeatable). Default: all."),
    estimator: str = typer.Option("ksg", "--estimator", "-e", help="ksg or sklearn."),
    k: int = typer.Option(3, "--k", help="Neighbours for the k-NN estimators."),
    unit: str = typer.Option("nats", "--unit", help="nats or bits."),
    fmt: PairsFormat = typer.Option(PairsFormat.table, "--format", "-f", help="table, json or csv (on stdout)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Also write the report (JSON, or CSV with --format csv) to this file, atomically."),
    discrete: list[str] = typer.Option([], "--discrete", help="Columns to treat as discrete."),
    permutations: int = typer.Option(0, "--permutations", help="Permutation p-value per pair with N shuffles."),
    jobs: int = typer.Option(1, "--jobs", "-j", help="Parallel workers (-1: all cores)."),
    backend: str = typer.Option("loky", "--backend", help="joblib backend: loky, threading, ray or dask (ray/dask need their extras)."),
    address: str | None = typer.Option(None, "--address", help="Dask scheduler address (default: a local cluster)."),
    max_rows: int | None = typer.Option(None, "--max-rows", help="Use a seeded random sample of at most N rows."),
    input_format: str | None = typer.Option(None, "--input-format", help="csv, tsv or parquet."),
    seed: int = typer.Option(0, "--seed"),
    top: int | None = typer.Option(None, "--top", help="Show only the N highest pairs in the table."),
    heatmap: Path | None = typer.Option(None, "--heatmap", help="All-pairs mode: draw the MI matrix to this PNG."),
) -> None:
    """Rank columns by their MI with a target, or every pair of columns (k-NN, in parallel)."""
    with guarded():
        from mitool.atomic import atomic_write_text
        from mitool.errors import UsageError
        from mitool.jsonout import dumps
        from mitool.screening import pairs

        if heatmap is not None and target is not None:
            raise UsageError("--heatmap draws the all-pairs matrix: drop --target to use it")
        source: object = sys.stdin.buffer.read() if data == "-" else data
        result = pairs(
            source, target=target, columns=columns or None, estimator=estimator, k=k,
            unit=unit, discrete=discrete, permutations=permutations, jobs=jobs,
            backend=backend, address=address, max_rows=max_rows, seed=seed,
            input_format=input_format,
        )
        doc = result.to_dict()
        csv_text = _csv(doc) if fmt is PairsFormat.csv else None
        if heatmap is not None:
            from mitool.plotting import draw_heatmap

            names, matrix = result.matrix()
            draw_heatmap(names, matrix, heatmap, result.unit, f"pairwise MI ({result.estimator})")
        if output is not None:
            atomic_write_text(output, csv_text if csv_text is not None else dumps(doc))
        for w in result.warnings:
            cli_output.warn(w)
        if fmt is PairsFormat.json:
            cli_output.emit_json(doc)
        elif csv_text is not None:
            sys.stdout.write(csv_text)
        else:
            _render(doc, top)


def _csv(doc: dict) -> str:
    import csv
    import io

    buf = io.StringIO()
    fields = ["x", "y", "mi", "n_used", "p_value", "null_p95", "seconds", "note"]
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    for row in doc["pairs"]:
        w.writerow({f: ("" if row[f] is None else row[f]) for f in fields})
    return buf.getvalue()


def _render(doc: dict, top: int | None) -> None:
    from rich.markup import escape
    from rich.table import Table

    title = f"MI with '{doc['target']}'" if doc["target"] else "MI of every column pair"
    rows = doc["pairs"][:top] if top else doc["pairs"]
    table = Table(title=escape(title), caption=escape(
        f"{doc['input']['path']}: {doc['input']['n_rows']:,} rows, {doc['estimator']} (k={doc['k']}), "
        f"{doc['seconds']:.2f}s"
    ))
    table.add_column("#", justify="right")
    table.add_column("column" if doc["target"] else "pair")
    table.add_column(f"MI ({doc['unit']})", justify="right")
    if doc["permutations"]:
        table.add_column("p-value", justify="right")
    table.add_column("rows", justify="right")
    table.add_column("notes")
    for i, r in enumerate(rows, 1):
        name = r["x"] if doc["target"] else f"{r['x']} ~ {r['y']}"
        mi = "—" if r["mi"] is None else f"{r['mi']:.4f}"
        cells = [str(i), escape(name), mi]
        if doc["permutations"]:
            cells.append("—" if r["p_value"] is None else f"{r['p_value']:.3g}")
        cells += [f"{r['n_used']:,}", escape(r["note"] or "")]
        table.add_row(*cells)
    cli_output.stdout_console().print(table)


def register(app: typer.Typer) -> None:
    app.command("pairs")(pairs_command)
