"""Accuracy of every MI estimator on data with known MI (N = 5,000 by default).

    python benchmarks/accuracy.py                       # full suite, all estimators
    python benchmarks/accuracy.py --estimators jsd,ksg --tasks gauss-1d-1,dense-20x20
    python benchmarks/accuracy.py --estimators jsd --set lr=3e-3 --set transform=copula

Prints per task: truth, each estimate, error and seconds; then, per estimator, the number of
tasks within max(10%, 0.05 nats) of the truth. ``--set`` overrides NeuralConfig fields.
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

NEURAL = ("mine", "mine-biased", "jsd", "nwj", "infonce", "smile")
ALL = NEURAL + ("ksg", "sklearn")


def suite(n: int, seed: int) -> dict[str, synthetic.SyntheticData]:
    """name -> dataset. 1-D and multi-dim Gaussians 0..4+ nats, dense/sparse up to 25x25,
    invertible maps, heavy tails, additive uniform noise, independence."""
    g = synthetic.gaussian
    tasks = {
        "indep-1d": synthetic.independent(n, 1, 1, seed=seed),
        "indep-5x5": synthetic.independent(n, 5, 5, seed=seed),
        "gauss-1d-0.5": g(n, 1, 1, mi=0.5, seed=seed),
        "gauss-1d-1": g(n, 1, 1, mi=1.0, seed=seed),
        "gauss-1d-2": g(n, 1, 1, mi=2.0, seed=seed),
        "gauss-1d-4": g(n, 1, 1, mi=4.0, seed=seed),
        "paired-3x3-1": g(n, 3, 3, mi=1.0, seed=seed),
        "paired-5x5-2": g(n, 5, 5, mi=2.0, seed=seed),
        "paired-10x10-4": g(n, 10, 10, mi=4.0, seed=seed),
        "dense-5x5-1": g(n, 5, 5, mi=1.0, structure="dense", seed=seed),
        "dense-20x20-1": g(n, 20, 20, mi=1.0, structure="dense", seed=seed),
        "sparse-20x20-1": g(n, 20, 20, mi=1.0, structure="sparse", n_pairs=2, seed=seed),
        "sparse-25x25-2": g(n, 25, 25, mi=2.0, structure="sparse", n_pairs=5, seed=seed),
        "cube-exp-1d-1": synthetic.transformed(g(n, 1, 1, mi=1.0, seed=seed), "cube", "exp"),
        "asinh-wiggly-3x3-1": synthetic.transformed(g(n, 3, 3, mi=1.0, seed=seed),
                                                    "asinh", "wiggly"),
        "halfcube-5x5-2": synthetic.transformed(g(n, 5, 5, mi=2.0, seed=seed),
                                                "halfcube", "halfcube"),
        "student-t-1d-dof2": synthetic.student_t(n, 1, 1, rho=0.5, dof=2.0, seed=seed),
        "student-t-3x3-dof1": synthetic.student_t(n, 3, 3, rho=0.5, dof=1.0, seed=seed),
        "uniform-eps0.1": synthetic.additive_uniform(n, eps=0.1, seed=seed),
        "uniform-eps0.5": synthetic.additive_uniform(n, eps=0.5, seed=seed),
    }
    return tasks


def prepared(s: synthetic.SyntheticData) -> PreparedData:
    return PreparedData(s.x, s.y, s.x_names, s.y_names, np.zeros(s.x.shape[1], bool),
                        np.zeros(s.y.shape[1], bool))


def run_one(name: str, data: PreparedData, config: NeuralConfig, seed: int):
    """(mi or None, seconds)"""
    t0 = time.perf_counter()
    if name == "ksg":
        from mitool.estimators.knn import ksg_mi

        return ksg_mi(data.x, data.y, k=3, seed=seed), time.perf_counter() - t0
    if name == "sklearn":
        from mitool.estimators.sklearn_mi import run_sklearn

        r = run_sklearn(data, seed=seed)
        return r.mi, time.perf_counter() - t0
    from mitool.estimators.neural import estimate_neural

    r = estimate_neural(name, data, config, seed=seed)
    return r.mi, r.seconds


def within(est: float | None, truth: float) -> bool:
    return est is not None and abs(est - truth) <= max(0.1 * truth, 0.05)


def parse_set(items: list[str]) -> dict:
    fields = {f.name: f for f in dataclasses.fields(NeuralConfig)}
    out = {}
    for item in items:
        key, _, raw = item.partition("=")
        if key not in fields:
            raise SystemExit(f"unknown NeuralConfig field {key!r}")
        if key == "hidden":
            from mitool.estimators.neural import parse_hidden

            out[key] = parse_hidden(raw)
        elif raw in ("None", "none"):
            out[key] = None
        else:
            for cast in (int, float, str):
                try:
                    out[key] = cast(raw)
                    break
                except ValueError:
                    continue
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--estimators", default=",".join(ALL))
    ap.add_argument("--tasks", default="", help="comma-separated task names (default: all)")
    ap.add_argument("--set", action="append", default=[], help="NeuralConfig field=value")
    args = ap.parse_args()
    names = [e.strip() for e in args.estimators.split(",") if e.strip()]
    config = NeuralConfig(**parse_set(args.set))
    tasks = suite(args.n, args.seed)
    if args.tasks:
        tasks = {k: v for k, v in tasks.items() if k in args.tasks.split(",")}
    print(f"# N={args.n} seed={args.seed} config={config}", flush=True)
    hits = {e: 0 for e in names}
    counted = {e: 0 for e in names}
    secs = {e: [] for e in names}
    multi_err = {e: [] for e in names}
    header = f"{'task':22s} {'truth':>6s} " + " ".join(f"{e:>20s}" for e in names)
    print(header + "\n" + "-" * len(header), flush=True)
    for tname, s in tasks.items():
        data = prepared(s)
        cells = []
        for e in names:
            mi, sec = run_one(e, data, config, args.seed)
            if mi is None:
                cells.append(f"{'n/a':>20s}")
                continue
            ok = within(mi, s.mi)
            counted[e] += 1
            hits[e] += ok
            secs[e].append(sec)
            if s.x.shape[1] > 1:
                multi_err[e].append(abs(mi - s.mi))
            cells.append(f"{mi:6.3f} {mi - s.mi:+6.3f}{'*' if ok else ' '} {sec:5.1f}s")
        print(f"{tname:22s} {s.mi:6.3f} " + " ".join(cells), flush=True)
    print("\ncells: estimate, error, * = within max(10%, 0.05 nats), seconds")
    print(f"\n{'estimator':12s} {'within':>8s} {'mean s':>7s} {'max s':>6s} {'multi-d MAE':>11s}")
    for e in names:
        if counted[e]:
            mae = np.mean(multi_err[e]) if multi_err[e] else float("nan")
            print(f"{e:12s} {hits[e]:>3d}/{counted[e]:<4d} {np.mean(secs[e]):7.1f} "
                  f"{np.max(secs[e]):6.1f} {mae:11.3f}")


if __name__ == "__main__":
    main()
