"""Reading tables (CSV, TSV, Parquet; path, bytes or stdin) with pyarrow, only the needed columns.

Two passes on purpose: first the header/schema (cheap), so column specs and globs resolve
against real names and typos get a "did you mean" before any data is read; then only the
selected columns.

CSV layout: ``--sep`` and ``--decimal`` go straight to pyarrow; without them the first lines
are sniffed for the delimiter (``,``, ``;``, tab or ``|``) and, after a ``;``, for decimal
commas (the common European layout), and the report says which flags were assumed.
``--thousands`` is applied later, to text columns (``mitool.data.kinds``).

Encoding: ``--encoding`` goes to pyarrow, which transcodes. Without it a byte-order mark
names UTF-16/32; otherwise the file is read as UTF-8, and where it is not (spreadsheet
exports are often Windows-1252 or Latin-1) it is read as cp1252, or Latin-1 when it holds a
byte cp1252 leaves undefined, with a note naming the first byte that is not UTF-8. An
``--encoding`` the file does not decode with is refused (exit 2) with that byte's offset.
"""

from __future__ import annotations

import codecs
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mitool.errors import InputError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa

FORMATS = ("csv", "tsv", "parquet")
PARQUET_MAGIC = b"PAR1"
_EXT = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".parquet": "parquet", ".pq": "parquet"}
DELIMITERS = (",", ";", "\t", "|")
_SNIFF_LINES = 20
_DECIMAL_COMMA = re.compile(r"^\s*-?\d+,\d+\s*$")
_COMPRESSED = (".gz", ".bz2", ".zst")
# byte-order marks that name an encoding (UTF-8's own mark pyarrow skips by itself)
_BOMS = ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
         (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
# bytes Windows-1252 leaves undefined: a file holding one is read as Latin-1 instead
_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")


@dataclass(frozen=True)
class CsvOptions:
    """How to read a delimited text table; None = detect (or the format's default)."""

    sep: str | None = None
    decimal: str | None = None
    thousands: str | None = None
    encoding: str | None = None  # a Python codec name; None: UTF-8, or detected (see above)

    def validate(self) -> None:
        if self.encoding is not None:
            try:
                codecs.lookup(self.encoding)
            except LookupError:
                raise UsageError(f"unknown {{param}} {self.encoding!r}; e.g. utf-8, cp1252, "
                                 "latin-1, utf-16", parameter="encoding",
                                 function="CsvOptions") from None
        for name, value in (("--sep", self.sep), ("--decimal", self.decimal),
                            ("--thousands", self.thousands)):
            if value is not None and len(value) != 1:
                raise UsageError(f"{name} takes one character, got {value!r} "
                                 "(write a tab as $'\\t' in the shell)")
        if self.decimal is not None and self.decimal == self.thousands:
            raise UsageError("{param} and --thousands cannot be the same character",
                             parameter="decimal", function="CsvOptions")
        if self.sep is not None and self.sep in (self.decimal, self.thousands):
            raise UsageError(f"{{param}} {self.sep!r} cannot also be the decimal or thousands mark",
                             parameter="sep", function="CsvOptions")


@dataclass
class TableSource:
    """Where the data comes from: a file path or in-memory bytes (stdin), its format, and
    the CSV layout in use (given or detected; ``notes`` say what was detected)."""

    label: str  # what the report shows: the path, or "-" for stdin
    fmt: str
    path: Path | None = None
    data: bytes | None = None
    sep: str = ","
    decimal: str = "."
    thousands: str | None = None
    encoding: str = "utf-8"
    encoding_given: bool = False  # --encoding was passed: a decoding failure is refused
    notes: list[str] = field(default_factory=list)

    def open(self) -> Any:
        """A fresh readable for pyarrow (a path string or a BytesIO)."""
        return str(self.path) if self.path is not None else io.BytesIO(self.data or b"")


def open_source(
    source: str | os.PathLike[str] | bytes,
    input_format: str | None = None,
    csv_options: CsvOptions | None = None,
) -> TableSource:
    """Validate the input and work out its format (option, then extension, then magic bytes)
    and, for text, its layout (options, then sniffing)."""
    if input_format is not None and input_format not in FORMATS:
        raise UsageError(
            f"unknown --input-format '{input_format}'; choose one of: {', '.join(FORMATS)}"
        )
    opts = csv_options or CsvOptions()
    opts.validate()
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
        if not data.strip():
            raise InputError("no data on standard input (it is empty)")
        head = data[:65536]
        fmt = input_format or ("parquet" if data[:4] == PARQUET_MAGIC else _sniff_text(head))
        src = TableSource(label="-", fmt=fmt, data=data)
    else:
        path = Path(source)
        if not path.exists():
            raise InputError(f"file not found: '{path}'")
        if path.is_dir():
            raise InputError(f"'{path}' is a folder, not a table file (CSV, TSV or Parquet)")
        try:
            head = _head(path)
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
        src = TableSource(label=str(path), fmt=fmt, path=path)
    if src.fmt != "parquet":
        _decide_encoding(src, head, opts)
        _decide_layout(src, head, opts)
    return src


def _head(path: Path, size: int = 65536) -> bytes:
    """The first bytes of a file, decompressed when its name ends in .gz, .bz2 or .zst (as
    pyarrow will read it), so sniffing sees text."""
    if path.suffix.lower() in _COMPRESSED:
        import pyarrow as pa

        try:
            with pa.input_stream(str(path), compression="detect") as fh:
                return fh.read(size)
        except (pa.ArrowException, OSError):
            pass  # not what its name says: sniff the raw bytes, pyarrow will say what is wrong
    with path.open("rb") as fh:
        return fh.read(size)


def _decide_encoding(src: TableSource, head: bytes, opts: CsvOptions) -> None:
    """The option's encoding, else a byte-order mark's, else UTF-8 if the first bytes are,
    else the fallback (with a note)."""
    if opts.encoding is not None:
        src.encoding, src.encoding_given = codecs.lookup(opts.encoding).name, True
        return
    for bom, name in _BOMS:
        if head.startswith(bom):
            src.encoding = name
            src.notes.append(f"{name.upper()} byte-order mark: read as --encoding {name}")
            return
    bad = first_undecodable(head, "utf-8", final=len(head) < 65536)
    if bad is not None:
        _fall_back(src, head, bad)


def first_undecodable(data: bytes, encoding: str, final: bool = True) -> int | None:
    """The offset of the first byte ``encoding`` cannot decode (None: all decode). With
    ``final=False`` a character cut off at the end is not an error (a file's first bytes)."""
    try:
        codecs.getincrementaldecoder(encoding)().decode(data, final=final)
    except UnicodeDecodeError as exc:
        return exc.start
    return None


def _fall_back(src: TableSource, sample: bytes, offset: int) -> None:
    """Read a file that is not UTF-8 as cp1252, or as Latin-1 (which decodes every byte) if
    the sample holds a byte cp1252 leaves undefined; say so."""
    src.encoding = "latin-1" if _CP1252_UNDEFINED & set(sample) else "cp1252"
    about = ("Windows Western European" if src.encoding == "cp1252" else "ISO 8859-1")
    src.notes.append(
        f"'{src.label}' is not UTF-8 (byte {offset:,} is not valid UTF-8): read as "
        f"{src.encoding} ({about}); pass --encoding to name the file's encoding")


def _is_decoding_failure(exc: Exception) -> bool:
    """pyarrow's ways of saying the bytes are not in the encoding it was given."""
    return isinstance(exc, UnicodeDecodeError) or "UTF8" in str(exc) or "utf-8" in str(exc)


def _after_decoding_failure(src: TableSource) -> None:
    """A read failed to decode: refuse a given (or byte-order-marked) encoding with the first
    bad byte's offset; a detected UTF-8 falls back to cp1252, and cp1252 to Latin-1 (which
    decodes every byte), so the caller reads again."""
    if src.encoding_given or src.encoding not in ("utf-8", "cp1252"):
        offset = _scan(src, src.encoding)
        where = f"byte {offset:,}" if offset is not None else "a byte"
        raise InputError(
            f"cannot decode '{src.label}' as {src.encoding}: {where} is not valid "
            f"{src.encoding}; pass {{param}} with the file's encoding (e.g. cp1252, "
            "latin-1, utf-16)", parameter="encoding", function="CsvOptions")
    if src.encoding == "utf-8":
        offset = _scan(src, "utf-8")
        _fall_back(src, b"", offset if offset is not None else 0)
    else:
        src.notes = [n for n in src.notes if "is not UTF-8" not in n]
        offset = _scan(src, "utf-8")
        _fall_back(src, bytes(_CP1252_UNDEFINED), offset if offset is not None else 0)


def _reading(src: TableSource, read):
    """``read()`` with the decoding fallback: at most two retries (UTF-8 -> cp1252 ->
    Latin-1); other pyarrow errors become one line about the malformed input."""
    import pyarrow as pa

    for _ in range(3):
        try:
            return read()
        except (pa.ArrowInvalid, pa.ArrowException, OSError, UnicodeDecodeError,
                _NotText) as exc:
            if src.fmt == "parquet" or not _is_decoding_failure(exc):
                raise _malformed(src, exc) from None
            _after_decoding_failure(src)
    raise _malformed(src, ValueError("the text could not be decoded"))  # pragma: no cover


def _scan(src: TableSource, encoding: str, chunk: int = 1 << 20) -> int | None:
    """The offset of the first byte of the (decompressed) input ``encoding`` cannot decode."""
    import pyarrow as pa

    decoder = codecs.getincrementaldecoder(encoding)()
    pos = 0
    stream = (pa.input_stream(str(src.path), compression="detect") if src.path is not None
              else io.BytesIO(src.data or b""))
    with stream as fh:
        while True:
            block = fh.read(chunk)
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                return pos + exc.start
            if not block:
                return None
            pos += len(block)


def _sniff_text(head: bytes) -> str:
    """CSV unless the first line has tabs and no commas."""
    first = head.split(b"\n", 1)[0]
    return "tsv" if b"\t" in first and b"," not in first else "csv"


def _lines(head: bytes, encoding: str = "utf-8") -> list[str]:
    text = head.decode(encoding, errors="replace")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(head) >= 65536 and lines:  # the last line may be cut off
        lines = lines[:-1]
    return lines[:_SNIFF_LINES]


def _unquoted(line: str) -> str:
    """The line with quoted fields blanked out, so delimiters inside quotes do not count."""
    return re.sub(r'"[^"]*"', '""', line)


def sniff_delimiter(lines: list[str]) -> str | None:
    """The delimiter found the same (non-zero) number of times on every sniffed line, the
    most frequent such one; None when no candidate is consistent."""
    if not lines:
        return None
    best, best_count = None, 0
    for d in DELIMITERS:
        counts = {_unquoted(ln).count(d) for ln in lines}
        if len(counts) == 1:
            (c,) = counts
            if c > best_count:
                best, best_count = d, c
    return best


def _decide_layout(src: TableSource, head: bytes, opts: CsvOptions) -> None:
    """Fill in sep/decimal/thousands from the options, else from the data, with notes."""
    lines = _lines(head, src.encoding)
    default = "\t" if src.fmt == "tsv" else ","
    if opts.sep is not None:
        src.sep = opts.sep
    else:
        found = sniff_delimiter(lines)
        if found is not None and found != default:
            src.sep = found
            src.notes.append(f"field separator {found!r} detected; pass --sep {found!r} to "
                             "say so explicitly")
        else:
            src.sep = default
    if opts.decimal is not None:
        src.decimal = opts.decimal
    elif src.sep != ",":
        fields = [f for ln in lines[1:] for f in _unquoted(ln).split(src.sep)]
        if fields and sum(bool(_DECIMAL_COMMA.match(f)) for f in fields) >= 1 and not any(
            re.match(r"^\s*-?\d*\.\d+\s*$", f) for f in fields
        ):
            src.decimal = ","
            src.notes = [n for n in src.notes if not n.startswith("field separator")]
            src.notes.append(
                f"European layout detected ({src.sep!r} between fields, ',' as the decimal "
                f"mark): read as --sep {src.sep!r} --decimal ','; pass both to say so explicitly"
            )
    src.thousands = opts.thousands


def _csv_options(src: TableSource):
    from pyarrow import csv

    return csv, csv.ParseOptions(delimiter=src.sep)


class _NotText(ValueError):
    """A CSV column pyarrow read as bytes: its text is not in the encoding in use."""

    def __str__(self) -> str:
        return "invalid UTF8 data"


def read_columns_names(src: TableSource) -> list[str]:
    """The table's column names, reading only the header/schema (duplicates kept)."""

    def read() -> list[str]:
        if src.fmt == "parquet":
            import pyarrow.parquet as pq

            return list(pq.ParquetFile(src.open()).schema_arrow.names)
        csv, parse = _csv_options(src)
        reader = csv.open_csv(
            src.open(), parse_options=parse,
            read_options=csv.ReadOptions(block_size=1 << 16, encoding=src.encoding),
            convert_options=csv.ConvertOptions(decimal_point=src.decimal),
        )
        names = list(reader.schema.names)
        reader.close()
        return names

    return _reading(src, read)


def check_unique(names: list[str], selected: list[str]) -> None:
    """Refuse (exit 2) when a selected column's name appears more than once in the header:
    which of the two would be read is arbitrary, and the other would vanish silently."""
    seen: dict[str, list[int]] = {}
    for i, n in enumerate(names, 1):
        seen.setdefault(n, []).append(i)
    dup = [(n, seen[n]) for n in dict.fromkeys(selected) if len(seen.get(n, [])) > 1]
    if dup:
        listing = "; ".join(f"'{n}' is column {' and '.join(map(str, pos))}" for n, pos in dup)
        raise InputError(f"duplicate column names in the header: {listing}; rename them so "
                         "every column has its own name")


def read_selected(src: TableSource, columns: list[str], as_text: set[str]) -> "pa.Table":
    """Read only ``columns``; those in ``as_text`` are read as strings (converted by the caller)."""
    import pyarrow as pa

    def read() -> pa.Table:
        if src.fmt == "parquet":
            import pyarrow.parquet as pq

            return pq.read_table(src.open(), columns=columns)
        csv, parse = _csv_options(src)
        convert = csv.ConvertOptions(
            include_columns=columns,
            column_types={c: pa.string() for c in as_text},
            strings_can_be_null=True,
            decimal_point=src.decimal,
        )
        table = csv.read_csv(src.open(), parse_options=parse, convert_options=convert,
                             read_options=csv.ReadOptions(encoding=src.encoding))
        if any(pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type)
               for f in table.schema):
            raise _NotText()
        return table

    return _reading(src, read)


def _malformed(src: TableSource, exc: Exception) -> InputError:
    what = "Parquet file" if src.fmt == "parquet" else f"{src.fmt.upper()} input"
    msg = " ".join(str(exc).split())
    hint = "" if src.fmt == "parquet" else (
        " (check the delimiter and quoting: --sep, or pass --input-format)")
    return InputError(f"malformed {what} '{src.label}': {msg}{hint}")
