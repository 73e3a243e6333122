"""The one place that decides what each column is, and records why.

Kinds (what the estimators see):
- ``continuous``: numbers; also timestamps and dates (as seconds since 1970-01-01 UTC) and
  durations (seconds). Text that is numbers apart from a few stray tokens is read as
  numbers with those cells missing (at most ``STRAY_FRACTION`` of the cells; a warning gives
  the count and examples); thousands separators are removed when every number uses them.
- ``discrete``: text, categories, booleans, and columns declared ``--discrete``; coded
  0..m-1.

A discrete column with about one level per row (an ID, free text, a timestamp stored as
text that did not parse) or too few rows per level is *identifier-like*: an MI estimate on
it means nothing (the plug-in value against a label is H(label) whatever the column holds).
``check_levels`` refuses such a column with the fix, or, when its values are numbers, reads
it as numeric instead (with a warning).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from mitool.errors import InputError

STRAY_FRACTION = 0.05  # text columns whose cells are numbers but for at most 5%: numeric
MIN_NUMERIC_CELLS = 5  # ... and at least this many cells parse (else it is just text)
IDENTIFIER_FRACTION = 0.5  # more distinct levels than half the rows: an identifier
MIN_ROWS_PER_LEVEL = 5  # fewer rows per level on average: no estimate means anything
FEW_VALUES = 10  # numeric columns with at most this many distinct values get a --discrete hint
_EXAMPLES = 3
_DATE = re.compile(
    r"^\s*(\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?"
    r"|\d{4}/\d{1,2}/\d{1,2}.*)\s*$"
)


@dataclass
class ColumnKind:
    """What a column was taken to be, why, and what that cost (JSON ``columns[]``)."""

    name: str
    kind: str  # continuous | discrete
    source: str  # numeric | text | boolean | category | datetime | date | duration
    reason: str
    n_missing: int = 0  # cells missing before any row was dropped (unparsable ones included)
    n_unparsable: int = 0
    n_levels: int | None = None  # discrete: levels among the rows used
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "name": self.name, "kind": self.kind, "source": self.source, "reason": self.reason,
            "n_missing": self.n_missing, "n_unparsable": self.n_unparsable,
            "n_levels": self.n_levels, "notes": self.notes,
        }


@dataclass
class TypedColumn:
    """A column as float64 values (discrete: codes, NaN = missing) and what it is."""

    values: np.ndarray  # (n,) float64
    info: ColumnKind
    numeric_values: np.ndarray | None = None  # discrete columns whose levels are numbers
    warnings: list[str] = field(default_factory=list)

    @property
    def discrete(self) -> bool:
        return self.info.kind == "discrete"


def _examples(values) -> str:
    shown = list(dict.fromkeys(str(v) for v in values))[:_EXAMPLES]
    return ", ".join(repr(v) for v in shown)


def parse_numbers(text, decimal: str = ".", thousands: str | None = None):
    """Strings -> float64 Series (NaN where a cell is not a number), with the given marks."""
    import pandas as pd

    s = text.astype("string").str.strip()
    if thousands:
        s = s.str.replace(thousands, "", regex=False)
    if decimal != ".":
        s = s.str.replace(decimal, ".", regex=False)
    return pd.to_numeric(s, errors="coerce").astype("float64")


_THOUSANDS = {",": re.compile(r"^\s*[-+]?\d{1,3}(,\d{3})+(\.\d+)?\s*$"),
              ".": re.compile(r"^\s*[-+]?\d{1,3}(\.\d{3})+(,\d+)?\s*$")}


def _guess_thousands(cells, decimal: str) -> str | None:
    """',' (or '.' with a decimal comma) when some cells use it as a thousands separator."""
    mark = "." if decimal == "," else ","
    pattern = _THOUSANDS[mark]
    return mark if any(pattern.match(str(c)) for c in cells[:2000]) else None


def _text_as_numbers(s, name: str, decimal: str, thousands: str | None):
    """(values, n_unparsable, note) if the text column is numbers (up to STRAY_FRACTION of
    stray tokens), else None."""
    present = s.notna().to_numpy()
    cells = s[present]
    n_present = int(present.sum())
    if n_present == 0:
        return None
    marks = [thousands] if thousands else [None]
    if thousands is None:
        guess = _guess_thousands(list(cells), decimal)
        if guess is not None:
            marks = [guess, None]
    for mark in marks:
        num = parse_numbers(s, decimal, mark)
        ok = num.notna().to_numpy() & present
        n_ok = int(ok.sum())
        bad = n_present - n_ok
        if n_ok >= MIN_NUMERIC_CELLS and bad <= STRAY_FRACTION * n_present:
            note = None
            if mark is not None and thousands is None:
                note = f"thousands separator {mark!r} removed (pass --thousands {mark!r} to say so)"
            return num.to_numpy(), bad, note, s[present & ~ok]
    return None


def _text_as_dates(s):
    """(seconds since epoch, n_unparsable, stray cells) when the text is dates, else None."""
    import pandas as pd

    present = s.notna().to_numpy()
    cells = s[present].astype("string")
    n_present = int(present.sum())
    if n_present < MIN_NUMERIC_CELLS:
        return None
    looks = cells.str.match(_DATE).fillna(False).to_numpy(dtype=bool)
    if looks.sum() < (1 - STRAY_FRACTION) * n_present:
        return None
    parsed = None
    for fmt in ("ISO8601", "mixed"):
        try:
            parsed = pd.to_datetime(s.astype("string"), errors="coerce", utc=True, format=fmt)
        except (ValueError, TypeError):
            continue
        if int(parsed.notna().sum()) >= (1 - STRAY_FRACTION) * n_present:
            break
    if parsed is None or int(parsed.notna().sum()) < (1 - STRAY_FRACTION) * n_present:
        return None
    ok = parsed.notna().to_numpy()
    secs = _epoch_seconds(parsed)
    return secs, int((present & ~ok).sum()), s[present & ~ok]


def _epoch_seconds(ts) -> np.ndarray:
    """datetime64 Series (naive = UTC) -> float64 seconds since 1970-01-01 UTC, NaN for NaT."""
    import pandas as pd

    if getattr(ts.dt, "tz", None) is None:
        ts = ts.dt.tz_localize("UTC")
    ns = ts.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
    out = (ns - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds()
    return out.to_numpy(dtype=np.float64, na_value=np.nan)


def _codes(s) -> np.ndarray:
    import pandas as pd

    codes, _ = pd.factorize(s, use_na_sentinel=True)
    arr = codes.astype(np.float64)
    arr[codes < 0] = np.nan
    return arr


def _check_finite(values: np.ndarray, name: str) -> None:
    inf = np.isinf(values)
    if inf.any():
        raise InputError(
            f"column '{name}' holds {int(inf.sum())} infinite value(s) (first at data row "
            f"{int(np.flatnonzero(inf)[0]) + 1}); remove or cap them before estimating"
        )


def classify_numbers(values: np.ndarray, name: str, declared: str | None = None) -> TypedColumn:
    """A column of numbers (float64, NaN missing) not declared discrete: continuous, with a
    hint when it has so few distinct values that it may be a code."""
    _check_finite(values, name)
    reason = "declared --continuous" if declared == "continuous" else "numeric"
    warnings: list[str] = []
    missing = int(np.isnan(values).sum())
    col = TypedColumn(values.astype(np.float64, copy=False), ColumnKind(
        name, "continuous", "numeric", reason, missing, 0, None, []), warnings=warnings)
    if declared is None:
        distinct = np.unique(values[~np.isnan(values)])
        if 1 < distinct.size <= FEW_VALUES:
            integer = bool(np.all(distinct == np.round(distinct)))
            what = "integer values" if integer else "values"
            warnings.append(
                f"column '{name}' is numeric with only {distinct.size} distinct {what} and "
                f"is treated as continuous; pass --discrete {name} if it is a category"
            )
    return col


def classify(
    s,
    name: str,
    declared: str | None = None,
    decimal: str = ".",
    thousands: str | None = None,
) -> TypedColumn:
    """Decide the kind of one column (a pandas Series, or a float64 array of numbers read
    straight from Arrow) and convert it to float64.

    ``declared``: "discrete" or "continuous" (the user's ``--discrete``/``--continuous``).
    """
    if isinstance(s, np.ndarray):  # numbers without pandas (``data.loading.NumberColumns``)
        if declared == "discrete":
            raise ValueError("a declared discrete column is read through pandas")
        return classify_numbers(s, name, declared)
    import pandas as pd

    api = pd.api.types
    n_missing0 = int(s.isna().sum())
    warnings: list[str] = []

    def cont(values, source, reason, unparsable=0, notes=()):
        missing = int(np.isnan(values).sum())
        return TypedColumn(values.astype(np.float64, copy=False), ColumnKind(
            name, "continuous", source, reason, missing, unparsable, None, list(notes)),
            warnings=warnings)

    def disc(source, reason, numeric=None):
        return TypedColumn(_codes(s), ColumnKind(name, "discrete", source, reason, n_missing0),
                           numeric_values=numeric, warnings=warnings)

    def stray_warning(n_bad, stray, total, what):
        if n_bad:
            warnings.append(
                f"column '{name}': {n_bad} of {total} cells are not {what} (e.g. "
                f"{_examples(stray)}) and are treated as missing"
            )

    # -- timestamps, dates and durations: continuous, in seconds
    if api.is_datetime64_any_dtype(s):
        return cont(_epoch_seconds(s), "datetime", "timestamp, as seconds since 1970-01-01 UTC",
                    notes=["timestamps read as seconds since 1970-01-01 UTC"])
    if api.is_timedelta64_dtype(s):
        return cont(s.dt.total_seconds().to_numpy(dtype=np.float64, na_value=np.nan),
                    "duration", "duration, in seconds")
    if api.is_bool_dtype(s):
        if declared == "continuous":
            return cont(s.astype("float64").to_numpy(na_value=np.nan), "boolean",
                        "declared --continuous (booleans as 0/1)")
        return disc("boolean", "boolean (2 levels)")
    if isinstance(s.dtype, pd.CategoricalDtype):
        if declared == "continuous":
            s = s.astype("string")
        else:
            return disc("category", "categorical column")
    if api.is_numeric_dtype(s):
        values = s.to_numpy(dtype=np.float64, na_value=np.nan)
        if declared == "discrete":
            _check_finite(values, name)
            return disc("numeric", "declared --discrete", numeric=values)
        return classify_numbers(values, name, declared)
    # -- text (object or string dtype)
    as_num = _text_as_numbers(s, name, decimal, thousands)
    if declared == "continuous":
        if as_num is None:
            num = parse_numbers(s, decimal, thousands)
            bad = s.notna() & num.isna()
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                f"column '{name}' is declared continuous but holds non-numeric values such as "
                f"{s.iloc[i]!r} (data row {i + 1}); clean it or drop --continuous {name}"
            )
        values, n_bad, note, stray = as_num
        stray_warning(n_bad, stray, int(s.notna().sum()), "numbers")
        return cont(values, "text", "declared --continuous (text parsed as numbers)", n_bad,
                    [note] if note else [])
    if as_num is not None and declared != "discrete":
        values, n_bad, note, stray = as_num
        stray_warning(n_bad, stray, int(s.notna().sum()), "numbers")
        notes = [note] if note else []
        if note:
            warnings.append(f"column '{name}': {note}")
        return cont(values, "text", "text holding numbers", n_bad, notes)
    if declared != "discrete":
        as_date = _text_as_dates(s)
        if as_date is not None:
            values, n_bad, stray = as_date
            stray_warning(n_bad, stray, int(s.notna().sum()), "dates")
            return cont(values, "date", "text holding dates, as seconds since 1970-01-01 UTC",
                        n_bad, ["dates read as seconds since 1970-01-01 UTC"])
    numeric = as_num[0] if as_num is not None else None
    reason = "declared --discrete" if declared == "discrete" else "text"
    return disc("text", reason, numeric=numeric)


def check_levels(col: TypedColumn, rows: np.ndarray) -> TypedColumn:
    """Refuse (or, for numbers, read as numeric) a discrete column that is identifier-like on
    the rows actually used (``rows``: indices after missing rows were dropped)."""
    if not col.discrete:
        return col
    name = col.info.name
    codes = col.values[rows]
    n = codes.size
    levels = int(np.unique(codes).size)
    col.info.n_levels = levels
    if n == 0 or levels <= 1:
        return col
    if levels > IDENTIFIER_FRACTION * n:
        why = (f"it has {levels:,} distinct values in {n:,} rows, so it looks like an "
               "identifier or free text")
    elif n / levels < MIN_ROWS_PER_LEVEL:
        why = (f"it has {levels:,} levels for {n:,} rows ({n / levels:.1f} rows per level; "
               f"at least {MIN_ROWS_PER_LEVEL} are needed)")
    else:
        return col
    if col.numeric_values is not None:
        msg = (f"column '{name}' is treated as numeric, not as a category: {why}, and no "
               "estimate of MI with so many categories means anything")
        col.warnings.append(msg)
        values = col.numeric_values
        info = ColumnKind(name, "continuous", col.info.source,
                          "numeric (too many levels to be a category)", col.info.n_missing,
                          col.info.n_unparsable, None, col.info.notes + [msg])
        return TypedColumn(values, info, None, col.warnings)
    raise InputError(
        f"column '{name}' cannot be used as a category: {why}; the MI with such a column is "
        "not meaningful (against a label it is just the label's entropy). Drop it, group "
        "its rare values, or convert it to numbers if its values are ordered"
    )
