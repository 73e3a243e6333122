"""Lagged views of a table read as a time series: pure functions, no estimation.

Why here: lagged MI I(X[t-L]; Y[t]) and transfer entropy are ordinary (conditional) MI on a
table whose rows pair each time t with earlier times. Building that table right — rows in
time order, a lag counted in time steps and not in rows when the series has gaps — is data
handling, and every time-series use case (``mitool.timeseries``) reads it from here.

A series' rows are placed on a grid of *step indices* (``TimeGrid.steps``): 0, 1, 2, ... for
rows in file order without a time column; ``(t - t0) / step`` with one, ``step`` the modal
spacing. ``lag_rows`` then pairs rows whose step indices differ by exactly the offsets asked
for, so a missing time step never pairs two rows that are not L steps apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mitool.errors import InputError, UsageError

GAP_CHOICES = ("refuse", "drop")


@dataclass(frozen=True)
class TimeGrid:
    """Where each row of a series sits in time.

    ``order``: row positions of the table in time order (the rows kept: a missing time drops
    its row); ``steps``: the step index of each of those rows (increasing integers);
    ``step``: the modal spacing, as text for people (None: rows in file order, no time
    column); ``n_gaps``: places where consecutive rows are more than one step apart;
    ``missing_steps``: the steps absent inside the series; ``n_missing_time``: rows dropped
    for a missing time value.
    """

    order: np.ndarray  # (n,) int64
    steps: np.ndarray  # (n,) int64
    step: str | None = None
    n_gaps: int = 0
    missing_steps: int = 0
    largest_gap: int = 1
    n_missing_time: int = 0
    reordered: bool = False

    @property
    def n(self) -> int:
        return int(self.order.size)

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "n_gaps": self.n_gaps, "missing_steps": self.missing_steps,
                "n_missing_time": self.n_missing_time, "reordered": self.reordered}


def row_grid(n: int) -> TimeGrid:
    """Rows in file order, one step apart (no time column)."""
    idx = np.arange(n, dtype=np.int64)
    return TimeGrid(idx, idx.copy())


def time_values(values: Any, name: str) -> tuple[np.ndarray, bool]:
    """A time column as float64 numbers (NaN missing) and whether it held dates/datetimes
    (then nanoseconds since the epoch). Numbers stay numbers; text is parsed as datetimes,
    and a column that is neither is refused."""
    import pandas as pd

    s = pd.Series(values)
    if pd.api.types.is_bool_dtype(s):
        raise InputError(f"--time column '{name}' holds booleans, not times")
    if pd.api.types.is_numeric_dtype(s):
        return s.to_numpy(dtype=float, na_value=np.nan), False
    if pd.api.types.is_datetime64_any_dtype(s):
        parsed = s
    else:
        text = s.astype("string").str.strip()
        numeric = pd.to_numeric(text, errors="coerce")
        if numeric.notna().sum() == text.notna().sum() and text.notna().any():
            return numeric.to_numpy(dtype=float, na_value=np.nan), False
        try:
            parsed = pd.to_datetime(text, errors="raise", format="mixed")
        except (ValueError, TypeError) as e:
            raise InputError(f"--time column '{name}' is neither numbers nor dates/datetimes "
                             f"({e}); name a column of times or sequence numbers") from None
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    ns = parsed.astype("datetime64[ns]").to_numpy().astype("int64").astype(float)
    ns[parsed.isna().to_numpy()] = np.nan
    return ns, True


def _step_text(step: float, is_datetime: bool) -> str:
    if not is_datetime:
        return f"{step:g}"
    seconds = step / 1e9
    for size, unit in ((86400 * 7, "week"), (86400, "day"), (3600, "hour"), (60, "minute"),
                       (1, "second")):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds:g} seconds"


def time_grid(values: Any, name: str) -> TimeGrid:
    """Sort a series by its time column and place each row on the grid of the modal step.

    Refused (exit 2): repeated times (two rows at one time are not a series), fewer than
    two distinct times, and times off the grid of the modal step (e.g. a step of 1 with
    some rows at 2.5), which no lag in steps could pair.
    """
    t, is_dt = time_values(values, name)
    keep = np.flatnonzero(np.isfinite(t))
    n_missing = int(t.size - keep.size)
    order = keep[np.argsort(t[keep], kind="stable")]
    ts = t[order]
    if ts.size < 2:
        raise InputError(f"--time column '{name}' has fewer than two times")
    diffs = np.diff(ts)
    if np.any(diffs == 0):
        dup = ts[np.flatnonzero(diffs == 0)[0]]
        shown = _step_text(dup, False) if not is_dt else str(np.datetime64(int(dup), "ns"))
        raise InputError(
            f"--time column '{name}' repeats a time ({shown}, {int(np.sum(diffs == 0))} "
            "repeats): a series has one row per time; aggregate the repeated rows first or "
            "pick another time column")
    values_, counts = np.unique(diffs, return_counts=True)
    step = float(values_[np.argmax(counts)])  # the modal spacing (ties: the smallest)
    rel = (ts - ts[0]) / step
    steps = np.rint(rel)
    if np.any(np.abs(rel - steps) > 1e-6 * np.maximum(1.0, np.abs(rel))):
        raise InputError(
            f"--time column '{name}' is not on a regular grid: the modal step is "
            f"{_step_text(step, is_dt)} and some times fall between steps; resample the "
            "series to a regular step first")
    steps = steps.astype(np.int64)
    jumps = np.diff(steps)
    n_gaps = int(np.sum(jumps > 1))
    return TimeGrid(order.astype(np.int64), steps, _step_text(step, is_dt), n_gaps,
                    int(np.sum(jumps - 1)), int(jumps.max()) if jumps.size else 1, n_missing,
                    bool(np.any(np.diff(order) < 0)))


def lag_rows(steps: np.ndarray, offsets: Sequence[int]) -> np.ndarray:
    """Positions (into ``steps``) of every row t whose times t + offset all exist, one
    column per offset: ``out[i, j]`` is the row at step ``steps[t_i] + offsets[j]``.

    With consecutive steps (no gaps) this is plain shifting: offsets (0, -1) on 5 rows give
    [[1, 0], [2, 1], [3, 2], [4, 3]]. With a missing step, only rows whose every partner
    exists are kept, so each pair is exactly the asked number of steps apart.
    """
    steps = np.asarray(steps, dtype=np.int64)
    offs = np.asarray(list(offsets), dtype=np.int64)
    pos = {int(s): i for i, s in enumerate(steps)}
    out = np.full((steps.size, offs.size), -1, dtype=np.int64)
    if steps.size and np.all(np.diff(steps) == 1):  # regular: arithmetic, no lookups
        for j, o in enumerate(offs):
            idx = np.arange(steps.size) + o
            ok = (idx >= 0) & (idx < steps.size)
            out[ok, j] = idx[ok]
    else:
        for j, o in enumerate(offs):
            out[:, j] = [pos.get(int(s) + int(o), -1) for s in steps]
    return out[np.all(out >= 0, axis=1)]


def parse_lags(spec: str | int | Sequence[int]) -> list[int]:
    """'3' -> [3]; '0:10' -> [0, 1, ..., 10] (both ends included); '1:10:3' -> [1, 4, 7, 10];
    '1,2,5' -> [1, 2, 5]; an int or a list of ints as they are."""
    if isinstance(spec, bool):
        raise UsageError("{param} takes integers, e.g. 0:10", parameter="lags")
    if isinstance(spec, (int, np.integer)):
        return [int(spec)]
    if not isinstance(spec, str):
        lags = list(spec)
        if not lags or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                               for v in lags):
            raise UsageError("{param} takes a list of integers", parameter="lags")
        return [int(v) for v in lags]
    text = spec.strip()
    try:
        if ":" in text:
            parts = [int(p) for p in text.split(":")]
            if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] < 1):
                raise ValueError
            lo, hi = parts[0], parts[1]
            every = parts[2] if len(parts) == 3 else 1
            if hi < lo:
                raise ValueError
            return list(range(lo, hi + 1, every))
        return [int(p) for p in text.split(",") if p.strip()] or _bad_lags(spec)
    except ValueError:
        return _bad_lags(spec)


def _bad_lags(spec: Any) -> list[int]:
    raise UsageError(f"{{param}} '{spec}' is not a lag range: use FIRST:LAST (both included, "
                     "e.g. 0:10), FIRST:LAST:EVERY or a list 1,2,5", parameter="lags")


def parse_history(spec: str | int | Sequence[int]) -> tuple[int, int]:
    """Transfer entropy's history lengths: 'k,l' (source k, target l), or 'k' for both."""
    if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        parts = [int(spec)]
    elif isinstance(spec, str):
        try:
            parts = [int(p) for p in spec.split(",")]
        except ValueError:
            parts = []
    elif isinstance(spec, (list, tuple)):
        parts = [int(p) for p in spec if isinstance(p, (int, np.integer))
                 and not isinstance(p, bool)]
        parts = parts if len(parts) == len(spec) else []
    else:
        parts = []
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2 or min(parts) < 1 or max(parts) > MAX_HISTORY:
        raise UsageError(f"{{param}} '{spec}' must be K,L: the source's and the target's "
                         f"history lengths, whole numbers from 1 to {MAX_HISTORY} (e.g. 1,1 "
                         "or 2,3)", parameter="history")
    return parts[0], parts[1]


