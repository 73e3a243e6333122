"""Options several commands share, declared once as Typer ``Annotated`` aliases.

Why: ``estimate``, ``pairs``, ``cluster`` and ``sample`` read tables and write reports the
same way, so they must offer the same option names, choices and help; a second declaration
drifts (``--unit`` was an Enum in one command and free text in another). A command takes an
option by annotating a parameter with the alias, e.g. ``fmt: FormatOption = Format.table``.

Choices are Enums matched in any case (``--unit BITS`` works); a bad value is Typer's usage
error (exit 2). Nothing here imports more than Typer: ``mitool --help`` stays fast.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer


class Format(str, Enum):
    """How a command prints its report on stdout (and what ``--output`` writes)."""

    table = "table"
    json = "json"
    csv = "csv"


class Unit(str, Enum):
    """The unit amounts of information are reported in."""

    nats = "nats"
    bits = "bits"


class InputFormat(str, Enum):
    """Table formats ``--input-format`` can force (detected from the bytes otherwise)."""

    csv = "csv"
    tsv = "tsv"
    parquet = "parquet"


# --- reading a table --------------------------------------------------------------------------
DataArgument = Annotated[str, typer.Argument(
    help="CSV, TSV or Parquet file, or '-' for standard input.", show_default=False)]
DiscreteOption = Annotated[list[str], typer.Option(
    "--discrete", default_factory=list,
    help="Columns to treat as discrete (e.g. integer codes).")]
ContinuousOption = Annotated[list[str], typer.Option(
    "--continuous", default_factory=list,
    help="Columns to force continuous (must be numeric).")]
MaxRowsOption = Annotated[int | None, typer.Option(
    "--max-rows", help="Use a seeded random sample of at most N rows.")]
InputFormatOption = Annotated[InputFormat | None, typer.Option(
    "--input-format", case_sensitive=False, help="Override format detection.")]
SepOption = Annotated[str | None, typer.Option(
    "--sep", help="CSV field separator (default: detected; ';' CSVs are recognised).")]
DecimalOption = Annotated[str | None, typer.Option(
    "--decimal", help="CSV decimal mark, e.g. ',' (default: detected).")]
ThousandsOption = Annotated[str | None, typer.Option(
    "--thousands", help="CSV thousands separator to remove, e.g. ',' (default: detected when "
    "every number uses it).")]
EncodingOption = Annotated[str | None, typer.Option(
    "--encoding", help="Text encoding of a CSV, e.g. cp1252, latin-1, utf-16 (default: UTF-8; "
    "a file that is not UTF-8 is read as cp1252 or Latin-1, with a warning).")]
DatetimePartsOption = Annotated[str | None, typer.Option(
    "--datetime-parts", help="Replace each timestamp/date column by its cyclic parts as "
    "sine/cosine pairs: any of hour, weekday, dayofyear, month, timestamp (e.g. 'hour,weekday'); "
    "a daily cycle inside a year of timestamps is invisible to k-NN otherwise.")]
SeedOption = Annotated[int, typer.Option(
    "--seed", help="Random seed (sampling, jitter, splits, training): the same seed, the same "
    "answer.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")]

# --- time series (estimate --lag/--lags, te) ------------------------------------------------
class Gaps(str, Enum):
    """What a time column with missing steps does to lagged pairs."""

    refuse = "refuse"
    drop = "drop"


TimeOption = Annotated[str | None, typer.Option(
    "--time", help="Time series: the column that orders the rows (numbers or dates/datetimes; "
    "its modal spacing is the step); it may not also be in --x/--y/--z. Without it the rows "
    "are the steps, in file order.")]
GapsOption = Annotated[Gaps | None, typer.Option(
    "--gaps", case_sensitive=False, help="Time series with --time: a time column with missing "
    "steps is refused (refuse, the default) or only rows exactly the asked steps apart are "
    "paired (drop).")]

# --- writing the report -----------------------------------------------------------------------
FormatOption = Annotated[Format, typer.Option(
    "--format", "-f", case_sensitive=False,
    help="table (for people), json (one document) or csv (one row per result), on stdout.")]
OutputOption = Annotated[Path | None, typer.Option(
    "--output", "-o",
    help="Also write the report (JSON, or CSV with --format csv) to this file, atomically.")]
UnitOption = Annotated[Unit, typer.Option(
    "--unit", case_sensitive=False, help="Report MI in nats or bits.")]
NormalizeOption = Annotated[bool, typer.Option(
    "--normalize", help="Also report MI on a 0-1 scale: the informational coefficient of "
    "correlation sqrt(1 - e^(-2I)) for continuous sides (|rho| for a Gaussian pair), I as a "
    "share of the smaller entropy with a discrete side, and the discrete sides' entropies.")]
# ``sample`` makes data, not a report: its --output replaces stdout (same name, other meaning)
DataOutputOption = Annotated[Path | None, typer.Option(
    "--output", "-o", help="CSV file to write, atomically (default: stdout).")]


def read_source(data: str) -> str | bytes:
    """The DATA argument as the library takes it: a path, or stdin's bytes for '-'."""
    return sys.stdin.buffer.read() if data == "-" else data


def value(choice: Enum | None) -> str | None:
    """An option's Enum as the plain string the library takes (None stays None)."""
    return None if choice is None else choice.value


def table_options(discrete: list[str], continuous: list[str], max_rows: int | None,
                  input_format: Enum | None, sep: str | None, decimal: str | None,
                  thousands: str | None, encoding: str | None = None,
                  datetime_parts: str | None = None):
    """The shared table options as the library's ``TableOptions``."""
    from mitool.data.loading import TableOptions
    from mitool.data.tables import CsvOptions

    return TableOptions(discrete, continuous, max_rows, value(input_format),
                        CsvOptions(sep, decimal, thousands, encoding), datetime_parts)
