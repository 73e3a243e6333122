"""Write the messy tables of tests/messy_tables.py to a folder, to try them by hand.

    python scripts/make_messy_tables.py out/messy
    mitool estimate out/messy/stray_token.csv --x x --y y -e ksg      # one stray token
    mitool estimate out/messy/european.csv --x x --y y -e ksg         # ';' and decimal commas
    mitool estimate out/messy/ids.csv --x customer_id --y target     # refused: an identifier
    mitool pairs out/messy/holes.csv                                  # empty/constant columns
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from messy_tables import write_all  # noqa: E402


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "out/messy")
    for name, case in write_all(folder).items():
        print(f"{name:20s} {case.path}  (--x {case.x} --y {case.y}) {case.note}")


if __name__ == "__main__":
    main()
