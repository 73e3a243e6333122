"""mitool's command line: parse options, call the library, render the result.

Nothing here computes anything: every command calls a library function that returns one
result object, then renders it as a Rich table (stdout) or one JSON document (stdout).
Errors, warnings and progress go to stderr (see ``mitool.cli.output``).
"""

from __future__ import annotations

import typer

from mitool import __version__

app = typer.Typer(
    name="mitool",
    help="Estimate mutual information on real data, and cluster images by maximising it (IIC).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"mitool {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Show the version."
    ),
) -> None:
    """Estimate mutual information on real data, and cluster images by maximising it (IIC)."""


# --- each command lives in its own module and registers itself here ------------------------
from mitool.cli import cluster, estimate, pairs, sample, select, te  # noqa: E402

for _command in (estimate, sample, pairs, select, cluster, te):
    _command.register(app)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except BrokenPipeError:  # help or usage text into a closed pipe
        from mitool.cli.output import EXIT_BROKEN_PIPE, silence_stdout

        silence_stdout()
        raise SystemExit(EXIT_BROKEN_PIPE) from None


if __name__ == "__main__":
    main()