MAX_HISTORY = 50


def lag_name(column: str, offset: int) -> str:
    """The name of ``column`` read ``offset`` steps away from t: 'x(t-1)', 'x(t+2)', 'x'."""
    if offset == 0:
        return column
    return f"{column}(t{'-' if offset < 0 else '+'}{abs(offset)})"


def lagged_frame(frame: Any, grid: TimeGrid, columns: Sequence[tuple[str, int]],
                 *, shift: dict[str, int] | None = None) -> tuple[Any, int]:
    """A DataFrame with one row per time t that has every (column, offset) asked for, and
    one column per pair named ``lag_name(column, offset)``: the value of ``column`` at
    step t + offset (offset -1: the step before). Returns it and its number of rows.

    ``shift`` (column -> s) reads that column circularly shifted by s rows of the series
    (row i takes row (i + s) mod n): a time-shift surrogate, which keeps the column's own
    dynamics and breaks its timing against the others.
    """
    import pandas as pd

    offsets = sorted({o for _, o in columns})
    rows = lag_rows(grid.steps, offsets)  # (m, len(offsets)), positions in time order
    where = {o: j for j, o in enumerate(offsets)}
    out = {}
    n = grid.n
    for col, o in columns:
        pos = rows[:, where[o]]
        if shift and col in shift:
            pos = (pos + shift[col]) % n
        series = frame[col]
        out[lag_name(col, o)] = series.iloc[grid.order[pos]].reset_index(drop=True)
    return pd.DataFrame(out), int(rows.shape[0])
