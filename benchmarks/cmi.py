"""Conditional MI, I(X;Y|Z): the default estimate against exact truths, and the local
permutation test's level and power.

    python benchmarks/cmi.py --seeds 3                 # accuracy, N in {1000, 5000}
    python benchmarks/cmi.py --null --seeds 50         # level on chains and forks, power

Accuracy tasks (truths exact): Gaussian CMI with 1, 3 and 10 conditioning columns (X and Y
driven by every Z column and by a shared latent beyond Z; truth from the conditional
covariance); a chain X → Z → Y and a fork X ← Z → Y (CMI 0, MI > 0); a collider X → Z ← Y
(½ log(4/3)); a discrete Z of three levels with a Gaussian pair of its own correlation in
each (truth Σ p(z) I_z); and monotone maps (cube, exp) of the 3-column task's columns
(same truth). Prints `mitool.estimate`'s default headline (auto-cmi) and both components
against the truth, a hit meaning within max(10%, 0.05 nats).

``--null --gauss-only``: gcmi-cmi alone, its local test beside its analytic p-value.

``--null``: the default run with ``--permutations`` on chains and forks (CMI 0: the share
of p-values ≤ 0.05 is the false-positive rate) and on a collider with CMI 0.1 (the power),
N = 2,000. Rows are saved under out/cmi/ (one JSON line each).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

OUT = Path("out/cmi")


def task(name: str, n: int, seed: int):
    """(frame, x columns, y columns, z columns, truth) of one accuracy task."""
    from mitool.data import synthetic

    if name.startswith("gauss, dim Z = "):
        dz = int(name.split("=")[1])
        d = synthetic.gaussian_conditional(n, 1, 1, dz, strength=STRENGTH[dz], seed=seed)
    elif name == "monotone maps, dim Z = 3":
        d = synthetic.gaussian_conditional(n, 1, 1, 3, strength=STRENGTH[3], seed=seed)
        f = d.frame
        f["x"], f["y"], f["z0"], f["z1"] = f["x"] ** 3, np.exp(f["y"]), f["z0"] ** 3, np.exp(
            f["z1"])
    elif name in ("chain", "fork", "collider"):
        d = synthetic.chain(n, name, seed=seed)
    elif name == "discrete Z (3 levels)":
        d = synthetic.stratified(n, seed=seed)
    else:
        raise ValueError(name)
    return d.frame, d.x_names, d.y_names, d.z_names, d.cmi


STRENGTH = {1: 1.0, 3: 1.5, 10: 1.0}  # the shared latent beyond Z: truths 0.144, 0.332, 0.144
TASKS = ["gauss, dim Z = 1", "gauss, dim Z = 3", "gauss, dim Z = 10", "chain", "fork",
         "collider", "discrete Z (3 levels)", "monotone maps, dim Z = 3"]


def within(est: float, truth: float) -> bool:
    return abs(est - truth) <= max(0.1 * truth, 0.05)


def accuracy(seeds: int, sizes: list[int]) -> None:
    import mitool

    path = OUT / "accuracy.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    with path.open("w") as fh:
        for name in TASKS:
            for n in sizes:
                for s in range(seeds):
                    frame, xs, ys, zs, truth = task(name, n, 1000 + s)
                    r = mitool.estimate(frame, xs, ys, z=zs, seed=s)
                    row = {"task": name, "n": n, "seed": s, "truth": truth, "auto": r.mi,
                           "chosen": r.headline.details["chosen"],
                           **{e.estimator: e.mi for e in r.results[1:]},
                           "seconds": r.seconds}
                    rows.append(row)
                    fh.write(json.dumps(row) + "\n")
    print("| task | N | truth (nats) | auto-cmi (mean ± sd) | chosen | within | gcmi-cmi | "
          "ksg-cmi | s per run |")
    print("|---|---:|---:|---:|---|---:|---:|---:|---:|")
    total = hits = 0
    for name in TASKS:
        for n in sizes:
            rs = [r for r in rows if r["task"] == name and r["n"] == n]
            a = np.array([r["auto"] for r in rs])
            ok = sum(within(r["auto"], r["truth"]) for r in rs)
            total, hits = total + len(rs), hits + ok
            chosen = sorted({r["chosen"] for r in rs})
            g = np.mean([r["gcmi-cmi"] for r in rs])
            k = np.mean([r["ksg-cmi"] for r in rs if r.get("ksg-cmi") is not None])
            print(f"| {name} | {n:,} | {rs[0]['truth']:.3f} | {a.mean():.3f} ± {a.std():.3f} | "
                  f"{', '.join(chosen)} | {ok}/{len(rs)} | {g:.3f} | {k:.3f} | "
                  f"{np.mean([r['seconds'] for r in rs]):.2f} |")
    print(f"\nauto-cmi within max(10%, 0.05 nats) of the truth: {hits}/{total} runs")


def plain_p(frame, result, seed: int, permutations: int) -> float:
    """The same statistic against a plain shuffle of X (which breaks X-Z too: a test of
    I(X;Y) = 0, not of I(X;Y|Z) = 0), for comparison."""
    from mitool.data.columns import prepare
    from mitool.estimators.base import RunOptions
    from mitool.estimators.registry import get
    from mitool.inference import p_value

    data = prepare(frame, ["x"], ["y"], z=["z"]).data
    stat = get(result.estimator).load("statistic")
    opts = RunOptions(k=3, seed=seed, transform=result.details["transform"])
    rng = np.random.default_rng([seed, 17])
    null = [stat(data.with_x(data.x[rng.permutation(data.n)]), opts)
            for _ in range(permutations)]
    return p_value(result.details["statistic"], null)


def null(seeds: int, n: int, permutations: int) -> None:
    import mitool
    from mitool.data import synthetic
    from mitool.inference import InferenceSpec

    path = OUT / "null.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    with path.open("w") as fh:
        for name in ("chain", "fork", "collider CMI 0.1"):
            for s in range(seeds):
                d = (synthetic.collider_with_cmi(n, 0.1, seed=2000 + s) if name.startswith(
                    "collider") else synthetic.chain(n, name, seed=2000 + s))
                r = mitool.estimate(d.frame, "x", "y", z="z", seed=s,
                                    inference=InferenceSpec(permutations))
                row = {"task": name, "seed": s, "truth": d.cmi, "mi": r.mi,
                       **{f"p_{e.estimator}": e.details["p_value"] for e in r.results},
                       "p_plain ksg-cmi": plain_p(d.frame, r.result("ksg-cmi"), s,
                                                  permutations)}
                rows.append(row)
                fh.write(json.dumps(row) + "\n")
                fh.flush()
    names = [k[2:] for k in rows[0] if k.startswith("p_")]
    print(f"| task (N = {n:,}, {permutations} permutations, k_perm = 5) | truth | seeds | "
          + " | ".join(f"p ≤ 0.05: {e}" for e in names) + " |")
    print("|---|---:|---:|" + "---:|" * len(names))
    for name in ("chain", "fork", "collider CMI 0.1"):
        rs = [r for r in rows if r["task"] == name]
        rates = [np.mean([r[f"p_{e}"] <= 0.05 for r in rs]) for e in names]
        print(f"| {name} | {rs[0]['truth']:.3f} | {len(rs)} | "
              + " | ".join(f"{x:.3f}" for x in rates) + " |")


def gauss_level(seeds: int, n: int, permutations: int) -> None:
    """``--null --gauss-only``: gcmi-cmi alone (milliseconds a statistic), so many more seeds:
    its local permutation test beside its analytic (Bartlett) p-value on chains and forks."""
    from mitool.data import synthetic
    from mitool.data.columns import prepare
    from mitool.estimators.cmi_gauss import gcmi_cmi_statistic
    from mitool.inference import local_permutation_test

    path = OUT / "gauss_level.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    with path.open("w") as fh:
        for name in ("chain", "fork"):
            for s in range(seeds):
                d = synthetic.chain(n, name, seed=3000 + s)
                data = prepare(d.frame, ["x"], ["y"], z=["z"]).data
                local = local_permutation_test("gcmi-cmi", data, 3, permutations, seed=s)
                row = {"task": name, "seed": s, "p_local": local["p_value"],
                       "p_analytic": gcmi_cmi_statistic(data)["p_value_analytic"]}
                rows.append(row)
                fh.write(json.dumps(row) + "\n")
    print(f"| gcmi-cmi, N = {n:,} | seeds | p ≤ 0.05: local permutation ({permutations}) | "
          "p ≤ 0.05: analytic (Bartlett) |")
    print("|---|---:|---:|---:|")
    for name in ("chain", "fork"):
        rs = [r for r in rows if r["task"] == name]
        print(f"| {name} | {len(rs)} | {np.mean([r['p_local'] <= 0.05 for r in rs]):.3f} | "
              f"{np.mean([r['p_analytic'] <= 0.05 for r in rs]):.3f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--sizes", default="1000,5000")
    ap.add_argument("--null", action="store_true", help="level and power of the local test")
    ap.add_argument("--n", type=int, default=2000, help="rows per --null run")
    ap.add_argument("--permutations", type=int, default=99)
    ap.add_argument("--gauss-only", action="store_true", help="--null for gcmi-cmi alone")
    args = ap.parse_args()
    if args.null and args.gauss_only:
        gauss_level(args.seeds, args.n, args.permutations)
    elif args.null:
        null(args.seeds, args.n, args.permutations)
    else:
        accuracy(args.seeds, [int(v) for v in args.sizes.split(",")])


if __name__ == "__main__":
    main()
