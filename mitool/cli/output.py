"""Pieces every CLI command shares: error mapping, stderr console, JSON on stdout, progress.

Only the CLI layer imports this module; library code reports progress through plain
callbacks (``ProgressCallback``) and never touches the terminal.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import typer

from mitool.errors import MitoolError

if TYPE_CHECKING:  # pragma: no cover - numpy-free at CLI start-up
    from mitool.estimators.base import ProgressCallback

EXIT_RUNTIME = 1  # runtime failure; 2 (usage) and 3 (gate) come from the exceptions/gate
EXIT_INTERRUPTED = 130


def stderr_console():
    """A Rich console bound to stderr (imported lazily: rich costs start-up time)."""
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def stdout_console():
    from rich.console import Console

    return Console(highlight=False)


def warn(message: str) -> None:
    """One warning line on stderr."""
    stderr_console().print(f"[yellow]warning:[/yellow] {_escape(message)}")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def fail(message: str, code: int) -> typer.Exit:
    """Print ``error: message`` on stderr and return the Exit to raise."""
    sys.stderr.write(f"error: {message}\n")
    sys.stderr.flush()
    return typer.Exit(code)


@contextlib.contextmanager
def guarded() -> Iterator[None]:
    """Map mitool's exceptions to one stderr line and an exit code; Ctrl-C to 130.

    ``MITOOL_DEBUG=1`` adds the traceback for people debugging mitool itself.
    """
    debug = os.environ.get("MITOOL_DEBUG", "") not in ("", "0")
    try:
        yield
    except typer.Exit:
        raise
    except MitoolError as exc:
        if debug:
            traceback.print_exc()
        raise fail(str(exc), exc.exit_code) from None
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except MemoryError:
        if debug:
            traceback.print_exc()
        raise fail("out of memory; try --max-rows or a smaller --batch-size", EXIT_RUNTIME) from None
    except Exception as exc:  # noqa: BLE001 - last line of defence: no traceback for users
        if debug:
            traceback.print_exc()
        raise fail(
            f"unexpected failure: {type(exc).__name__}: {exc} (set MITOOL_DEBUG=1 for a traceback)",
            EXIT_RUNTIME,
        ) from None


def emit_json(doc: Any) -> None:
    """Exactly one JSON document on stdout, written directly (never through Rich)."""
    from mitool.jsonout import dumps

    sys.stdout.write(dumps(doc))
    sys.stdout.flush()


def progress_enabled(quiet: bool) -> bool:
    """Progress bars only for a person watching: not with --quiet, not when stderr is piped."""
    return not quiet and sys.stderr.isatty()


@contextlib.contextmanager
def progress_bar(description: str, enabled: bool) -> Iterator["ProgressCallback | None"]:
    """Yield a callback driving a Rich progress bar on stderr, or None when disabled."""
    if not enabled:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[info]}"),
    )
    with Progress(*columns, console=stderr_console(), transient=True) as progress:
        task = progress.add_task(description, total=None, info="")

        def update(done: int, total: int, fields: dict) -> None:
            label = fields.get("stage", description)
            info = " ".join(
                f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}"
                for k, v in fields.items()
                if k != "stage"
            )
            progress.update(task, completed=done, total=total, description=label, info=info)

        yield update
