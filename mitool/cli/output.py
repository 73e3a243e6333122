"""Pieces every CLI command shares: error mapping, stderr console, the report on stdout
(``emit_report``), files after it (``write_after_report``), progress.

Only the CLI layer imports this module; library code reports progress through plain
callbacks (``ProgressCallback``) and never touches the terminal.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mitool.durations import format_duration
from mitool.errors import MitoolError

if TYPE_CHECKING:  # pragma: no cover - numpy-free at CLI start-up
    from mitool.cli.options import Format
    from mitool.estimators.base import ProgressCallback

EXIT_RUNTIME = 1  # runtime failure; 2 (usage) and 3 (gate) come from the exceptions/gate
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what Unix tools exit with when the reader goes away


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


# library parameter -> command-line flag, where the flag is not "--" + the name with dashes
FLAGS = {"estimators": "--estimator", "on": "--gate-on", "input_format": "--input-format",
         "max_features": "--k"}  # select: --k is how many columns to select


def flag_for(parameter: str) -> str:
    """The flag that sets a library parameter (``max_rows`` -> ``--max-rows``)."""
    return FLAGS.get(parameter, "--" + parameter.replace("_", "-"))


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
    except BrokenPipeError:  # e.g. `mitool sample | head -1`: the reader has what it wanted
        silence_stdout()
        raise typer.Exit(EXIT_BROKEN_PIPE) from None
    except MitoolError as exc:
        if debug:
            traceback.print_exc()
        message = exc.for_flag(flag_for(exc.parameter)) if exc.parameter else str(exc)
        raise fail(message, exc.exit_code) from None
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


def silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot raise again."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def emit_json(doc: Any) -> str:
    """Exactly one JSON document on stdout, written directly (never through Rich); returns it."""
    from mitool.jsonout import dumps

    text = dumps(doc)
    emit_text(text)
    return text


def emit_text(text: str) -> None:
    """Results text (JSON, CSV) on stdout as is."""
    sys.stdout.write(text)
    sys.stdout.flush()


def csv_text(fields: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """Rows as CSV text with a header, ``\n`` line ends; None is an empty cell and booleans
    are ``true``/``false`` as in the JSON, so a spreadsheet and ``jq`` read the same values."""
    import csv
    import io

    def cell(v: Any) -> Any:
        if v is None:
            return ""
        if isinstance(v, bool):
            return "true" if v else "false"
        return v

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(fields), lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for row in rows:
        w.writerow({f: cell(row.get(f)) for f in fields})
    return buf.getvalue()


@dataclass(frozen=True)
class Emitted:
    """What ``emit_report`` did: the text ``--output`` writes (the CSV with ``--format csv``,
    else the JSON document), and whether stdout's reader had gone (``| head``)."""

    text: str
    reader_gone: bool = False


def emit_report(
    fmt: Format,
    doc: Mapping[str, Any],
    *,
    table: Callable[[], None],
    csv: Callable[[], str],
    warnings: Iterable[str] = (),
) -> Emitted:
    """The one way a command prints its report: warnings on stderr, then on stdout the JSON
    document, the CSV text or the command's Rich table (``table`` renders it).

    A closed stdout does not stop here: the files asked for (a trained model, say) are still
    written by ``write_after_report``, which then exits 141.
    """
    from mitool.cli.options import Format
    from mitool.jsonout import dumps

    for message in warnings:
        warn(message)
    text = csv() if fmt is Format.csv else dumps(doc)
    try:
        if fmt is Format.table:
            table()
        else:
            emit_text(text)
    except BrokenPipeError:
        silence_stdout()
        return Emitted(text, reader_gone=True)
    return Emitted(text)


def check_destinations(
    outputs: Mapping[str, Path | None], others: Mapping[str, Path | None] | None = None
) -> None:
    """Every file a command will write must be writable, and no two the same file, before any
    work starts (a typo costs a second, not a run); ``others`` are inputs that must not be
    overwritten either (e.g. ``--load-model``)."""
    from mitool.atomic import check_distinct, check_writable

    for option, path in outputs.items():
        if path is not None:
            check_writable(path, option)
    check_distinct({**outputs, **(others or {})})


def report_writer(path: Path | None, emitted: Emitted) -> Callable[[], None] | None:
    """The ``--output`` writer for ``write_after_report`` (None when no file was asked for)."""
    if path is None:
        return None

    def write() -> None:
        from mitool.atomic import atomic_write_text

        atomic_write_text(path, emitted.text)

    return write


