"""Time series: transfer entropy and lagged MI against the exact truths of a VAR(1), and the
time-shift surrogate test's false-positive rate and power.

    python benchmarks/transfer_entropy.py --seeds 3           # accuracy, N in {1000, 5000}
    python benchmarks/transfer_entropy.py --null --seeds 100  # surrogate test, N = 1,000
    python benchmarks/transfer_entropy.py --coverage --seeds 100  # 95% intervals, N = 1,000

Processes: bivariate linear-Gaussian VAR(1) z(t) = A z(t-1) + e(t), e ~ N(0, I)
(``mitool.data.synthetic.var1``). For a Gaussian process TE = ½ ln(var(Y(t)|Y past) /
var(Y(t)|Y past, X past)), the conditional variances from the stationary autocovariances
(Γ(0) from ``scipy.linalg.solve_discrete_lyapunov``, Γ(h) = A^h Γ(0)); lagged MI
I(X(t-L);Y(t)) = -½ ln(1 - ρ²) with ρ from Γ(L). A hit: within max(10%, 0.05 nats).

``--null``: ``mitool.transfer_entropy(permutations=P)`` on the unidirectional system, where
TE(Y→X) = 0 (the share of its p-values ≤ 0.05 is the false-positive rate) and TE(X→Y) > 0
(the share ≤ 0.05 is the power), at two coupling strengths.

``--coverage``: how often ``transfer_entropy(bootstrap=B)``'s 95% interval holds the truth, both
directions, the default block (≈ n^(1/3) steps) beside ``--block 1`` (row-wise half-samples,
which treat neighbouring steps as independent), on strongly and weakly autocorrelated
processes.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

SYSTEMS = {
    # name: A (rows: x, y); noise identity
    "x→y only (c=0.4)": ((0.5, 0.0), (0.4, 0.5)),
    "x→y only, weak (c=0.15)": ((0.5, 0.0), (0.15, 0.5)),
    "both ways": ((0.6, 0.2), (0.3, 0.5)),
    "x→y only, strong (c=0.8)": ((0.3, 0.0), (0.8, 0.3)),
}
HISTORIES = [(1, 1), (2, 2)]


def within(est: float, truth: float) -> bool:
    return abs(est - truth) <= max(0.1 * truth, 0.05)


def accuracy(seeds: int, sizes: list[int], estimators: list[str]) -> None:
    import mitool
    from mitool.data import synthetic

    print("\n### Transfer entropy against the VAR(1) truth (nats)\n")
    print("| process | N | history k,l | direction | truth | estimator | estimates (seeds) "
          "| mean | within |")
    print("|---|---:|---|---|---:|---|---|---:|---:|")
    for name, a in SYSTEMS.items():
        if "weak" in name:
            continue
        for n in sizes:
            for k, l_ in HISTORIES:
                if (k, l_) != (1, 1) and name != "x→y only (c=0.4)":
                    continue
                for est in estimators:
                    vals: dict[str, list[float]] = {"xy": [], "yx": []}
                    for seed in range(seeds):
                        d = synthetic.var1(n, a, seed=seed)
                        r = mitool.transfer_entropy(d.frame, "x", "y", (k, l_), est, time="t",
                                                    seed=seed)
                        vals["xy"].append(r.te_xy)
                        vals["yx"].append(r.te_yx)
                    for direction, label in (("xy", "x→y"), ("yx", "y→x")):
                        truth = d.te(direction, k, l_)
                        v = vals[direction]
                        hits = sum(within(e, truth) for e in v)
                        print(f"| {name} | {n:,} | {k},{l_} | {label} | {truth:.4f} | {est} | "
                              f"{', '.join(f'{e:.3f}' for e in v)} | {np.mean(v):.4f} | "
                              f"{hits}/{len(v)} |", flush=True)

    print("\n### Lagged MI I(x(t-L); y(t)) against the VAR(1) truth (nats), default estimate\n")
    print("| process | N | lag | truth | estimates (seeds) | mean | within |")
    print("|---|---:|---:|---:|---|---:|---:|")
    for name in ("x→y only (c=0.4)", "both ways"):
        a = SYSTEMS[name]
        for n in sizes:
            per_lag: dict[int, list[float]] = {}
            for seed in range(seeds):
                d = synthetic.var1(n, a, seed=seed)
                scan = mitool.lag_scan(d.frame, "x", "y", "0:3", time="t", seed=seed)
                for lag, rep in zip(scan.lags, scan.reports, strict=True):
                    per_lag.setdefault(lag, []).append(rep.mi)
            for lag, v in per_lag.items():
                truth = d.lagged_mi(lag)
                hits = sum(within(e, truth) for e in v)
                print(f"| {name} | {n:,} | {lag} | {truth:.4f} | "
                      f"{', '.join(f'{e:.3f}' for e in v)} | {np.mean(v):.4f} | "
                      f"{hits}/{len(v)} |", flush=True)


def null(seeds: int, n: int, permutations: int, estimator: str | None) -> None:
    import mitool
    from mitool.data import synthetic

    print(f"\n### Time-shift surrogate test: false positives and power (N = {n:,}, "
          f"P = {permutations}, alpha 0.05, history 1,1)\n")
    print("| process | estimator | TE(y→x) truth | false-positive rate (y→x) | TE(x→y) truth "
          "| power (x→y) | seeds | seconds/seed |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name in ("x→y only (c=0.4)", "x→y only, weak (c=0.15)"):
        a = SYSTEMS[name]
        rejected = {"xy": 0, "yx": 0}
        t0 = time.perf_counter()
        for seed in range(seeds):
            d = synthetic.var1(n, a, seed=1000 + seed)
            r = mitool.transfer_entropy(d.frame, "x", "y", "1,1", estimator, time="t",
                                        permutations=permutations, seed=seed)
            for key, direction in zip(("xy", "yx"), r.directions, strict=True):
                rejected[key] += direction.test["p_value"] <= 0.05
        per = (time.perf_counter() - t0) / seeds
        print(f"| {name} | {estimator or 'auto-cmi'} | {d.te('yx'):.4f} | "
              f"{rejected['yx'] / seeds:.3f} ({rejected['yx']}/{seeds}) | {d.te('xy'):.4f} | "
              f"{rejected['xy'] / seeds:.3f} ({rejected['xy']}/{seeds}) | {seeds} | "
              f"{per:.1f} |", flush=True)


COVERAGE_SYSTEMS = {
    "x→y only (c=0.4)": ((0.5, 0.0), (0.4, 0.5)),
    "both ways, persistent (0.8 / 0.7 own)": ((0.8, 0.15), (0.2, 0.7)),
}


def coverage(seeds: int, n: int, bootstrap: int, blocks: list[int | None]) -> None:
    import mitool
    from mitool.data import synthetic

    print(f"\n### Transfer entropy's 95% interval: coverage (N = {n:,}, {bootstrap} "
          "half-samples, history 1,1, default estimator)\n")
    print("| process | direction | truth | block | seeds | covers | mean width | "
          "misses below / above | seconds/seed |")
    print("|---|---|---:|---|---:|---:|---:|---:|---:|")
    for name, a in COVERAGE_SYSTEMS.items():
        for block in blocks:
            hit = {"xy": [], "yx": []}
            width = {"xy": [], "yx": []}
            below = {"xy": 0, "yx": 0}
            used = None
            t0 = time.perf_counter()
            for seed in range(seeds):
                d = synthetic.var1(n, a, seed=7000 + seed)
                r = mitool.transfer_entropy(d.frame, "x", "y", "1,1", time="t", seed=seed,
                                            bootstrap=bootstrap, block=block)
                for key, direction in zip(("xy", "yx"), r.directions, strict=True):
                    t = d.te(key)
                    lo, hi = direction.test["ci_low"], direction.test["ci_high"]
                    used = direction.test["ci_block"]
                    hit[key].append(lo <= t <= hi)
                    width[key].append(hi - lo)
                    below[key] += hi < t
            per = (time.perf_counter() - t0) / seeds
            for key, label in (("xy", "x→y"), ("yx", "y→x")):
                print(f"| {name} | {label} | {d.te(key):.4f} | "
                      f"{'default, ' if block is None else ''}{used} | {seeds} | "
                      f"{np.mean(hit[key]):.3f} | {np.mean(width[key]):.3f} | "
                      f"{below[key]} / {seeds - sum(hit[key]) - below[key]} | {per:.1f} |",
                      flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--sizes", default="1000,5000")
    ap.add_argument("--estimators", default="auto-cmi,gcmi-cmi")
    ap.add_argument("--null", action="store_true")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--permutations", type=int, default=19)
    ap.add_argument("-e", "--estimator", default=None)
    ap.add_argument("--coverage", action="store_true")
    ap.add_argument("--bootstrap", type=int, default=50)
    ap.add_argument("--blocks", default="default,1",
                    help="--coverage: block lengths to compare (default: ≈ n^(1/3))")
    args = ap.parse_args()
    if args.coverage:
        coverage(args.seeds, args.n, args.bootstrap,
                 [None if b == "default" else int(b) for b in args.blocks.split(",")])
    elif args.null:
        null(args.seeds, args.n, args.permutations, args.estimator)
    else:
        accuracy(args.seeds, [int(s) for s in args.sizes.split(",")],
                 args.estimators.split(","))


if __name__ == "__main__":
    main()
