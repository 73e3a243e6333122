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

Nonlinear tasks (``NONLINEAR``): X = f(Z) + noise, Y = m(Z) + h(X) + noise, truths by Monte
Carlo of the exact conditional densities; untouched by any tuning. ``--gbm`` adds ``gbm-cmi``
and what auto-cmi would score with it (``rules``).

``--null --headline-only --n 1000 --tasks "chain;fork" --seeds 200``: the cheap level run
(auto-cmi alone: its p-value is the default's). ``--coverage --n 1000 --seeds 100``: the 95%
interval (``--bootstrap 50``) on Gaussian tasks. ``--speed --n 5000``: ``--z`` with three
columns against no Z, library and CLI, interleaved.

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
    elif name in NONLINEAR:
        return nonlinear(name, n, seed)
    else:
        raise ValueError(name)
    return d.frame, d.x_names, d.y_names, d.z_names, d.cmi


# nonlinear X, Y given Z (issue 22): Z standard normal (dz columns), X = f(Z) + sx·e1,
# Y = m(Z) + h(X) + sy·e2. Y | X, Z is Gaussian, Y | Z a mixture over X | Z, so
# I(X;Y|Z) = E[log N(y; m(z) + h(x), sy²) − log E_{x'|z} N(y; m(z) + h(x'), sy²)], the inner
# expectation by Gauss–Hermite quadrature over x' | z ~ N(f(z), sx²), the outer by Monte Carlo
# (``nonlinear_truth``: 100,000 draws, standard error about 0.002 nats). The fork has
# I(X;Y|Z) = 0 exactly (h = 0) with X and Y moving fast with Z: the hardest case for a
# nearest-neighbour shuffle in Z. Untouched: no setting of any estimator was chosen on them.
NONLINEAR = {
    "nonlinear (sin, x²), dim Z = 1": dict(
        f=lambda z: np.sin(2 * z[:, 0]), m=lambda z: 0.5 * z[:, 0] ** 2,
        h=lambda x: x**2, dz=1, sx=0.6, sy=0.5),
    "nonlinear (tanh, sin), dim Z = 3": dict(
        f=lambda z: np.tanh(z[:, 0]) + 0.5 * z[:, 1] * z[:, 2],
        m=lambda z: np.sin(z[:, 0]) + 0.5 * z[:, 1], h=lambda x: np.sin(1.5 * x), dz=3,
        sx=0.7, sy=0.6),
    "nonlinear fork (CMI 0), dim Z = 1": dict(
        f=lambda z: 2 * np.sin(2 * z[:, 0]), m=lambda z: 2 * np.cos(2 * z[:, 0]),
        h=lambda x: 0 * x, dz=1, sx=0.3, sy=0.3),
}
_TRUTHS: dict[str, float] = {}


def nonlinear_truth(name: str, draws: int = 100_000, nodes: int = 48) -> float:
    """I(X;Y|Z) in nats of a ``NONLINEAR`` task by Monte Carlo of its exact conditional
    densities (fixed seed, cached)."""
    if name not in _TRUTHS:
        t = NONLINEAR[name]
        f, m, h, sx, sy = t["f"], t["m"], t["h"], t["sx"], t["sy"]
        rng = np.random.default_rng(12345)
        z = rng.standard_normal((draws, t["dz"]))
        fz, mz = f(z), m(z)
        x = fz + sx * rng.standard_normal(draws)
        y = mz + h(x) + sy * rng.standard_normal(draws)
        node, weight = np.polynomial.hermite.hermgauss(nodes)
        mu = mz[:, None] + h(fz[:, None] + sx * np.sqrt(2.0) * node[None, :])  # (M, K)
        inner = (weight / np.sqrt(np.pi))[None, :] * np.exp(-0.5 * ((y[:, None] - mu) / sy) ** 2)
        cond = -0.5 * ((y - mz - h(x)) / sy) ** 2
        value = float(np.mean(cond - np.log(inner.sum(1))))
        _TRUTHS[name] = 0.0 if np.allclose(h(x), 0.0) else value
    return _TRUTHS[name]


def nonlinear(name: str, n: int, seed: int):
    """(frame, x columns, y columns, z columns, truth) of a ``NONLINEAR`` task."""
    import pandas as pd

    t = NONLINEAR[name]
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, t["dz"]))
    x = t["f"](z) + t["sx"] * rng.standard_normal(n)
    y = t["m"](z) + t["h"](x) + t["sy"] * rng.standard_normal(n)
    zs = [f"z{j}" for j in range(t["dz"])]
    frame = pd.DataFrame({"x": x, "y": y, **{c: z[:, j] for j, c in enumerate(zs)}})
    return frame, ["x"], ["y"], zs, nonlinear_truth(name)


