"""The default command's wall time against `-e ksg` on the same file (issue 24's target: one
column against one at N = 5,000 in <= 3x `-e ksg`; 5x5 in <= 15 s or <= 5x).

    python benchmarks/default_speed.py                      # 1x1 and 5x5, N 1,000 / 5,000 / 20,000
    python benchmarks/default_speed.py --shapes 1x1 --rows 5000 --repeats 5

Every command runs as a fresh process (`mitool estimate FILE ... -f json -q`), the three
variants alternately so they share the machine's state: the default; `-e ksg`; and the
default of another checkout (``--before DIR``, e.g. a worktree of the commit before a
change; imported through PYTHONPATH), or, without it, `-e default,smile` (the default with
the neural critic beside it, the cost of the default before issue 24). Medians over the repeats, their ratios to `-e ksg`, and
from the default's JSON which component supplied the headline and what was skipped. The
data are Gaussian pairs with MI 0.5 nats (5x5: spread over the five column pairs).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

VARIANTS = {"default": [], "ksg": ["-e", "ksg"], "before": ["-e", "default,smile"]}


def make_table(shape: str, n: int, seed: int = 0) -> pd.DataFrame:
    dx, dy = (int(v) for v in shape.split("x"))
    k = min(dx, dy)
    rho = np.sqrt(1 - np.exp(-2 * 0.5 / k))  # each of k pairs carries 0.5/k nats
    rng = np.random.default_rng(seed)
    u = rng.standard_normal((n, dx))
    v = rng.standard_normal((n, dy))
    v[:, :k] = rho * u[:, :k] + np.sqrt(1 - rho**2) * v[:, :k]
    return pd.DataFrame({**{f"x{i}": u[:, i] for i in range(dx)},
                         **{f"y{i}": v[:, i] for i in range(dy)}})


def run(path: Path, shape: str, extra: list[str], tree: Path | None = None
        ) -> tuple[float, dict]:
    dx, dy = (int(v) for v in shape.split("x"))
    cmd = [sys.executable, "-m", "mitool", "estimate", str(path),
           "--x", ",".join(f"x{i}" for i in range(dx)),
           "--y", ",".join(f"y{i}" for i in range(dy)), "-f", "json", "-q", *extra]
    env = None if tree is None else {**os.environ, "PYTHONPATH": str(tree)}
    t0 = time.perf_counter()
    # from the file's folder: `python -m` puts the working directory first on sys.path, so a
    # run from a checkout would import that checkout whatever PYTHONPATH says
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env,
                         cwd=path.parent)
    return time.perf_counter() - t0, json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shapes", default="1x1,5x5")
    ap.add_argument("--rows", default="1000,5000,20000")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--before", type=Path, default=None, metavar="DIR",
                    help="a checkout whose default is the 'before' column")
    args = ap.parse_args()
    before = "default of " + str(args.before) if args.before else "-e default,smile"
    print(f"| shape | N | default s | -e ksg s | default / ksg | before s ({before}) "
          "| before / ksg | headline from | skipped |")
    print("|---|---:|---:|---:|---:|---:|---:|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for shape in args.shapes.split(","):
            for n in (int(r) for r in args.rows.split(",")):
                path = Path(tmp) / f"{shape}-{n}.csv"
                make_table(shape, n).to_csv(path, index=False)
                times: dict[str, list[float]] = {v: [] for v in VARIANTS}
                doc: dict = {}
                for _ in range(args.repeats):
                    for name, extra in VARIANTS.items():
                        tree = args.before if name == "before" else None
                        secs, d = run(path, shape, [] if tree else extra, tree)
                        times[name].append(secs)
                        if name == "default":
                            doc = d
                med = {k: statistics.median(v) for k, v in times.items()}
                auto = doc["results"][0]
                print(f"| {shape} | {n:,} | {med['default']:.1f} | {med['ksg']:.1f} | "
                      f"{med['default'] / med['ksg']:.1f}x | {med['before']:.1f} | "
                      f"{med['before'] / med['ksg']:.1f}x | {auto.get('chosen')} | "
                      f"{', '.join(auto.get('skipped') or {}) or '-'} |", flush=True)


if __name__ == "__main__":
    main()
