"""Messy tables as people have them, each beside the clean table it should give the same MI as.

``write_all(folder)`` writes every case and returns {name: Case}; ``scripts/make_messy_tables.py``
calls it so the files can be tried by hand (``mitool estimate messy/stray_token.csv ...``).
Every case is seeded, so its numbers are stable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

N = 500


@dataclass
class Case:
    path: Path
    x: str
    y: str
    clean: pd.DataFrame | None = None  # the same data without the mess (None: none exists)
    note: str = ""
    extra: dict = field(default_factory=dict)


def _pair(n: int = N, seed: int = 0, rho: float = 0.8) -> pd.DataFrame:
    """x, y with I = -1/2 log(1 - rho^2) = 0.51 nats for rho = 0.8."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = rho * x + np.sqrt(1 - rho**2) * rng.normal(size=n)
    return pd.DataFrame({"x": x, "y": y})


def write_all(folder: str | Path) -> dict[str, Case]:
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    cases: dict[str, Case] = {}
    base = _pair()

    # one stray token among the numbers
    df = base.copy()
    text = df["x"].map(lambda v: f"{v:.17g}").astype(object)
    text.iloc[7] = "abc"
    path = root / "stray_token.csv"
    pd.DataFrame({"x": text, "y": df["y"]}).to_csv(path, index=False)
    cases["stray_token"] = Case(path, "x", "y", base.drop(index=7), "row 8 of x is 'abc'")

    # thousands separators, quoted: "1,234.56"
    scaled = base.assign(x=base["x"] * 1e6, y=base["y"] * 1e4)
    path = root / "thousands.csv"
    pd.DataFrame({"x": scaled["x"].map(lambda v: f"{v:,.2f}"),
                  "y": scaled["y"].map(lambda v: f"{v:,.3f}")}).to_csv(path, index=False)
    cases["thousands"] = Case(path, "x", "y", scaled.round({"x": 2, "y": 3}))

    # the European layout: ';' between fields, ',' as the decimal mark
    path = root / "european.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("x;y\n")
        for a, b in zip(base["x"], base["y"], strict=True):
            fh.write(f"{a:.6f};{b:.6f}\n".replace(".", ","))
    cases["european"] = Case(path, "x", "y", base.round(6))

    # duplicate column names
    path = root / "duplicate_header.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("a,b,a\n")
        for a, b in zip(base["x"], base["y"], strict=True):
            fh.write(f"{a},{b},{-a}\n")
    cases["duplicate_header"] = Case(path, "a", "b", note="'a' is columns 1 and 3")

    # magnitudes: the same pair times 1e300 and 1e-300
    for name, factor in (("huge", 1e300), ("tiny", 1e-300)):
        path = root / f"{name}.csv"
        (base * factor).to_csv(path, index=False, float_format="%.17g")
        cases[name] = Case(path, "x", "y", base, f"x and y times {factor:g}")

    # a timestamp with a strong trend (Parquet) and the same as ISO strings (CSV)
    rng = np.random.default_rng(3)
    t = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(
        np.sort(rng.uniform(0, 365 * 86400, N)), unit="s")
    secs = (t - pd.Timestamp("1970-01-01", tz="UTC")).total_seconds().to_numpy()
    trend = (secs - secs.mean()) / secs.std()
    level = trend + 0.5 * rng.normal(size=N)
    clean = pd.DataFrame({"when": secs, "level": level})
    path = root / "timestamp.parquet"
    pd.DataFrame({"when": t, "level": level}).to_parquet(path)
    cases["timestamp_parquet"] = Case(path, "when", "level", clean)
    path = root / "dates_iso.csv"
    pd.DataFrame({"when": t.strftime("%Y-%m-%dT%H:%M:%S"), "level": level}).to_csv(path,
                                                                                  index=False)
    cases["dates_iso"] = Case(path, "when", "level", clean)

    # identifiers: a unique string ID that leaks nothing, a numeric ID that leaks and one that
    # does not, against a binary target
    rng = np.random.default_rng(4)
    n = 10000
    target = rng.integers(0, 2, size=n)
    order = np.argsort(target + rng.uniform(0, 1.5, size=n))  # ids assigned roughly by target
    leaky = np.empty(n, dtype=np.int64)
    leaky[order] = np.arange(1000000, 1000000 + n)
    ids = pd.DataFrame({
        "customer_id": [f"C{v:06d}" for v in rng.permutation(n)],
        "random_id": rng.permutation(n) + 5000000,
        "leaky_id": leaky,
        "target": np.where(target == 1, "yes", "no"),
        "amount": target + rng.normal(size=n),
    })
    path = root / "ids.csv"
    ids.to_csv(path, index=False)
    cases["ids"] = Case(path, "customer_id", "target", None, "unique string IDs")

    # float-coded categories (occupation 1.0..6.0) and a feature that depends on them
    rng = np.random.default_rng(5)
    occ = rng.integers(1, 7, size=N).astype(float)
    path = root / "float_codes.csv"
    pd.DataFrame({"occupation": occ, "income": occ * 0.5 + rng.normal(size=N)}).to_csv(
        path, index=False)
    cases["float_codes"] = Case(path, "occupation", "income")

    # an all-missing column, a nearly empty one, a constant one, beside a dependent pair
    df = base.copy()
    df["empty"] = np.nan
    df["nearly_empty"] = np.nan
    df.loc[[3, 9], "nearly_empty"] = [1.5, 2.5]
    df["flat"] = 7.0
    path = root / "holes.csv"
    df.to_csv(path, index=False)
    cases["holes"] = Case(path, "x", "y", base)

    # two independent high-cardinality categories and a truly dependent continuous pair
    rng = np.random.default_rng(6)
    n = 1000
    u = rng.normal(size=n)
    cats = pd.DataFrame({
        "shop": [f"s{v}" for v in rng.integers(0, 50, size=n)],
        "colour": [f"c{v}" for v in rng.integers(0, 20, size=n)],
        "u": u,
        "v": 0.6 * u + 0.8 * rng.normal(size=n),  # I = 0.22 nats
    })
    path = root / "categories.csv"
    cats.to_csv(path, index=False)
    cases["categories"] = Case(path, "shop", "colour", None, "independent: MI 0")

    # encodings: a spreadsheet export in Windows-1252/Latin-1 (accents in the header and in
    # a category), the same table in UTF-16 with its byte-order mark, one whose first
    # 64 kB are plain ASCII (the accents come later) and a gzipped ';' Latin-1 file
    rng = np.random.default_rng(7)
    n = 3000
    town = rng.integers(0, 4, size=n)
    names = np.array(["Köln", "Zürich", "Genève", "Montréal"])
    enc = pd.DataFrame({"städt": names[town], "größe": town + rng.normal(0, 0.7, size=n)})
    clean = enc.assign(städt=town)
    path = root / "latin1.csv"
    path.write_bytes(enc.to_csv(index=False).encode("latin-1"))
    cases["latin1"] = Case(path, "städt", "größe", clean, "Latin-1 / cp1252 text")
    path = root / "utf16.csv"
    path.write_bytes(enc.to_csv(index=False).encode("utf-16"))
    cases["utf16"] = Case(path, "städt", "größe", clean, "UTF-16 with a byte-order mark")
    late = pd.concat([enc.assign(städt="Bonn").iloc[:0]] + [enc] * 12).rename(
        columns={"städt": "town", "größe": "size"})
    late.iloc[: 4 * n, 0] = "Bonn"  # ASCII for the first 12,000 rows (more than 64 kB)
    path = root / "late_latin1.csv"
    path.write_bytes(late.to_csv(index=False).encode("latin-1"))
    cases["late_latin1"] = Case(path, "town", "size", None, "accents after the first 64 kB")
    import gzip

    path = root / "latin1_semicolon.csv.gz"
    path.write_bytes(gzip.compress(enc.to_csv(index=False, sep=";", decimal=",")
                                   .encode("latin-1")))
    cases["latin1_gzip"] = Case(path, "städt", "größe", clean, "gzip, ';', decimal commas")

    # small-integer codes read as numbers: engines (1-4) against seat classes (1-3)
    rng = np.random.default_rng(8)
    engines = rng.integers(1, 5, size=2000)
    seats = np.where(rng.random(2000) < 0.5, np.minimum(engines, 3), rng.integers(1, 4, 2000))
    path = root / "codes.csv"
    pd.DataFrame({"engines": engines, "seats": seats,
                  "weight": engines + rng.normal(0, 1, 2000)}).to_csv(path, index=False)
    cases["codes"] = Case(path, "engines", "seats", None, "integer codes with 4 and 3 levels")

    # a year of hourly timestamps and a departure time that follows the hour of day
    # (flights: sched_dep_time against time_hour): truth H(hour) = ln 24 = 3.18 nats
    rng = np.random.default_rng(9)
    stamp = pd.Timestamp("2013-01-01") + pd.to_timedelta(rng.integers(0, 365 * 24, 6000),
                                                           unit="h")
    path = root / "clock.csv"
    pd.DataFrame({"sched_dep_time": stamp.hour * 100 + rng.integers(0, 60, 6000),
                  "time_hour": stamp.strftime("%Y-%m-%d %H:%M:%S")}).to_csv(path, index=False)
    cases["clock"] = Case(path, "sched_dep_time", "time_hour", None,
                          "a daily cycle inside a year of timestamps; --datetime-parts hour")
    return cases