STRENGTH = {1: 1.0, 3: 1.5, 10: 1.0}  # the shared latent beyond Z: truths 0.144, 0.332, 0.144
TASKS = ["gauss, dim Z = 1", "gauss, dim Z = 3", "gauss, dim Z = 10", "chain", "fork",
         "collider", "discrete Z (3 levels)", "monotone maps, dim Z = 3", *NONLINEAR]


def within(est: float, truth: float) -> bool:
    return abs(est - truth) <= max(0.1 * truth, 0.05)


def accuracy(seeds: int, sizes: list[int], gbm: bool = False,
             tasks: list[str] | None = None) -> None:
    import mitool

    tasks = tasks or TASKS
    path = OUT / ("accuracy_gbm.jsonl" if gbm else "accuracy.jsonl")
    path.parent.mkdir(parents=True, exist_ok=True)
    estimators = ["auto-cmi", "gcmi-cmi", "ksg-cmi", "gbm-cmi"] if gbm else None
    rows = []
    with path.open("w") as fh:
        for name in tasks:
            for n in sizes:
                for s in range(seeds):
                    frame, xs, ys, zs, truth = task(name, n, 1000 + s)
                    r = mitool.estimate(frame, xs, ys, estimators, z=zs, seed=s)
                    row = {"task": name, "n": n, "seed": s, "truth": truth, "auto": r.mi,
                           "chosen": r.headline.details["chosen"],
                           **{e.estimator: e.mi for e in r.results[1:]},
                           **{f"s {e.estimator}": e.seconds for e in r.results},
                           "seconds": r.seconds}
                    if gbm:
                        row["gbm-cmi raw"] = r.result("gbm-cmi").details.get("mi_raw")
                    rows.append(row)
                    fh.write(json.dumps(row) + "\n")
                    fh.flush()
    extra = " gbm-cmi | gbm within | s gbm-cmi |" if gbm else ""
    print("| task | N | truth (nats) | auto-cmi (mean ± sd) | chosen | within | gcmi-cmi | "
          "ksg-cmi | s per run |" + extra)
    print("|---|---:|---:|---:|---|---:|---:|---:|---:|" + ("---:|" * 3 if gbm else ""))
    total = hits = 0
    for name in tasks:
        for n in sizes:
            rs = [r for r in rows if r["task"] == name and r["n"] == n]
            a = np.array([r["auto"] for r in rs])
            ok = sum(within(r["auto"], r["truth"]) for r in rs)
            total, hits = total + len(rs), hits + ok
            chosen = sorted({r["chosen"] for r in rs})
            g = np.mean([r["gcmi-cmi"] for r in rs])
            k = np.mean([r["ksg-cmi"] for r in rs if r.get("ksg-cmi") is not None])
            more = ""
            if gbm:
                more = (f" {np.mean([r['gbm-cmi'] for r in rs]):.3f} | "
                        f"{sum(within(r['gbm-cmi'], r['truth']) for r in rs)}/{len(rs)} | "
                        f"{np.mean([r['s gbm-cmi'] for r in rs]):.2f} |")
            print(f"| {name} | {n:,} | {rs[0]['truth']:.3f} | {a.mean():.3f} ± {a.std():.3f} | "
                  f"{', '.join(chosen)} | {ok}/{len(rs)} | {g:.3f} | {k:.3f} | "
                  f"{np.mean([r['s auto-cmi'] for r in rs]):.2f} |" + more)
    print(f"\nauto-cmi within max(10%, 0.05 nats) of the truth: {hits}/{total} runs")
    if gbm:
        rules(rows)


