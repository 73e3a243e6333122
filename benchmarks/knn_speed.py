"""Time mitool's KSG against scikit-learn's estimator, and show how KSG scales.

    python benchmarks/knn_speed.py [--max-n 1000000] [--repeats 1]

Prints two tables: 1-D pairs for N = 1e3..max-n (time of each, ratio sklearn/ksg, both
estimates and the truth), then KSG time and estimate against dimension at N = 10,000.
Timings are wall-clock on this machine; the ratio is what carries to other machines.
"""

from __future__ import annotations

import argparse
import time

from sklearn.feature_selection import mutual_info_regression

from mitool.data import synthetic
from mitool.estimators.knn import ksg_mi


def timed(fn, repeats: int) -> tuple[float, float]:
    best, value = float("inf"), float("nan")
    for _ in range(repeats):
        t0 = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t0)
    return best, value


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-n", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args()

    print("## KSG vs scikit-learn, 1-D Gaussian pair (true MI 1.0 nat), k = 3\n")
    print("| N | ksg (s) | sklearn (s) | sklearn / ksg | ksg MI | sklearn MI |")
    print("|---:|---:|---:|---:|---:|---:|")
    n = 1000
    while n <= args.max_n:
        d = synthetic.gaussian(n, 1, 1, mi=1.0, seed=0)
        t_k, v_k = timed(lambda d=d: ksg_mi(d.x, d.y, k=3, seed=0), args.repeats)
        t_s, v_s = timed(
            lambda d=d: mutual_info_regression(d.x, d.y[:, 0], n_neighbors=3, random_state=0)[0],
            args.repeats,
        )
        print(f"| {n:,} | {t_k:.3f} | {t_s:.3f} | {t_s / t_k:.2f} | {v_k:.4f} | {v_s:.4f} |",
              flush=True)
        n *= 10

    print("\n## KSG against dimension (paired Gaussian, true MI 1.0 nat, N = 10,000)\n")
    print("| dim X = dim Y | ksg (s) | time / time(d=1) | ksg MI | error |")
    print("|---:|---:|---:|---:|---:|")
    base = None
    for dim in (1, 2, 4, 8, 16):
        d = synthetic.gaussian(10_000, dim, dim, mi=1.0, seed=0)
        t, v = timed(lambda d=d: ksg_mi(d.x, d.y, k=3, seed=0), args.repeats)
        base = base or t
        print(f"| {dim} | {t:.3f} | {t / base:.1f} | {v:.4f} | {v - 1.0:+.4f} |", flush=True)


if __name__ == "__main__":
    main()
