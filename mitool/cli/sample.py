"""``mitool sample``: the face of the known-MI generators (``mitool.data.synthetic``) as CSV."""

from __future__ import annotations

import sys
from enum import Enum

import typer

from mitool.cli.options import DataOutputOption, SeedOption
from mitool.cli.output import guarded


class SampleKind(str, Enum):
    gaussian = "gaussian"
    student_t = "student-t"
    additive_uniform = "additive-uniform"
    independent = "independent"
    label = "label"


def sample_command(
    kind: SampleKind = typer.Argument(SampleKind.gaussian, help="Which known-MI dataset to generate."),
    n: int = typer.Option(5000, "--n", help="Rows."),
    dim: int = typer.Option(1, "--dim", help="Dimension of X and of Y (gaussian, student-t, independent)."),
    mi: float = typer.Option(1.0, "--mi", help="Target MI in nats (gaussian)."),
    structure: str = typer.Option("paired", "--structure", help="gaussian: paired, sparse or dense correlations."),
    rho: float = typer.Option(0.5, "--rho", help="student-t: correlation of each pair."),
    dof: float = typer.Option(3.0, "--dof", help="student-t: degrees of freedom."),
    eps: float = typer.Option(0.1, "--eps", help="additive-uniform: noise half-width (<= 0.5)."),
    classes: int = typer.Option(4, "--classes", help="label: number of classes."),
    transform: str | None = typer.Option(None, "--transform", help="Invertible per-column maps 'XMAP,YMAP' (cube, exp, asinh, wiggly, halfcube): MI unchanged."),
    seed: SeedOption = 0,
    output: DataOutputOption = None,
) -> None:
    """Generate a dataset with analytically known MI (as CSV); the true MI goes to stderr.

    Example: mitool sample gaussian --n 2000 --mi 0.5 --output gauss.csv
    """
    with guarded():
        from mitool.atomic import atomic_path, check_writable

        if output is not None:  # before importing scipy: a typo costs nothing
            check_writable(output, "--output")
        from mitool.data import synthetic

        d = synthetic.sample(kind.value, n, dim=dim, mi=mi, structure=structure, rho=rho,
                             dof=dof, eps=eps, classes=classes, transform=transform, seed=seed)
        frame = d.to_frame()
        if output is None:
            frame.to_csv(sys.stdout, index=False)
            sys.stdout.flush()
        else:
            with atomic_path(output) as tmp:
                frame.to_csv(tmp, index=False)
        sys.stderr.write(
            f"{d.name}: true MI = {d.mi:.6f} nats; x: {','.join(d.x_names)}; "
            f"y: {','.join(d.y_names)}\n"
        )


def register(app: typer.Typer) -> None:
    app.command("sample")(sample_command)