def rules(rows: list[dict]) -> None:
    """What auto-cmi would score with gbm-cmi in it, two ways, against the same runs."""
    def larger(r):  # gbm-cmi competes as a bound: the larger of it and the estimate
        return max(r["auto"], r["gbm-cmi"])

    def disagree(r):  # gbm-cmi only where the two estimates disagree by > max(20%, 0.05)
        g, k = r["gcmi-cmi"], r.get("ksg-cmi")
        if k is None or abs(g - k) <= max(0.2 * max(g, k), 0.05):
            return r["auto"]
        return r["gbm-cmi"]

    print("\n| rule | within (all runs) | within on CMI-0 tasks | mean abs error |")
    print("|---|---:|---:|---:|")
    for label, f in (("auto-cmi as it is", lambda r: r["auto"]),
                     ("max(auto-cmi, gbm-cmi)", larger),
                     ("gbm-cmi where gcmi-cmi and ksg-cmi disagree", disagree),
                     ("gbm-cmi alone", lambda r: r["gbm-cmi"])):
        zero = [r for r in rows if r["truth"] == 0]
        print(f"| {label} | {sum(within(f(r), r['truth']) for r in rows)}/{len(rows)} | "
              f"{sum(within(f(r), 0.0) for r in zero)}/{len(zero)} | "
              f"{np.mean([abs(f(r) - r['truth']) for r in rows]):.3f} |")


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


NULL_TASKS = ("chain", "fork", "collider CMI 0.1")


def null(seeds: int, n: int, permutations: int, estimators: list[str] | None = None,
         plain: bool = True, tasks: tuple[str, ...] = NULL_TASKS, k_perm: int | None = None,
         tag: str = "null", first_seed: int = 0) -> None:
    """Level (chains, forks) and power (collider) of the default run's local test.
    ``estimators=["auto-cmi"]`` is the cheap honest setup: the headline's p-value is the
    same (its components are tested inside it) without the rows beside it."""
    import mitool
    from mitool.data import synthetic
    from mitool.inference import K_PERM, InferenceSpec

    k_perm = k_perm or K_PERM
    path = OUT / f"{tag}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    with path.open("w") as fh:
        for name in tasks:
            for s in range(first_seed, first_seed + seeds):
                d = (synthetic.collider_with_cmi(n, 0.1, seed=2000 + s) if name.startswith(
                    "collider") else synthetic.chain(n, name, seed=2000 + s))
                r = mitool.estimate(d.frame, "x", "y", estimators, z="z", seed=s,
                                    inference=InferenceSpec(permutations, k_perm=k_perm))
                row = {"task": name, "seed": s, "n": n, "truth": d.cmi, "mi": r.mi,
                       "chosen": r.headline.details.get("chosen"), "seconds": r.seconds,
                       **{f"p_{e.estimator}": e.details["p_value"] for e in r.results}}
                if r.headline.components:
                    row.update({f"p_{c} (in auto-cmi)": part.details.get("p_value")
                                for c, part in r.headline.components.items()})
                if plain:
                    row["p_plain ksg-cmi"] = plain_p(d.frame, r.result("ksg-cmi"), s,
                                                     permutations)
                rows.append(row)
                fh.write(json.dumps(row) + "\n")
                fh.flush()
    names = [k[2:] for k in rows[0] if k.startswith("p_")]
    print(f"| task ({permutations} permutations, k_perm = {k_perm}) | N | truth | seeds | "
          + " | ".join(f"p ≤ 0.05: {e}" for e in names) + " | s per run |")
    print("|---|---:|---:|---:|" + "---:|" * len(names) + "---:|")
    for name in tasks:
        rs = [r for r in rows if r["task"] == name]
        rates = [np.mean([r[f"p_{e}"] <= 0.05 for r in rs]) for e in names]
        print(f"| {name} | {n:,} | {rs[0]['truth']:.3f} | {len(rs)} | "
              + " | ".join(f"{x:.3f}" for x in rates)
              + f" | {np.mean([r['seconds'] for r in rs]):.2f} |")


