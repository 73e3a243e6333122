"""Write the messy tables of tests/messy_tables.py to a folder, to try them by hand.

    python scripts/make_messy_tables.py out/messy
    mitool estimate out/messy/stray_token.csv --x x --y y -e ksg      # one stray token
    mitool estimate out/messy/european.csv --x x --y y -e ksg         # ';' and decimal commas
    mitool estimate out/messy/ids.csv --x customer_id --y target     # refused: an identifier
    mitool pairs out/messy/holes.csv                                  # empty/constant columns
    python scripts/make_messy_tables.py out/messy --big   # + flights_like.parquet (336,776
    mitool estimate out/messy/flights_like.parquet --x tailnum --y arr_delay  # rows, 4,043 levels)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from messy_tables import write_all  # noqa: E402


def write_flights_like(folder: Path) -> Path:
    """A year of flights' shape: 336,776 rows, a 4,043-level tail number that determines a
    16-level carrier and shifts the arrival delay (issue 23's memory case)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    tail = rng.integers(0, 4043, 336_776)
    path = folder / "flights_like.parquet"
    pd.DataFrame({"tailnum": [f"N{t:04d}" for t in tail],
                  "carrier": [f"C{t % 16}" for t in tail],
                  "arr_delay": 20 * rng.normal(size=tail.size) + tail % 37}).to_parquet(path)
    return path


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--big"]
    folder = Path(args[0] if args else "out/messy")
    for name, case in write_all(folder).items():
        print(f"{name:20s} {case.path}  (--x {case.x} --y {case.y}) {case.note}")
    if "--big" in sys.argv:
        print(f"{'flights_like':20s} {write_flights_like(folder)}  (--x tailnum --y carrier or "
              "arr_delay) 336,776 rows, 4,043 tail numbers")


if __name__ == "__main__":
    main()
