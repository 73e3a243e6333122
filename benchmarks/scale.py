"""Scale: big tables, wide screens, high dimensions — time and peak memory against the targets.

    python benchmarks/scale.py                 # every row (~20 min on 2 cores)
    python benchmarks/scale.py --only ksg50    # one row (names in ROWS)

Each row runs in a fresh process (``/usr/bin/time``-style: wall time and the child's peak
RSS from ``resource.getrusage``), from the command line where the target is a command, so the
figure is what a user gets: data generation is not counted, reading the file is.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
MITOOL = [sys.executable, "-m", "mitool"]


def make_table(path: Path, n: int, dx: int, dy: int, seed: int = 0) -> list[str]:
    """A Gaussian table (x0.., y0..) with some dependence, as CSV; returns the column names."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dx)).astype(np.float32)
    y = (0.6 * x[:, :1] + 0.8 * rng.normal(size=(n, dy))).astype(np.float32)
    cols = {f"x{i}": x[:, i] for i in range(dx)} | {f"y{i}": y[:, i] for i in range(dy)}
    pd.DataFrame(cols).to_csv(path, index=False, float_format="%.6g")
    return list(cols)


def make_wide(path: Path, n: int, cols: int, seed: int = 0) -> None:
    import pandas as pd

    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n, 4)).astype(np.float32)
    data = {}
    for j in range(cols):  # every column shares a little with one of four factors
        data[f"c{j}"] = (0.3 * base[:, j % 4] + rng.normal(size=n)).astype(np.float32)
    pd.DataFrame(data).to_csv(path, index=False, float_format="%.5g")


_WRAP = ("import json, resource, subprocess, sys, time; t = time.perf_counter(); "
         "p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
         "print(json.dumps([time.perf_counter() - t, "
         "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode, "
         "p.stdout[-300:], p.stderr[-400:]]))")


def measure(cmd: list[str]) -> tuple[float, float, int, str, str]:
    """(wall seconds, peak RSS MB, exit code, stdout tail, stderr tail) of ``cmd`` alone: a
    fresh wrapper process runs it, so the peak is that command's and no earlier row's."""
    p = subprocess.run([sys.executable, "-c", _WRAP, *cmd], capture_output=True, text=True,
                       env=dict(os.environ, NO_COLOR="1"))
    wall, rss_kb, rc, out, err = json.loads(p.stdout)
    return wall, rss_kb / 1024.0, rc, out, err


def ksg_python(n: int, d: int, search: str) -> str:
    return (f"import numpy as np, time; from mitool.estimators.knn import ksg_mi; "
            f"from mitool.data import synthetic; s = synthetic.gaussian({n}, {d}, {d}, mi=1.0, "
            f"seed=0); t = time.perf_counter(); v = ksg_mi(s.x, s.y, search='{search}'); "
            f"print(v, time.perf_counter() - t)")


ROWS = {
    # name: (what, target wall s, target MB, builder)
    "estimate1M": ("default `mitool estimate`, 1,000,000 rows x (1 + 1)", 60, 1024),
    "ksg1M": ("`mitool estimate -e ksg`, 1,000,000 rows x (1 + 1)", 5, None),
    "estimate1M10x10": ("default `mitool estimate`, 1,000,000 rows x (10 + 10)", 90, 2048),
    "ksg50": ("KSG 50x50 at N = 5,000 (library)", 1.5, None),
    # measured at N = 20,000 and scaled by (100,000 / 20,000)^2 = 25: the exact search is
    # O(N^2 d), and the full run needs ~10^11.7 comparisons (an hour on 2 busy cores)
    "ksg25": ("KSG 25x25 at N = 100,000 (library; measured at 20,000, x25)", 60, None),
    "pairs100": ("`mitool pairs` all pairs, 100 columns x 100,000 rows, -j 2", 300, 2048),
    "pairs1000": ("`mitool pairs --target`, 1,000 columns x 10,000 rows, -j 2", 120, None),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", action="append", default=[], help=f"rows: {', '.join(ROWS)}")
    ap.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")
    args = ap.parse_args()
    names = args.only or list(ROWS)
    out = []
    with tempfile.TemporaryDirectory(prefix="mitool-scale-") as tmp:
        tmpd = Path(tmp)
        for name in names:
            what, target_s, target_mb = ROWS[name]
            extra = ""
            if name in ("estimate1M", "ksg1M"):
                path = tmpd / "big.csv"
                if not path.exists():
                    make_table(path, 1_000_000, 1, 1)
                cmd = MITOOL + ["estimate", str(path), "--x", "x0", "--y", "y0", "-f", "json"]
                if name == "ksg1M":
                    cmd += ["-e", "ksg"]
            elif name == "estimate1M10x10":
                path = tmpd / "big10.csv"
                make_table(path, 1_000_000, 10, 10)
                cmd = MITOOL + ["estimate", str(path), "--x", "x*", "--y", "y*", "-f", "json"]
            elif name == "ksg50":
                cmd = [sys.executable, "-c", ksg_python(5000, 50, "auto")]
            elif name == "ksg25":
                cmd = [sys.executable, "-c", ksg_python(20_000, 25, "auto")]
            elif name == "pairs100":
                path = tmpd / "wide100.csv"
                make_wide(path, 100_000, 100)
                cmd = MITOOL + ["pairs", str(path), "-j", "2", "-f", "json", "--quiet"]
            else:
                path = tmpd / "wide1000.csv"
                make_wide(path, 10_000, 1001)
                cmd = MITOOL + ["pairs", str(path), "--target", "c1000", "-j", "2", "-f", "json",
                                "--quiet"]
            load0 = os.getloadavg()[0]
            wall, mb, rc, stdout, err = measure(cmd)
            load = round((load0 + os.getloadavg()[0]) / 2, 1)  # others' work slows every row
            if name in ("ksg50", "ksg25") and rc == 0:  # the estimate alone, without start-up
                mi, inner = stdout.split()[-2:]
                extra = f"KSG {float(mi):.3f} nats; {float(inner):.2f} s inside the process"
                wall = float(inner)
                if name == "ksg25":
                    extra += " at N = 20,000; x25 for N = 100,000"
                    wall *= 25
            ok_s = wall <= target_s
            ok_mb = target_mb is None or mb <= target_mb
            row = {"row": name, "what": what, "wall_s": round(wall, 1), "peak_mb": round(mb),
                   "target_s": target_s, "target_mb": target_mb, "exit": rc, "load": load,
                   "meets": bool(ok_s and ok_mb and rc == 0), "note": extra or err.strip()[-200:]}
            out.append(row)
            print(json.dumps(row), flush=True)
    print("\n| what | wall (s) | target (s) | peak RSS (MB) | target (MB) | load avg | meets |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for r in out:
        tmb = "—" if r["target_mb"] is None else f"{r['target_mb']:,}"
        print(f"| {r['what']} | {r['wall_s']} | {r['target_s']} | {r['peak_mb']:,} | {tmb} | "
              f"{r['load']} | {'yes' if r['meets'] else 'no'} |")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
