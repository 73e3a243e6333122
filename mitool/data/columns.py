"""From a table to estimator input: resolve column specs, decide types, drop missing rows.

Each column's kind is decided in one place, ``mitool.data.kinds`` (numbers and dates are
continuous; text, categories and booleans discrete; ``discrete`` / ``continuous`` override
the guess; identifier-like columns are refused with the fix).
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mitool.data.kinds import ColumnKind, TypedColumn, check_levels, classify
from mitool.errors import InputError, UsageError
from mitool.estimators.base import PreparedData

GLOB_CHARS = set("*?[")


def split_specs(specs: Iterable[Any] | Any | None) -> list[str]:
    """["a,b", "c"] -> ["a", "b", "c"] (options are repeatable and comma-separated).

    Any other hashable (e.g. the integer column labels of ``pd.DataFrame(array)``) stands for
    the column whose label prints the same: ``0`` -> ``"0"``.
    """
    if specs is None:
        return []
    if isinstance(specs, str):
        specs = [specs]
    elif not isinstance(specs, (list, tuple, set, frozenset)):
        return [str(specs)]
    out: list[str] = []
    for spec in specs:
        out.extend(part.strip() for part in str(spec).split(",") if part.strip())
    return out


def resolve_columns(specs: Sequence[str], available: Sequence[str], option: str) -> list[str]:
    """Match names and shell-style globs against the table's columns, in order, without repeats."""
    chosen: list[str] = []
    for spec in specs:
        if GLOB_CHARS & set(spec):
            hits = [c for c in available if fnmatch.fnmatchcase(c, spec)]
            if not hits:
                raise InputError(f"{option} '{spec}' matches no column; {_listing(available)}")
        elif spec in available:
            hits = [spec]
        else:
            raise InputError(_unknown(spec, available))
        chosen.extend(h for h in hits if h not in chosen)
    if not chosen:
        raise UsageError(f"{option} names no column")
    return chosen


def _unknown(name: str, available: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(available), n=3, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in available}
        if name.lower() in lowered:
            close = [lowered[name.lower()]]
    if close:
        return f"unknown column '{name}'; did you mean {' or '.join(repr(c) for c in close)}?"
    return f"unknown column '{name}'; {_listing(available)}"


