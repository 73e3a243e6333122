"""``mitool cluster``: Invariant Information Clustering of a folder of images.

Parses options, calls ``mitool.cluster`` and renders the result; no torch at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from mitool.cli import output as cli_output
from mitool.cli.options import Format, FormatOption, OutputOption, QuietOption, SeedOption


def _print_plan(plan: Any) -> None:
    """The expected duration before training starts (and for long CPU jobs, how to cut it)."""
    import sys

    lines = [f"plan: {plan.summary()}"]
    tips = plan.advice()
    if tips:
        lines.append("  to make it shorter: " + "; ".join(tips))
    try:
        sys.stderr.write("\n".join(lines) + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def register(app: typer.Typer) -> None:
    """Add the ``cluster`` command to ``app``."""
    app.command(name="cluster", no_args_is_help=True)(cluster_command)


def cluster_command(
    folder: Path = typer.Argument(..., help="Folder of images (PNG/JPEG/BMP/GIF/TIFF/WebP), "
                                  "searched recursively; sub-folder names are used as labels "
                                  "for evaluation only."),
    *,
    k: int | None = typer.Option(None, "--k", help="Number of clusters (default 10).",
                            show_default=False),
    overcluster: int | None = typer.Option(
        None, "--overcluster", help="Clusters of the auxiliary over-clustering head "
        "(default 5*k; 0 = off)."),
    subheads: int = typer.Option(5, "--subheads", help="Sub-heads per head; the one with the "
                                 "lowest IIC loss is reported."),
    steps: int | None = typer.Option(None, "--steps", help="Optimiser steps per head (default: "
                                     "sized by the number of images, 700 at 1,800, 2,000 at "
                                     "60,000; stops early once the loss stops improving)."),
    epochs: int | None = typer.Option(None, "--epochs", help="Passes over the images per head "
                                      "instead of the step budget (no early stop)."),
    early_stop: bool = typer.Option(True, "--early-stop/--no-early-stop", help="Stop when the "
                                    "best sub-head's loss stops improving (default budget only)."),
    refit: bool = typer.Option(True, "--refit/--no-refit", help="After training, fit fresh "
                               "k-cluster heads on the learned features; any with a lower IIC "
                               "loss replace the worst sub-heads (frees a head stuck merging "
                               "two groups)."),
    max_images: int | None = typer.Option(None, "--max-images", help="Train on a random sample "
                                          "of this many images, then assign all of them."),
    batch_size: int | None = typer.Option(None, "--batch-size",
                                          help="Distinct images per batch (default 64)."),
    repeats: int | None = typer.Option(None, "--repeats", help="Perturbed copies of each image "
                                       "per batch (default 4)."),
    lr: float | None = typer.Option(None, "--lr", help="Adam learning rate (default 1e-3)."),
    lambda_entropy: float = typer.Option(1.5, "--lambda-entropy", help="Weight of the marginal "
                                         "entropies (1 = plain mutual information as in the "
                                         "paper; >1 spreads images over all clusters; must be "
                                         "above 0.5)."),
    image_size: int | None = typer.Option(None, "--image-size", help="Working side images are "
                                          "resized to (default: the smallest that keeps the "
                                          "content's detail, at most 64)."),
    channels: int | None = typer.Option(None, "--channels", help="1 (grayscale, the default: "
                                        "clusters then follow shape, not hue) or 3 (colour, when "
                                        "colour is what the groups differ by)."),
    framing: str = typer.Option("auto", "--framing", help="auto | object | full: cut each image "
                                "to the square around its object (auto: when the objects are "
                                "clearly smaller than the frame)."),
    head: str | None = typer.Option(None, "--head", help="flat (reads where things are) or pool "
                                    "(ignores position) (default: flat when framed or below "
                                    "16 px, else pool)."),
    flip: bool = typer.Option(False, "--flip/--no-flip", help="Random horizontal flips "
                              "(off: digits and text are not flip-invariant)."),
    translate: float | None = typer.Option(None, "--translate", help="Max random shift, as a "
                                           "fraction of the image side (default 0.1; objects are framed first)."),
    zoom: float | None = typer.Option(None, "--zoom", help="Max random zoom in or out (default "
                                      "0.1 = 90-110%)."),
    rotation: float | None = typer.Option(None, "--rotation", help="Max random rotation in "
                                          "degrees (default 15, or 180 when the images share "
                                          "no edge direction)."),
    colour_jitter: bool = typer.Option(True, "--colour-jitter/--no-colour-jitter",
                                       help="Colour images: shuffle channels and jitter "
                                       "saturation so clusters do not follow hue."),
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda"),
    seed: SeedOption = 0,
    threads: int | None = typer.Option(None, "--threads", help="torch CPU threads (default: "
                                       "timed during the warm-up, re-timed when the machine "
                                       "gets busier; give a number for bit-identical reruns)."),
    baseline: bool = typer.Option(True, "--baseline/--no-baseline", help="Also score k-means "
                                  "on raw pixels when labels exist."),
    assignments: Path | None = typer.Option(None, "--assignments", help="Write a CSV: path, "
                                            "cluster, confidence."),
    montage: Path | None = typer.Option(None, "--montage", help="Write a PNG grid of sample "
                                        "images from each cluster."),
    save_model: Path | None = typer.Option(None, "--save-model", help="Save the trained model."),
    load_model: Path | None = typer.Option(None, "--load-model", help="Assign the images with "
                                           "a saved model instead of training."),
    fmt: FormatOption = Format.table,
    output: OutputOption = None,
    quiet: QuietOption = False,
) -> None:
    """Cluster a folder of images without labels (IIC: Invariant Information Clustering).

    With --format csv the report is one row per image (path, cluster, confidence: the rows
    --assignments writes); json is the full report (docs/cluster.md).

    Example: mitool cluster sample_data/digits --k 10 --assignments clusters.csv
    """
    with cli_output.guarded():
        from mitool.errors import UsageError

        # every destination is checked before any work (a typo costs a second, not a run)
        outputs = {"--output": output, "--assignments": assignments, "--montage": montage,
                   "--save-model": save_model}
        cli_output.check_destinations(outputs, {"--load-model": load_model})
        import mitool.cluster as lib

        with cli_output.progress_reporter("clustering", quiet) as progress:
            if load_model is not None:
                training_only = {"--overcluster": overcluster, "--steps": steps,
                                 "--epochs": epochs, "--max-images": max_images,
                                 "--batch-size": batch_size, "--repeats": repeats, "--lr": lr,
                                 "--image-size": image_size, "--channels": channels,
                                 "--head": head,
                                 "--framing": None if framing == "auto" else framing}
                given = [name for name, value in training_only.items() if value is not None]
                if given:
                    raise UsageError(f"{', '.join(given)} cannot be used with --load-model "
                                     "(the saved model fixes them)")
                if save_model is not None:
                    raise UsageError("--save-model cannot be used with --load-model")
                result = lib.assign(folder, load_model, device=device, seed=seed,
                                    threads=threads, baseline=baseline, progress=progress)
                if k is not None and k != result.k:
                    raise UsageError(f"--k {k} does not match the saved model (k={result.k})")
            else:
                defaults = lib.TrainConfig()
                augment = lib.augment_config(flip=flip, translate=translate, zoom=zoom,
                                             rotation=rotation, colour=colour_jitter)
                train = lib.TrainConfig(
                    steps=steps, epochs=epochs, early_stop=early_stop,
                    batch_size=batch_size if batch_size is not None else defaults.batch_size,
                    repeats=repeats if repeats is not None else defaults.repeats,
                    lr=lr if lr is not None else defaults.lr,
                    lambda_entropy=lambda_entropy, augment=augment)
                result = lib.cluster(
                    folder, k=k if k is not None else 10, seed=seed, train=train,
                    images=lib.ImageOptions(image_size=image_size,
                                            channels=channels if channels is not None else 1,
                                            framing=framing.strip().lower(),
                                            max_images=max_images),
                    heads=lib.HeadOptions(overcluster=overcluster, subheads=subheads,
                                          head=head, refit=refit),
                    device=device, threads=threads, baseline=baseline, progress=progress,
                    on_plan=None if quiet else _print_plan,
                )
        emitted = cli_output.emit_report(
            fmt, result.to_dict(), table=lambda: _render_table(result),
            csv=lambda: cluster_csv(result), warnings=result.warnings,
        )
        writers = {"--assignments": lib.write_assignments, "--montage": lib.write_montage,
                   "--save-model": lib.save_model}
        cli_output.write_after_report({
            "--output": cli_output.report_writer(output, emitted),
            **{option: _writer(writers[option], result, path)
               for option, path in outputs.items() if option in writers},
        }, emitted)


def _writer(write: Any, result: Any, path: Path | None) -> Any:
    """``write(result, path)`` for ``write_after_report`` (None when the file was not asked for)."""
    return None if path is None else (lambda: write(result, path))


# one row per image, the rows --assignments writes (mitool.cluster.write_assignments)
CSV_FIELDS = ["path", "cluster", "confidence"]


def cluster_csv(result: Any) -> str:
    """``--format csv``: path, cluster, confidence (4 decimals) for every image."""
    rows = ({"path": str(p), "cluster": int(c), "confidence": f"{float(conf):.4f}"}
            for p, c, conf in zip(result.paths, result.clusters, result.confidence, strict=True))
    return cli_output.csv_text(CSV_FIELDS, rows)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _render_table(result: Any) -> None:
    import math

    from rich.table import Table

    from mitool.durations import format_duration

    console = cli_output.stdout_console()
    title = (f"IIC clustering: {result.n_images} images"
             f"{f' ({result.n_skipped} skipped)' if result.n_skipped else ''}, k={result.k}, "
             f"{result.image_size} px")
    table = Table(title=title)
    table.add_column("method")
    for name in ("accuracy", "NMI", "ARI"):
        table.add_column(name, justify="right")
    table.add_column("IIC loss", justify="right")
    rows = [(f"IIC (sub-head {result.chosen_subhead})", result.metrics, result.loss)]
    over = result.overcluster
    if over is not None and over.get("metrics") is not None:
        rows.append((f"over-clustering head, k={over['k']} (many-to-one)",
                     {**over["metrics"], "accuracy": over["metrics"].get(
                         "many_to_one_accuracy", over["metrics"]["accuracy"])}, over["loss"]))
    if result.baseline_kmeans is not None:
        rows.append(("k-means on pixels", result.baseline_kmeans, None))
    for name, scores, loss in rows:
        row = [_fmt(None if scores is None else scores[key]) for key in ("accuracy", "nmi", "ari")]
        table.add_row(name, *row, _fmt(loss))
    console.print(table)
    if result.metrics is None:
        console.print("no labels (images are not in class sub-folders): accuracy/NMI/ARI not "
                      "computed")
    elif "many_to_one_accuracy" in result.metrics:
        console.print(f"many-to-one accuracy (clusters may share a label): "
                      f"{result.metrics['many_to_one_accuracy']:.3f}")
    console.print(f"cluster sizes: {' '.join(str(s) for s in result.cluster_sizes)}")
    share = result.mutual_information / math.log(result.k)
    console.print(f"mutual information of two perturbed views: {result.mutual_information:.3f} "
                  f"of log k = {math.log(result.k):.3f} nats ({share:.0%}); min possible loss "
                  f"{result.min_possible_loss:.3f} (-(2λ-1)·log k at λ = {result.lambda_entropy:g})")
    t = result.training
    if t:
        stopped = " (stopped early: the loss had stopped improving)" if t["stopped_early"] else ""
        expected = (f", expected {format_duration(t['expected_seconds'])}"
                    if t.get("expected_seconds") is not None else "")
        console.print(f"trained {t['steps']:,} of {t['planned_steps']:,} steps{stopped} in "
                      f"{format_duration(t['seconds'])}{expected}")
    console.print(f"{format_duration(result.seconds)} in all on {result.device} "
                  f"({result.threads} thread(s))")
