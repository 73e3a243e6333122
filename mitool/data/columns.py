"""From a table to estimator input: resolve column specs, decide types, drop missing rows.

Numeric columns are continuous; string, bool and categorical columns are discrete
(factorised to integer codes); ``discrete`` / ``continuous`` override the guess.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from mitool.errors import InputError, UsageError
from mitool.estimators.base import PreparedData

GLOB_CHARS = set("*?[")
FEW_VALUES = 10  # integer columns with at most this many values get a --discrete hint


def split_specs(specs: Iterable[str] | str | None) -> list[str]:
    """["a,b", "c"] -> ["a", "b", "c"] (options are repeatable and comma-separated)."""
    if specs is None:
        return []
    if isinstance(specs, str):
        specs = [specs]
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


def prepare(
    frame,
    x: list[str],
    y: list[str],
    discrete: Sequence[str] = (),
    continuous: Sequence[str] = (),
    max_rows: int | None = None,
    seed: int = 0,
) -> Prepared:
    """Turn the selected columns of a pandas DataFrame into float arrays and discrete flags."""
    import pandas as pd

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
    cols = x + y
    n_rows = len(frame)
    if n_rows == 0:
        raise InputError("the table has a header but no data rows")

    values: dict[str, np.ndarray] = {}
    is_discrete: dict[str, bool] = {}
    missing = np.zeros(n_rows, dtype=bool)
    for c in cols:
        s = frame[c]
        if c in continuous:
            num = pd.to_numeric(s, errors="coerce")
            bad = num.isna() & s.notna()
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                raise InputError(
                    f"column '{c}' is declared continuous but holds non-numeric values such as "
                    f"{s.iloc[i]!r} (data row {i + 1}); clean it or drop --continuous {c}"
                )
            s = num
        numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
        disc = c in discrete or not numeric
        col_missing = s.isna().to_numpy()
        if disc:
            codes, _ = pd.factorize(s, use_na_sentinel=True)
            arr = codes.astype(np.float64)
        else:
            arr = s.to_numpy(dtype=np.float64, na_value=np.nan)
            col_missing = col_missing | np.isnan(arr)
            inf = np.isinf(arr)
            if inf.any():
                raise InputError(
                    f"column '{c}' holds {int(inf.sum())} infinite value(s) (first at data row "
                    f"{int(np.flatnonzero(inf)[0]) + 1}); remove or cap them before estimating"
                )
            if c not in continuous and pd.api.types.is_integer_dtype(s):
                n_distinct = s.nunique(dropna=True)
                if 1 < n_distinct <= FEW_VALUES:
                    warnings.append(
                        f"column '{c}' is integer with {n_distinct} distinct values and is treated "
                        f"as continuous; pass --discrete {c} if it is a category"
                    )
        values[c] = arr
        is_discrete[c] = disc
        missing |= col_missing

    keep = ~missing
    n_dropped = int(missing.sum())
    if not keep.any():
        raise InputError(
            f"no rows left: all {n_rows} rows have a missing value in the selected columns"
        )
    rows = np.flatnonzero(keep)
    n_sampled = None
    if max_rows is not None:
        if max_rows < 1:
            raise UsageError(f"--max-rows must be a positive integer, got {max_rows}")
        if len(rows) > max_rows:
            rng = np.random.default_rng(seed)
            rows = np.sort(rng.choice(rows, size=max_rows, replace=False))
            n_sampled = max_rows

    dropped_constant: list[str] = []
    for c in cols:
        col = values[c][rows]
        if np.all(col == col[0]):
            dropped_constant.append(c)
            warnings.append(f"column '{c}' is constant: it carries no information (MI with it is 0)")

    def column(c: str) -> np.ndarray:
        col = values[c][rows]
        if is_discrete[c]:  # re-code the kept rows so codes are 0..m-1 (one-hot needs it)
            col = np.unique(col, return_inverse=True)[1].astype(np.float64)
        return col

    def block(names: list[str]) -> np.ndarray:
        if not names:
            return np.empty((len(rows), 0))
        return np.column_stack([column(c) for c in names])

    xs = [c for c in x if c not in dropped_constant]
    ys = [c for c in y if c not in dropped_constant]
    data = PreparedData(
        x=block(xs),
        y=block(ys),
        x_names=xs,
        y_names=ys,
        x_discrete=np.array([is_discrete[c] for c in xs], dtype=bool),
        y_discrete=np.array([is_discrete[c] for c in ys], dtype=bool),
    )
    return Prepared(data, n_rows, n_dropped, n_sampled, warnings, dropped_constant)