def _listing(available: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(available[:limit])
    more = f", ... ({len(available)} in all)" if len(available) > limit else ""
    return f"the table has: {shown}{more}"


@dataclass
class Prepared:
    """PreparedData plus what the report says about the input."""

    data: PreparedData
    n_rows: int
    n_dropped: int
    n_sampled: int | None
    warnings: list[str] = field(default_factory=list)
    dropped_constant: list[str] = field(default_factory=list)
    columns: list[ColumnKind] = field(default_factory=list)  # every selected column, x then y
    x: list[str] = field(default_factory=list)  # the X and Y columns after --datetime-parts
    y: list[str] = field(default_factory=list)
    z: list[str] = field(default_factory=list)  # and the Z columns (I(X;Y|Z)), if any


def _expand_dates(name: str, col: TypedColumn, parts: list[str],
                  typed: dict[str, TypedColumn]) -> list[str]:
    """Put the cyclic parts of one timestamp column into ``typed``; their names."""
    from mitool.data.dateparts import expand

    names = []
    for part_name, values, what in expand(name, col.values, parts):
        typed[part_name] = TypedColumn(values, ColumnKind(
            part_name, "continuous", "datetime part", what, col.info.n_missing,
            col.info.n_unparsable, None, [f"from --datetime-parts ({', '.join(parts)})"]))
        names.append(part_name)
    return names


def prepare(
    frame,
    x: list[str],
    y: list[str],
    discrete: Sequence[str] = (),
    continuous: Sequence[str] = (),
    max_rows: int | None = None,
    seed: int = 0,
    decimal: str = ".",
    thousands: str | None = None,
    datetime_parts: Sequence[str] = (),
    z: list[str] | None = None,
) -> Prepared:
    """Turn the selected columns of a pandas DataFrame into float arrays and discrete flags.

    ``datetime_parts`` (``mitool.data.dateparts``) replaces each timestamp or date column
    by its cyclic parts (sine/cosine pairs), named ``column.part_sin`` / ``_cos``.

    Each column's kind is decided by ``mitool.data.kinds.classify`` (and recorded in
    ``columns``); rows with a missing value in any selected column are dropped; discrete
    columns are then checked for being identifier-like on the rows that remain.
    ``z``: conditioning columns, typed, checked and cleaned by the same rules (None: no Z).
    """
    both = [c for c in x if c in y]
    if both:
        raise UsageError(
            f"column '{both[0]}' is in both --x and --y; MI of a column with itself is its "
            "entropy, not a dependence: pick different columns"
        )
    for c in discrete:
        if c in continuous:
            raise UsageError(f"column '{c}' is declared both --discrete and --continuous")
    warnings: list[str] = []
    zl = list(z or [])
    cols = x + y + zl
    n_rows = len(frame)
    if n_rows == 0:
        raise InputError("the table has a header but no data rows")

    typed: dict[str, TypedColumn] = {}
    missing = np.zeros(n_rows, dtype=bool)
    expanded: dict[str, list[str]] = {}
    for c in cols:
        declared = "discrete" if c in discrete else "continuous" if c in continuous else None
        col = classify(frame[c], c, declared, decimal=decimal, thousands=thousands)
        warnings.extend(col.warnings)
        col.warnings = []
        missing |= np.isnan(col.values)
        if datetime_parts and col.info.source in ("datetime", "date"):
            expanded[c] = _expand_dates(c, col, list(datetime_parts), typed)
        else:
            typed[c] = col
    if datetime_parts and not expanded:
        raise UsageError("{param} needs a timestamp or date column among --x/--y; none of "
                         f"{', '.join(repr(c) for c in cols)} is one",
                         parameter="datetime_parts", function="TableOptions")
    if expanded:
        x = [n for c in x for n in expanded.get(c, [c])]
        y = [n for c in y for n in expanded.get(c, [c])]
        zl = [n for c in zl for n in expanded.get(c, [c])]
        cols = x + y + zl

    keep = ~missing
    n_dropped = int(missing.sum())
    if not keep.any():
        empty = [c for c in cols if np.isnan(typed[c].values).all()]
        which = (f"; column{'s' if len(empty) > 1 else ''} {', '.join(repr(c) for c in empty)} "
                 "hold no values at all") if empty else ""
        raise InputError(
            f"no rows left: all {n_rows} rows have a missing value in the selected columns{which}"
        )
    rows = np.flatnonzero(keep)
    n_sampled = None
    if max_rows is not None:
        if max_rows < 1:
            raise UsageError(f"{{param}} must be a positive integer, got {max_rows}",
                             function="TableOptions", parameter="max_rows")
        if len(rows) > max_rows:
            rng = np.random.default_rng(seed)
            rows = np.sort(rng.choice(rows, size=max_rows, replace=False))
            n_sampled = max_rows

    for c in cols:
        typed[c] = check_levels(typed[c], rows)
        warnings.extend(typed[c].warnings)
        typed[c].warnings = []

    dropped_constant: list[str] = []
    for c in cols:
        col = typed[c].values[rows]
        if np.all(col == col[0]):
            dropped_constant.append(c)
            warnings.append(f"column '{c}' is constant: it carries no information (MI with it is 0)")

    def column(c: str) -> np.ndarray:
        col = typed[c].values[rows]
        if typed[c].discrete:  # re-code the kept rows so codes are 0..m-1 (one-hot needs it)
            col = np.unique(col, return_inverse=True)[1].astype(np.float64)
        return col

    def block(names: list[str]) -> np.ndarray:
        if not names:
            return np.empty((len(rows), 0))
        return np.column_stack([column(c) for c in names])

    xs = [c for c in x if c not in dropped_constant]
    ys = [c for c in y if c not in dropped_constant]
    zs = [c for c in zl if c not in dropped_constant]
    data = PreparedData(
        x=block(xs),
        y=block(ys),
        x_names=xs,
        y_names=ys,
        x_discrete=np.array([typed[c].discrete for c in xs], dtype=bool),
        y_discrete=np.array([typed[c].discrete for c in ys], dtype=bool),
    )
    if z is not None:  # a Z whose columns were all constant stays: (n, 0), nothing to condition on
        data.z, data.z_names = block(zs), zs
        data.z_discrete = np.array([typed[c].discrete for c in zs], dtype=bool)
    return Prepared(data, n_rows, n_dropped, n_sampled, warnings, dropped_constant,
                    [typed[c].info for c in cols], list(x), list(y), list(zl))
