"""Speed of the neural estimators' training loop on this machine.

    python benchmarks/neural_speed.py            # all sections
    python benchmarks/neural_speed.py --quick    # fewer steps

Reports (1) steps/second of the training loop per estimator and critic, at 1 and 2 torch
threads, (2) seconds per full estimate at N = 5,000 with the default settings, (3) how the
per-estimate time grows with N and with the dimension. Other processes on the machine change
absolute numbers: compare ratios within one run.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mitool.data import synthetic  # noqa: E402
from mitool.estimators.base import PreparedData  # noqa: E402
from mitool.estimators.config import NeuralConfig  # noqa: E402
from mitool.estimators.neural import estimate_neural  # noqa: E402
from mitool.estimators.registry import family  # noqa: E402


def prepared(s) -> PreparedData:
    return PreparedData(s.x, s.y, s.x_names, s.y_names, np.zeros(s.x.shape[1], bool),
                        np.zeros(s.y.shape[1], bool))


def steps_per_second(name: str, data: PreparedData, steps: int, **kw) -> float:
    # patience=0 and eval only at the end: the pure loop, one evaluation
    cfg = dataclasses.replace(NeuralConfig(), steps=steps, patience=0, eval_every=steps, **kw)
    r = estimate_neural(name, data, cfg, seed=0)
    return r.details["steps_per_second"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--estimator", default="jsd", help="estimator for sections 2 and 3")
    args = ap.parse_args()
    steps = 300 if args.quick else 1000
    data = prepared(synthetic.gaussian(5000, 5, 5, mi=1.0, seed=0))

    print("## 1. training-loop steps/second (N=5,000, 5x5 Gaussian, batch 256, 128x128)\n")
    print("| estimator | critic | threads=1 | threads=2 |\n|---|---|---:|---:|")
    for name in family("neural"):
        for critic in ("concat", "separable"):
            s1 = steps_per_second(name, data, steps, critic=critic, threads=1)
            s2 = steps_per_second(name, data, steps, critic=critic, threads=2)
            print(f"| {name} | {critic} | {s1:.0f} | {s2:.0f} |", flush=True)

    print(f"\n## 2. seconds per estimate at N=5,000, defaults, estimator {args.estimator}\n")
    print("| task | seconds | steps run | steps/s |\n|---|---:|---:|---:|")
    for d in (1, 5, 20):
        s = synthetic.gaussian(5000, d, d, mi=1.0, seed=0)
        r = estimate_neural(args.estimator, prepared(s), NeuralConfig(), seed=0)
        print(f"| gaussian {d}x{d} | {r.seconds:.1f} | {r.details['steps_run']} | "
              f"{r.details['steps_per_second']:.0f} |", flush=True)

    print(f"\n## 3. growth with N (1x1) and dimension (N=5,000), fixed {steps} steps\n")
    print("| N | d | seconds | steps/s |\n|---:|---:|---:|---:|")
    cfg = dataclasses.replace(NeuralConfig(), steps=steps, patience=0)
    for n in (1000, 5000, 20000, 100000):
        s = synthetic.gaussian(n, 1, 1, mi=1.0, seed=0)
        t0 = time.perf_counter()
        r = estimate_neural(args.estimator, prepared(s), cfg, seed=0)
        print(f"| {n} | 1 | {time.perf_counter() - t0:.1f} | "
              f"{r.details['steps_per_second']:.0f} |", flush=True)
    for d in (1, 5, 20, 50):
        s = synthetic.gaussian(5000, d, d, mi=1.0, seed=0)
        t0 = time.perf_counter()
        r = estimate_neural(args.estimator, prepared(s), cfg, seed=0)
        print(f"| 5000 | {d} | {time.perf_counter() - t0:.1f} | "
              f"{r.details['steps_per_second']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
