"""Calibration of mitool's uncertainty: permutation-test false positives and interval coverage.

    python benchmarks/inference.py [--seeds 200] [--n 500] [--permutations 100]
                                   [--neural-seeds 0]

1. False-positive rate: independent data, many seeds; fraction of p-values <= 0.05 (should
   be about 5%), plus a histogram of the p-values (roughly uniform).
2. Power: the same on weakly dependent data (true MI 0.05 nats).
3. Coverage: 95% intervals on Gaussians with known MI; fraction containing the truth.
Optional: the same for the headline neural estimator (slow: one training run per seed).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import mitool
from mitool.data import synthetic
from mitool.estimators.config import NeuralConfig
from mitool.inference import InferenceSpec


def rate(pvals, alpha=0.05):
    return float(np.mean(np.asarray(pvals) <= alpha))


def pvals_for(make, seeds, est, permutations, neural=None):
    out = []
    for s in range(seeds):
        d = make(s)
        r = mitool.estimate(d.to_frame(), "x*", "y*", est, seed=s, neural=neural, inference=InferenceSpec(permutations=permutations))
        out.append(r.result(est).details["p_value"])
    return np.array(out)


def coverage_for(make, seeds, est, bootstrap, neural=None):
    hits, widths = [], []
    for s in range(seeds):
        d = make(s)
        r = mitool.estimate(d.to_frame(), "x*", "y*", est, seed=s, neural=neural, inference=InferenceSpec(bootstrap=bootstrap))
        det = r.result(est).details
        hits.append(det["ci_low"] <= d.mi <= det["ci_high"])
        widths.append(det["ci_high"] - det["ci_low"])
    return float(np.mean(hits)), float(np.mean(widths))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--permutations", type=int, default=100)
    ap.add_argument("--bootstrap", type=int, default=100)
    ap.add_argument("--neural-seeds", type=int, default=0)
    ap.add_argument("--skip-permutation", action="store_true")
    ap.add_argument("--skip-coverage", action="store_true")
    ap.add_argument("--skip-neural-permutation", action="store_true")
    args = ap.parse_args()
    n = args.n

    if not args.skip_permutation:
        permutation_section(args, n)
    if not args.skip_coverage:
        coverage_section(args)
    if args.neural_seeds:
        neural_section(args)


def permutation_section(args, n: int) -> None:
    print(f"## Permutation test at alpha = 0.05 (N = {n}, {args.permutations} permutations, "
          f"{args.seeds} seeds)\n")
    print("| estimator | data | rejection rate | p-value deciles (counts) | seconds |")
    print("|---|---|---:|---|---:|")
    cases = [
        ("independent 1x1 (I = 0)", lambda s: synthetic.independent(n, 1, 1, seed=s)),
        ("independent 2x2 (I = 0)", lambda s: synthetic.independent(n, 2, 2, seed=1000 + s)),
        ("gaussian 1x1, I = 0.05", lambda s: synthetic.gaussian(n, 1, 1, mi=0.05, seed=2000 + s)),
    ]
    for est in ("ksg", "sklearn"):
        for label, make in cases:
            if est == "sklearn" and "2x2" in label:
                continue
            t0 = time.perf_counter()
            p = pvals_for(make, args.seeds, est, args.permutations)
            hist = np.histogram(p, bins=10, range=(0, 1))[0]
            print(f"| {est} | {label} | {rate(p):.3f} | {' '.join(map(str, hist))} | "
                  f"{time.perf_counter() - t0:.1f} |", flush=True)



def coverage_section(args) -> None:
    print(f"\n## 95% interval coverage ({args.bootstrap} subsamples, {args.seeds // 2} seeds)\n")
    print("| estimator | data | N | coverage | mean width (nats) | seconds |")
    print("|---|---|---:|---:|---:|---:|")
    cov_cases = [
        ("gaussian 1x1, I = 0.5", 2000, lambda s: synthetic.gaussian(2000, 1, 1, mi=0.5, seed=s)),
        ("gaussian 1x1, I = 1.0", 2000, lambda s: synthetic.gaussian(2000, 1, 1, mi=1.0, seed=s)),
        ("gaussian 2x2, I = 0.5", 2000, lambda s: synthetic.gaussian(2000, 2, 2, mi=0.5, seed=s)),
        ("gaussian 1x1, I = 0.5", 500, lambda s: synthetic.gaussian(500, 1, 1, mi=0.5, seed=s)),
    ]
    for label, nn, make in cov_cases:
        t0 = time.perf_counter()
        cov, width = coverage_for(make, args.seeds // 2, "ksg", args.bootstrap)
        print(f"| ksg | {label} | {nn} | {cov:.3f} | {width:.3f} | {time.perf_counter() - t0:.1f} |",
              flush=True)


def neural_section(args) -> None:
    from mitool.estimators.registry import HEADLINE

    cfg = NeuralConfig()
    print(f"\n## Headline neural estimator ({HEADLINE}), {args.neural_seeds} seeds, N = 2000\n")
    print("| check | data | result | seconds |")
    print("|---|---|---:|---:|")
    if not args.skip_neural_permutation:
        t0 = time.perf_counter()
        p = pvals_for(lambda s: synthetic.independent(2000, 1, 1, seed=s), args.neural_seeds,
                      HEADLINE, args.permutations, cfg)
        print(f"| rejection rate at 0.05 | independent 1x1 | {rate(p):.3f} | "
              f"{time.perf_counter() - t0:.1f} |", flush=True)
    t0 = time.perf_counter()
    cov, width = coverage_for(lambda s: synthetic.gaussian(2000, 1, 1, mi=0.5, seed=s),
                              args.neural_seeds, HEADLINE, 5, cfg)
    print(f"| coverage (width {width:.3f}) | gaussian 1x1, I = 0.5 | {cov:.3f} | "
          f"{time.perf_counter() - t0:.1f} |", flush=True)


if __name__ == "__main__":
    main()
