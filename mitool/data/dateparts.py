"""Cyclic parts of a timestamp (``--datetime-parts``): where a dependence follows the clock.

A timestamp enters k-NN as seconds since 1970; a daily cycle inside a year of timestamps is
then invisible (the flights' scheduled departure against ``time_hour`` read 0.10 nats at
30,000 rows for a truth of at least 2.8). Each requested part replaces the column by its
position in the cycle as a sine/cosine pair, so 23:59 sits next to 00:00:

- ``hour``: time of day (24 h), ``weekday``: position in the week (Monday 00:00 = 0),
- ``dayofyear``: position in the calendar year, ``month``: position in the month's cycle
  of the year (month and day within it),
- ``timestamp``: the seconds themselves (keep the trend beside the cycles).

Times are the UTC wall clock of the seconds (naive timestamps are read as UTC).
"""

from __future__ import annotations

import numpy as np

PARTS = ("hour", "weekday", "dayofyear", "month", "timestamp")
_DAY = 86400.0


def parse_parts(spec: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """"hour,weekday" -> ["hour", "weekday"], checked against PARTS."""
    from mitool.errors import UsageError

    if spec is None:
        return []
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    parts = list(dict.fromkeys(p.strip().lower() for p in items if p.strip()))
    bad = [p for p in parts if p not in PARTS]
    if bad:
        raise UsageError(f"unknown {{param}} part(s) {', '.join(map(repr, bad))}; choose from "
                         f"{', '.join(PARTS)}", parameter="datetime_parts",
                         function="TableOptions")
    return parts


def cycle_position(seconds: np.ndarray, part: str) -> np.ndarray:
    """Where each time (seconds since 1970 UTC, NaN missing) sits in ``part``'s cycle, in
    [0, 1)."""
    s = np.asarray(seconds, dtype=np.float64)
    if part == "hour":
        return np.mod(s, _DAY) / _DAY
    if part == "weekday":  # 1970-01-01 was a Thursday: Monday 00:00 is 0
        return np.mod(s / _DAY + 3.0, 7.0) / 7.0
    ok = np.isfinite(s)
    t = np.zeros(s.shape, dtype="datetime64[s]")
    t[ok] = s[ok].astype("int64").astype("datetime64[s]")
    out = np.full(s.shape, np.nan)
    if part == "dayofyear":
        start = t.astype("datetime64[Y]")
        length = ((start + 1).astype("datetime64[s]") - start.astype("datetime64[s]"))
        frac = (t - start.astype("datetime64[s]")) / length
    elif part == "month":
        start = t.astype("datetime64[M]")
        length = ((start + 1).astype("datetime64[s]") - start.astype("datetime64[s]"))
        month = start.astype("int64") % 12
        frac = (month + (t - start.astype("datetime64[s]")) / length) / 12.0
    else:
        raise ValueError(part)
    out[ok] = frac.astype(np.float64)[ok]
    return out


def expand(name: str, seconds: np.ndarray, parts: list[str]) -> list[tuple[str, np.ndarray, str]]:
    """(column name, values, what it is) for each part of one timestamp column."""
    out = []
    for part in parts:
        if part == "timestamp":
            out.append((f"{name}.timestamp", np.asarray(seconds, dtype=np.float64),
                        f"'{name}' as seconds since 1970-01-01 UTC"))
            continue
        angle = 2.0 * np.pi * cycle_position(seconds, part)
        for fn, label in ((np.sin, "sin"), (np.cos, "cos")):
            out.append((f"{name}.{part}_{label}", fn(angle),
                        f"{part} of '{name}' on the circle ({label}), UTC"))
    return out