COVERAGE_TASKS = ["gauss, dim Z = 1", "gauss, dim Z = 3", "gauss, dim Z = 10", "collider"]


def coverage(seeds: int, n: int, bootstrap: int, tasks: list[str] | None = None,
             first_seed: int = 0, tag: str | None = None) -> None:
    """Coverage of the headline's 95% interval (``--bootstrap``: half-sampling) on Gaussian
    CMI tasks with exact truths; the chosen component's interval, as the CLI reports it.
    ``first_seed``: fresh seeds for a check of a setting chosen on earlier ones."""
    import mitool
    from mitool.inference import InferenceSpec

    tasks = tasks or COVERAGE_TASKS
    path = OUT / f"{tag or f'coverage_{n}'}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    with path.open("w") as fh:
        for name in tasks:
            for s in range(first_seed, first_seed + seeds):
                frame, xs, ys, zs, truth = task(name, n, 5000 + s)
                r = mitool.estimate(frame, xs, ys, ["auto-cmi"], z=zs, seed=s,
                                    inference=InferenceSpec(0, bootstrap))
                det = r.headline.details
                row = {"task": name, "n": n, "seed": s, "truth": truth, "mi": r.mi,
                       "chosen": det["chosen"], "ci_low": det["ci_low"],
                       "ci_high": det["ci_high"], "seconds": r.seconds,
                       **{f"{c} ci": [p.details.get("ci_low"), p.details.get("ci_high"),
                                      p.details.get("mi_raw", p.mi)]
                          for c, p in r.headline.components.items()}}
                rows.append(row)
                fh.write(json.dumps(row) + "\n")
                fh.flush()
    print(f"| task (N = {n:,}, {bootstrap} half-samples) | truth | seeds | chosen | auto-cmi "
          "covers | mean width | mean estimate | below / above | gcmi-cmi covers | "
          "ksg-cmi covers |")
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    for name in tasks:
        rs = [r for r in rows if r["task"] == name]
        t = rs[0]["truth"]
        cov = np.mean([r["ci_low"] <= t <= r["ci_high"] for r in rs])
        below = sum(r["ci_high"] < t for r in rs)
        above = sum(r["ci_low"] > t for r in rs)

        def comp(c, rs=rs, t=t):
            ok = [r[f"{c} ci"][0] <= t <= r[f"{c} ci"][1] for r in rs
                  if r[f"{c} ci"][0] is not None]
            return f"{np.mean(ok):.3f}" if ok else "–"
        print(f"| {name} | {t:.3f} | {len(rs)} | {', '.join(sorted({r['chosen'] for r in rs}))}"
              f" | {cov:.3f} | {np.mean([r['ci_high'] - r['ci_low'] for r in rs]):.3f} | "
              f"{np.mean([r['mi'] for r in rs]):.3f} | {below} / {above} | "
              f"{comp('gcmi-cmi')} | {comp('ksg-cmi')} |")


