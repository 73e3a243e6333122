"""Coverage of the neural interval on Gaussian tasks with known MI (issue: an interval that
covers the truth, not only the estimator's spread).

    python benchmarks/neural_interval.py --seeds 100 --jobs 2    # ~20 min per 2,000-row task, 2 idle cores
    python benchmarks/neural_interval.py --table out/neural_interval.jsonl
    python benchmarks/neural_interval.py --table out/neural_interval.jsonl --from-seed 34

For each task and seed it records what mitool's interval is built from: the cross-fitted
held-out estimate (3 folds), the same with critics trained on half the training rows (the
learning curve), each fold's estimate and the held-out standard error. It then prints the
coverage of 95% intervals built from them several ways, so the reported construction
(``mitool.inference.neural_ci``) is the one that was measured, beside those that were not
good enough.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

TASKS = [  # name, dim, true MI (nats), N
    ("gauss 1x1 0.2", 1, 0.2, 2000),
    ("gauss 1x1 0.5", 1, 0.5, 2000),
    ("gauss 1x1 1.0", 1, 1.0, 2000),
    ("gauss 1x1 2.0", 1, 2.0, 2000),
    ("gauss 3x3 1.0", 3, 1.0, 2000),
    ("gauss 5x5 2.0", 5, 2.0, 5000),
    ("gauss 1x1 1.0 N=10k", 1, 1.0, 10000),
]


def one(task, seed: int, estimator: str) -> dict:
    import torch

    torch.set_num_threads(1)
    from mitool.data import synthetic
    from mitool.data.columns import prepare
    from mitool.estimators.config import NeuralConfig
    from mitool.estimators.neural import estimate_neural

    name, dim, mi, n = task
    d = synthetic.gaussian(n, dim, dim, mi=mi, seed=1000 + seed)
    data = prepare(d.to_frame(), d.x_names, d.y_names).data
    t0 = time.process_time()
    full = estimate_neural(estimator, data, NeuralConfig(threads=1), seed=seed)
    half = estimate_neural(estimator, data, NeuralConfig(threads=1, train_fraction=0.5),
                           seed=seed)
    return {"task": name, "seed": seed, "truth": d.mi, "n": n, "estimator": estimator,
            "full": full.details["mi_raw"], "half": half.details["mi_raw"],
            "dv": full.details["readouts"].get("dv"),
            "spread": full.details["spread"], "folds": full.details["fold_mi_raw"],
            "half_folds": half.details["fold_mi_raw"], "cpu": time.process_time() - t0}


LC_FACTOR = 1 / (2**0.5 - 1)  # bias(n) ~ n^(-1/2): bias(n) = [I(n) - I(n/2)] / (sqrt 2 - 1)


def intervals(r: dict) -> dict[str, tuple[float, float]]:
    """Candidate 95% intervals from one record (all clipped at 0 at the ends)."""
    z = 1.959964
    full, half, se = r["full"], r["half"], r["spread"]
    folds = np.array(r["folds"])
    k = folds.size
    se_folds = float(folds.std(ddof=1) / math.sqrt(k))
    t = {2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571}.get(k - 1, 2.0)
    b = max(0.0, full - half)
    se_b = max(se, se_folds)
    out = {
        "held-out SE only": (full - z * se, full + z * se),
        "fold t-interval": (full - t * se_folds, full + t * se_folds),
        "learning curve, bias ~ 1/n (+b)": (full - z * se_b, full + b + z * se_b),
        "learning curve, bias ~ 1/sqrt(n) (+2.41b)": (full - z * se_b,
                                                      full + LC_FACTOR * b + z * se_b),
        "+3b": (full - z * se_b, full + 3 * b + z * se_b),
        # mitool.inference.neural_ci: the slope's own uncertainty (paired fold differences)
        "reported: +2.41b + z*se + 2.41*z*se(b)": (
            full - z * se_b, full + LC_FACTOR * b + z * se_b + LC_FACTOR * z * float(
                (folds - np.array(r["half_folds"])).std(ddof=1) / math.sqrt(k))),
    }
    return {n: (max(0.0, lo), max(0.0, hi)) for n, (lo, hi) in out.items()}


def table(rows: list[dict]) -> str:
    names = list(intervals(rows[0]))
    lines = ["| task | N | seeds | mean estimate | " + " | ".join(
        f"{n}: coverage (width)" for n in names) + " |",
        "|---|---:|---:|---:|" + "---:|" * len(names)]
    by: dict[str, list[dict]] = {}
    for r in rows:
        by.setdefault(r["task"], []).append(r)
    for task, rs in by.items():
        cells = []
        for n in names:
            iv = [intervals(r)[n] for r in rs]
            cov = np.mean([lo <= r["truth"] <= hi for r, (lo, hi) in zip(rs, iv, strict=True)])
            width = np.mean([hi - lo for lo, hi in iv])
            cells.append(f"{cov:.2f} ({width:.3f})")
        lines.append(f"| {task} | {rs[0]['n']:,} | {len(rs)} | "
                     f"{np.mean([r['full'] for r in rs]):.3f} (truth {rs[0]['truth']:.2f}) | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--estimator", default="smile")
    ap.add_argument("--tasks", default=None, help="comma-separated task names (default all)")
    ap.add_argument("--results", type=Path, default=Path("out/neural_interval.jsonl"))
    ap.add_argument("--table", type=Path, default=None, help="only print from this file")
    ap.add_argument("--from-seed", type=int, default=0,
                    help="table only: keep seeds >= this (seeds the interval's choice never saw)")
    args = ap.parse_args()
    if args.table:
        rows = [json.loads(line) for line in args.table.read_text().splitlines() if line]
        print(table([r for r in rows if r["seed"] >= args.from_seed]))
        return
    tasks = [t for t in TASKS if args.tasks is None or t[0] in args.tasks.split(",")]
    args.results.parent.mkdir(parents=True, exist_ok=True)
    done = set()
    if args.results.exists():
        for line in args.results.read_text().splitlines():
            r = json.loads(line)
            done.add((r["task"], r["seed"], r["estimator"]))
    todo = [(t, s) for s in range(args.seeds) for t in tasks  # seed-major: every task grows
            if (t[0], s, args.estimator) not in done]
    from joblib import Parallel, delayed

    with args.results.open("a") as fh:
        for r in Parallel(n_jobs=args.jobs, return_as="generator_unordered")(
                delayed(one)(t, s, args.estimator) for t, s in todo):
            fh.write(json.dumps(r) + "\n")
            fh.flush()
    rows = [json.loads(line) for line in args.results.read_text().splitlines() if line]
    print(table([r for r in rows if r["estimator"] == args.estimator]))


if __name__ == "__main__":
    main()
