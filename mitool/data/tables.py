"""Reading tables (CSV, TSV, Parquet; path, bytes or stdin) with pyarrow, only the needed columns.

Two passes on purpose: first the header/schema (cheap), so column specs and globs resolve
against real names and typos get a "did you mean" before any data is read; then only the
selected columns.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mitool.errors import InputError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa

FORMATS = ("csv", "tsv", "parquet")
PARQUET_MAGIC = b"PAR1"
_EXT = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".parquet": "parquet", ".pq": "parquet"}


@dataclass
class TableSource:
    """Where the data comes from: a file path or in-memory bytes (stdin), and its format."""

    label: str  # what the report shows: the path, or "-" for stdin
    fmt: str
    path: Path | None = None
    data: bytes | None = None

    def open(self) -> Any:
        """A fresh readable for pyarrow (a path string or a BytesIO)."""
        return str(self.path) if self.path is not None else io.BytesIO(self.data or b"")


def open_source(
    source: str | os.PathLike[str] | bytes, input_format: str | None = None
) -> TableSource:
    """Validate the input and work out its format (option, then extension, then magic bytes)."""
    if input_format is not None and input_format not in FORMATS:
        raise UsageError(
            f"unknown --input-format '{input_format}'; choose one of: {', '.join(FORMATS)}"
        )
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
        if not data.strip():
            raise InputError("no data on standard input (it is empty)")
        fmt = input_format or ("parquet" if data[:4] == PARQUET_MAGIC else _sniff_text(data[:4096]))
        return TableSource(label="-", fmt=fmt, data=data)

    path = Path(source)
    if not path.exists():
        raise InputError(f"file not found: '{path}'")
    if path.is_dir():
        raise InputError(f"'{path}' is a folder, not a table file (CSV, TSV or Parquet)")
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise InputError(f"cannot read '{path}': {exc.strerror or exc}") from None
    if not head.strip():
        raise InputError(f"file '{path}' is empty")
    fmt = input_format
    if fmt is None:
        suffixes = [s.lower() for s in path.suffixes]
        if suffixes and suffixes[-1] in (".gz", ".bz2", ".zst") and len(suffixes) > 1:
            suffixes = suffixes[:-1]
        fmt = _EXT.get(suffixes[-1]) if suffixes else None
        if head[:4] == PARQUET_MAGIC:
            fmt = "parquet"
        elif fmt is None or fmt == "parquet":
            fmt = _sniff_text(head)
    return TableSource(label=str(path), fmt=fmt, path=path)


def _sniff_text(head: bytes) -> str:
    """CSV unless the first line has tabs and no commas."""
    first = head.split(b"\n", 1)[0]
    return "tsv" if b"\t" in first and b"," not in first else "csv"


def _csv_options(fmt: str):
    from pyarrow import csv

    parse = csv.ParseOptions(delimiter="\t" if fmt == "tsv" else ",")
    return csv, parse


def read_columns_names(src: TableSource) -> list[str]:
    """The table's column names, reading only the header/schema."""
    import pyarrow as pa

    try:
        if src.fmt == "parquet":
            import pyarrow.parquet as pq

            return list(pq.ParquetFile(src.open()).schema_arrow.names)
        csv, parse = _csv_options(src.fmt)
        reader = csv.open_csv(
            src.open(), parse_options=parse, read_options=csv.ReadOptions(block_size=1 << 16)
        )
        names = list(reader.schema.names)
        reader.close()
        return names
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        raise _malformed(src, exc) from None


def read_selected(src: TableSource, columns: list[str], as_text: set[str]) -> "pa.Table":
    """Read only ``columns``; those in ``as_text`` are read as strings (converted by the caller)."""
    import pyarrow as pa

    try:
        if src.fmt == "parquet":
            import pyarrow.parquet as pq

            return pq.read_table(src.open(), columns=columns)
        csv, parse = _csv_options(src.fmt)
        convert = csv.ConvertOptions(
            include_columns=columns,
            column_types={c: pa.string() for c in as_text},
            strings_can_be_null=True,
        )
        return csv.read_csv(src.open(), parse_options=parse, convert_options=convert)
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        raise _malformed(src, exc) from None


def _malformed(src: TableSource, exc: Exception) -> InputError:
    what = "Parquet file" if src.fmt == "parquet" else f"{src.fmt.upper()} input"
    msg = " ".join(str(exc).split())
    hint = "" if src.fmt == "parquet" else " (check the delimiter and quoting, or pass --input-format)"
    return InputError(f"malformed {what} '{src.label}': {msg}{hint}")
