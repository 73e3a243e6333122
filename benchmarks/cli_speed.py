"""End to end: `mitool estimate big.csv --x x --y y -e ksg` against a plain script that reads
the same CSV with pandas and calls scikit-learn's mutual_info_regression (issue 20's target:
at most 0.6x its wall time). Both run as fresh processes, alternately, so they share the
machine's state; the table gives the medians and their ratio.

    python benchmarks/cli_speed.py [--rows 100000] [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

SKLEARN = """
import sys
import pandas as pd
from sklearn.feature_selection import mutual_info_regression
df = pd.read_csv(sys.argv[1])
print(mutual_info_regression(df[["x"]].to_numpy(), df["y"].to_numpy(), n_neighbors=3,
                             random_state=0)[0])
"""


def wall(cmd: list[str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return time.perf_counter() - t0, out.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.normal(size=args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.csv"
        pd.DataFrame({"x": x, "y": 0.8 * x + 0.6 * rng.normal(size=args.rows)}).to_csv(
            path, index=False)
        script = Path(tmp) / "sk.py"
        script.write_text(SKLEARN)
        mitool = [sys.executable, "-m", "mitool", "estimate", str(path), "--x", "x", "--y", "y",
                  "-e", "ksg", "-f", "json", "-q"]
        sk = [sys.executable, str(script), str(path)]
        wall(mitool)  # numba's compiled kernels land in their cache on a fresh checkout
        times: dict[str, list[float]] = {"mitool -e ksg": [], "pandas + scikit-learn": []}
        for _ in range(args.repeats):
            times["mitool -e ksg"].append(wall(mitool)[0])
            times["pandas + scikit-learn"].append(wall(sk)[0])
    base = statistics.median(times["pandas + scikit-learn"])
    print(f"\n{args.rows:,} rows x 2 columns, {args.repeats} alternating runs each, "
          "median wall seconds (process start to exit)\n")
    print("| command | median s | min s | ratio to scikit-learn |")
    print("|---|---:|---:|---:|")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"| {name} | {med:.2f} | {min(ts):.2f} | {med / base:.2f} |")


if __name__ == "__main__":
    main()