def speed(n: int, repeats: int) -> None:
    """The default run with 3 conditioning columns against the unconditional default on
    the same X and Y, interleaved in one process (library calls, what the CLI runs)."""
    import time

    import mitool
    from mitool.data import synthetic

    d = synthetic.gaussian_conditional(n, 1, 1, 3, strength=STRENGTH[3], seed=7)
    times = {"with --z (3 columns)": [], "without Z": []}
    mitool.estimate(d.frame, d.x_names, d.y_names, z=d.z_names)  # imports, warm caches
    mitool.estimate(d.frame, d.x_names, d.y_names)
    for _ in range(repeats):
        for label, z in (("with --z (3 columns)", d.z_names), ("without Z", None)):
            t0 = time.perf_counter()
            r = mitool.estimate(d.frame, d.x_names, d.y_names, z=z)
            times[label].append(time.perf_counter() - t0)
            rows = ", ".join(f"{e.estimator} {e.seconds:.2f}" for e in r.results)
            print(f"  {label}: {times[label][-1]:.2f} s ({rows})")
    import subprocess
    import sys
    import tempfile

    cli = {k: [] for k in times}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cmi.csv"
        d.frame.to_csv(path, index=False)
        base = [sys.executable, "-m", "mitool", "estimate", str(path), "--x",
                ",".join(d.x_names), "--y", ",".join(d.y_names), "-q"]
        for _ in range(repeats):
            for label, extra in (("with --z (3 columns)", ["--z", ",".join(d.z_names)]),
                                 ("without Z", [])):
                t0 = time.perf_counter()
                subprocess.run(base + extra, check=True, capture_output=True)
                cli[label].append(time.perf_counter() - t0)
    print(f"| N = {n:,}, 1x1, {repeats} interleaved repeats | median s, default with --z "
          "(3 columns) | median s, default without Z | ratio |")
    print("|---|---:|---:|---:|")
    for label, t in (("library (`mitool.estimate`)", times), ("CLI (`mitool estimate`, a "
                                                              "fresh process)", cli)):
        cond, plain = (np.median(t[k]) for k in t)
        print(f"| {label} | {cond:.2f} | {plain:.2f} | {cond / plain:.2f}x |")


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
    ap.add_argument("--n", type=int, default=2000, help="rows per --null/--coverage run")
    ap.add_argument("--permutations", type=int, default=99)
    ap.add_argument("--k-perm", type=int, default=None)
    ap.add_argument("--gauss-only", action="store_true", help="--null for gcmi-cmi alone")
    ap.add_argument("--headline-only", action="store_true",
                    help="--null: run auto-cmi alone (its p-value is the default's) and skip "
                         "the plain-shuffle column: the cheap setup")
    ap.add_argument("--tasks", default=None, help="task names separated by ;")
    ap.add_argument("--tag", default=None, help="--null/--coverage: out/cmi/TAG.jsonl")
    ap.add_argument("--first-seed", type=int, default=0,
                    help="--null/--coverage: seeds from this one")
    ap.add_argument("--coverage", action="store_true", help="95%% interval coverage")
    ap.add_argument("--bootstrap", type=int, default=50)
    ap.add_argument("--speed", action="store_true", help="--z 3 columns vs no Z, N = --n")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--gbm", action="store_true", help="accuracy: add gbm-cmi and the rules "
                    "that would put it in auto-cmi")
    args = ap.parse_args()
    tasks = args.tasks.split(";") if args.tasks else None
    if args.null and args.gauss_only:
        gauss_level(args.seeds, args.n, args.permutations)
    elif args.null:
        null(args.seeds, args.n, args.permutations,
             ["auto-cmi"] if args.headline_only else None, not args.headline_only,
             tuple(tasks) if tasks else NULL_TASKS, args.k_perm, args.tag or "null", args.first_seed)
    elif args.coverage:
        coverage(args.seeds, args.n, args.bootstrap, tasks, args.first_seed, args.tag)
    elif args.speed:
        speed(args.n, args.repeats)
    else:
        accuracy(args.seeds, [int(v) for v in args.sizes.split(",")], args.gbm, tasks)


if __name__ == "__main__":
    main()