def require_matplotlib(option: str) -> None:
    """Check the optional plotting extra before any work, not after it."""
    import importlib.util

    from mitool.errors import UsageError

    if importlib.util.find_spec("matplotlib") is None:
        raise UsageError(f"{option} needs matplotlib: pip install 'mitool[plot]'")


def write_after_report(
    writes: Mapping[str, Callable[[], None] | None], emitted: Emitted | None = None
) -> None:
    """Run each option's file writer (None: not asked for) after the report reached stdout;
    if any fail, say which on stderr and exit 1 (destinations were checked at the start, so
    this is a disk or permission change, and the report is not lost to it). If stdout's
    reader had gone (``emitted``), the files are still written, then exit 141."""
    failed = []
    for option, write in writes.items():
        if write is None:
            continue
        try:
            write()
        except MitoolError as exc:
            failed.append(f"{option}: {exc}")
    if failed:
        for message in failed:
            sys.stderr.write(f"error: {message} (the report above is complete)\n")
        sys.stderr.flush()
        raise typer.Exit(EXIT_RUNTIME)
    if emitted is not None and emitted.reader_gone:
        raise typer.Exit(EXIT_BROKEN_PIPE)


PROGRESS_INTERVAL = 10.0  # seconds between plain progress lines when stderr is a log


def _interval() -> float:
    """Seconds between plain progress lines (``MITOOL_PROGRESS_INTERVAL`` overrides, e.g. 0)."""
    try:
        return max(0.0, float(os.environ.get("MITOOL_PROGRESS_INTERVAL", PROGRESS_INTERVAL)))
    except ValueError:
        return PROGRESS_INTERVAL


def _info(fields: dict) -> str:
    return " ".join(
        f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}"
        for k, v in fields.items()
        if k != "stage"
    )


class PlainProgress:
    """Progress for logs (CI): a plain stderr line every ``interval`` seconds, no more often.

    Work shorter than ``interval`` prints nothing. Each line names the stage, done/total,
    the stage's elapsed time and an ETA from the stage's own rate (a new stage or total
    restarts that clock); a stage that printed a line also prints one when it completes.
    """

    def __init__(self, description: str, interval: float, stream=None) -> None:
        import time

        self.description = description
        self.interval = interval
        self.stream = stream if stream is not None else sys.stderr
        self._key: tuple | None = None
        self._stage_start = 0.0
        self._stage_printed = False
        self._last_line = time.monotonic()

    def __call__(self, done: int, total: int, fields: dict) -> None:
        import time

        if "message" in fields:  # a one-off notice from the library: always shown
            try:
                self.stream.write(f"note: {fields['message']}\n")
                self.stream.flush()
            except (OSError, ValueError):
                pass
            return
        now = time.monotonic()
        stage = str(fields.get("stage", self.description))
        key = (stage, total)
        if key != self._key:
            self._key, self._stage_start, self._stage_printed = key, now, False
        finished = total > 0 and done >= total
        due = now - self._last_line >= self.interval
        if not (due or (finished and self._stage_printed)):
            return
        self._last_line, self._stage_printed = now, True
        elapsed = now - self._stage_start
        parts = [f"{stage}:"]
        parts.append(f"{done}/{total} ({100.0 * done / total:.0f}%)" if total > 0 else str(done))
        parts.append(f"elapsed {format_duration(elapsed)}")
        if total > 0 and 0 < done < total and elapsed > 0:
            parts.append(f"ETA {format_duration(elapsed / done * (total - done))}")
        info = _info(fields)
        if info:
            parts.append(info)
        try:
            self.stream.write(" ".join(parts) + "\n")
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken stderr must not stop the work
            pass


@contextlib.contextmanager
def progress_reporter(description: str, quiet: bool) -> Iterator["ProgressCallback | None"]:
    """The progress callback for a command: a Rich bar when stderr is a terminal, plain
    periodic lines when it is a log (CI), nothing with ``--quiet``."""
    if quiet:
        yield None
    elif sys.stderr.isatty():
        with progress_bar(description, True) as cb:
            yield cb
    else:
        yield PlainProgress(description, _interval())


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
            if "message" in fields:  # a one-off notice from the library, above the bar
                progress.console.print(f"note: {_escape(str(fields['message']))}")
                return
            label = fields.get("stage", description)
            progress.update(task, completed=done, total=total or None, description=label,
                            info=_info(fields))

        yield update
