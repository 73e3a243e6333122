"""Reading the selected columns of a table (a path, bytes or a DataFrame) into a DataFrame.

``TableOptions`` is every choice about how a table is read and typed, shared by
``mitool.estimate`` and ``mitool.pairs`` (and by the CLI's table options).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from mitool.data.columns import resolve_columns, split_specs
from mitool.data.tables import CsvOptions
from mitool.errors import UsageError


@dataclass(frozen=True)
class TableOptions:
    """How to read and type a table.

    ``discrete``/``continuous``: columns whose kind is forced ("a,b" or a list);
    ``max_rows``: a seeded random sample of at most this many rows; ``input_format``: csv,
    tsv or parquet (None: detected); ``csv``: the CSV layout (None fields: detected);
    ``datetime_parts``: replace timestamp/date columns by cyclic parts ("hour,weekday").
    """

    discrete: str | list[str] | tuple[str, ...] | None = None
    continuous: str | list[str] | tuple[str, ...] | None = None
    max_rows: int | None = None
    input_format: str | None = None
    csv: CsvOptions = field(default_factory=CsvOptions)
    # timestamp/date columns -> cyclic parts, e.g. "hour,weekday" (mitool.data.dateparts)
    datetime_parts: str | list[str] | tuple[str, ...] | None = None

    @property
    def discrete_columns(self) -> list[str]:
        return split_specs(self.discrete)

    @property
    def continuous_columns(self) -> list[str]:
        return split_specs(self.continuous)


@dataclass
class LoadedTable:
    """The selected columns as a DataFrame (string column names), and how they were read."""

    frame: Any
    x: list[str]
    y: list[str]
    label: str
    format: str
    notes: list[str] = field(default_factory=list)  # layout detected (separator, decimal)
    decimal: str = "."
    thousands: str | None = None
    z: list[str] | None = None  # the conditioning columns (``--z``), if any


@dataclass
class NumberColumns:
    """The selected columns of a file when every one holds numbers: float64 arrays (NaN
    missing) by name, straight from Arrow. Importing pandas costs more than reading 10^5
    rows, so ``prepare`` takes these as they are (``len`` is the number of rows)."""

    columns: dict[str, Any]
    n_rows: int

    def __len__(self) -> int:
        return self.n_rows

    def __getitem__(self, name: str) -> Any:
        return self.columns[name]


# a MultiIndex label ("delay", "dep") is named by its levels joined: "delay/dep"
LEVEL_SEP = "/"


def flatten_columns(data: Any, table: TableOptions, *specs: Any) -> tuple[Any, ...]:
    """A DataFrame with MultiIndex columns as flat string names ("delay/dep"), and every
    column spec that is one of its labels (a tuple, alone or in a list) as that name;
    anything else passes through. Returns ``(data, table, *specs)``."""
    cols = getattr(data, "columns", None)
    if cols is None or getattr(cols, "nlevels", 1) == 1:
        return (data, table, *specs)
    labels = set(cols)

    def flat(label: Any) -> str:
        return LEVEL_SEP.join(str(part) for part in label)

    def name(spec: Any) -> Any:
        if isinstance(spec, tuple) and spec in labels:
            return flat(spec)
        if isinstance(spec, (list, tuple, set, frozenset)):
            return [name(s) for s in spec]
        return spec

    import dataclasses

    table = dataclasses.replace(table, discrete=name(table.discrete),
                                continuous=name(table.continuous))
    return (data.set_axis([flat(c) for c in cols], axis=1), table, *map(name, specs))


def load_frame(
    source: Any,
    columns_x: list[str],
    columns_y: list[str],
    input_format: str | None = None,
    as_text: set[str] | frozenset[str] = frozenset(),
    csv: CsvOptions | None = None,
    numbers_without_pandas: frozenset[str] | None = None,
    columns_z: list[str] | None = None,
) -> LoadedTable:
    """Read only the selected columns of ``source`` (a path, bytes or a DataFrame).

    Column names are strings from here on (a DataFrame's labels are printed: ``0`` -> "0");
    a selected name that appears twice in the header is refused. With
    ``numbers_without_pandas`` (the columns declared discrete, which pandas must read), a
    file whose selected columns are all numbers, none of them declared discrete, comes back
    as ``NumberColumns`` instead of a DataFrame. ``columns_z``: the conditioning columns,
    resolved the same way (``LoadedTable.z``).
    """
    from mitool.data.tables import check_unique

    opts = csv or CsvOptions()
    if not isinstance(source, (str, bytes, bytearray, os.PathLike)):
        import pandas as pd

        if not isinstance(source, pd.DataFrame):
            raise UsageError(
                f"data must be a path, bytes or a pandas DataFrame, not {type(source).__name__}"
            )
        available = [str(c) for c in source.columns]
        x = resolve_columns(columns_x, available, "--x")
        y = resolve_columns(columns_y, available, "--y")
        z = None if columns_z is None else resolve_columns(columns_z, available, "--z")
        check_unique(available, x + y + (z or []))
        frame = source.set_axis(available, axis=1)
        return LoadedTable(frame, x, y, "<DataFrame>", "dataframe",
                           decimal=opts.decimal or ".", thousands=opts.thousands, z=z)
    from mitool.data.tables import open_source, read_columns_names, read_selected

    src = open_source(source, input_format, opts)
    available = read_columns_names(src)
    x = resolve_columns(columns_x, available, "--x")
    y = resolve_columns(columns_y, available, "--y")
    z = None if columns_z is None else resolve_columns(columns_z, available, "--z")
    wanted = list(dict.fromkeys(x + y + (z or [])))
    check_unique(available, wanted)
    table = read_selected(src, wanted, {c for c in as_text if c in wanted})
    frame = None
    if numbers_without_pandas is not None and not set(wanted) & numbers_without_pandas:
        frame = _number_columns(table)
    if frame is None:
        frame = table.to_pandas(date_as_object=False)
    return LoadedTable(frame, x, y, src.label, src.fmt, list(src.notes), src.decimal,
                       src.thousands, z)




def _number_columns(table: Any) -> NumberColumns | None:
    """``NumberColumns`` when every column of the Arrow table is integers or floats."""
    import pyarrow as pa

    if not all(pa.types.is_integer(f.type) or pa.types.is_floating(f.type)
               for f in table.schema):
        return None
    columns = {name: _float64(table.column(name)) for name in table.column_names}
    return NumberColumns(columns, table.num_rows)


def _float64(column: Any) -> Any:
    """An Arrow column of numbers as one float64 array, nulls as NaN. Read from the buffers:
    pyarrow's own ``to_numpy`` imports pandas, the cost this path avoids."""
    import numpy as np
    import pyarrow as pa

    parts = []
    for chunk in column.chunks:
        chunk = chunk.cast(pa.float64())
        validity, data = chunk.buffers()[:2]
        n, offset = len(chunk), chunk.offset
        values = np.frombuffer(data, dtype=np.float64, count=n + offset)[offset:].copy()
        if chunk.null_count:
            bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
            values[bits[offset:offset + n] == 0] = np.nan
        parts.append(values)
    return np.concatenate(parts) if parts else np.empty(0)
