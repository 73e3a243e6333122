"""Forward selection by conditional MI (``mitool.select``) on tables it was not tuned on.

    python benchmarks/selection.py                      # every table, default settings
    python benchmarks/selection.py --seeds 3 --permutations 99

Tables: scikit-learn's bundled ``load_diabetes`` (442 rows, 10 features, a continuous
target), ``load_wine`` (178 rows, 13 features, 3 classes) and ``load_breast_cancer`` (569
rows, 30 features, 2 classes), and a synthetic one with a known answer (1,000 rows, 20
features): y = r1 + 0.8 r2 + 0.6 r3 + 0.5 tanh(2 r4) + 0.7 (r5² − 1) + 0.5 ε, with d1, d2
noisy copies of r1, r2 (r + 0.3 ε: redundant once r1, r2 are in) and 13 noise columns. The
relevant set is {r1, ..., r5}; r5 acts through a square, which no monotone reading sees.

Each table is run with each estimator (gcmi-cmi, ksg-cmi, auto-cmi), up to 10 features,
the max-T local permutation stop test (``--permutations``, alpha 0.05). Prints the order
chosen, the stop reason, seconds per step with the test (the step that stopped counted)
and without it (the same selection's scoring alone, no test), and for the synthetic
table precision and recall of the relevant set, the redundant copies picked, and for
comparison the top 5 of a plain MI ranking (``mitool.pairs -e gcmi``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

ESTIMATORS = ("gcmi-cmi", "ksg-cmi", "auto-cmi")
RELEVANT = {"r1", "r2", "r3", "r4", "r5"}
REDUNDANT = {"d1", "d2"}


def synthetic(n: int = 1000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng([seed, 22])
    r = rng.normal(size=(n, 5))
    y = (r[:, 0] + 0.8 * r[:, 1] + 0.6 * r[:, 2] + 0.5 * np.tanh(2 * r[:, 3])
         + 0.7 * (r[:, 4] ** 2 - 1) + 0.5 * rng.normal(size=n))
    cols = {f"r{i + 1}": r[:, i] for i in range(5)}
    cols["d1"] = r[:, 0] + 0.3 * rng.normal(size=n)
    cols["d2"] = r[:, 1] + 0.3 * rng.normal(size=n)
    for j in range(13):
        cols[f"n{j + 1}"] = rng.normal(size=n) if j % 2 else rng.uniform(size=n)
    order = list(cols)
    rng.shuffle(order)  # the column order must not help
    return pd.DataFrame({**{c: cols[c] for c in order}, "y": y})


def sklearn_table(name: str) -> pd.DataFrame:
    from sklearn import datasets

    d = getattr(datasets, f"load_{name}")(as_frame=True)
    frame = d.frame.copy()
    if name != "diabetes":
        frame["target"] = frame["target"].map(lambda v: f"class_{v}")  # a label, not a number
    return frame


def run(frame: pd.DataFrame, target: str, estimator: str, permutations: int, seed: int):
    """(result with the stop test, seconds per step with it, seconds per step without it:
    the scoring alone, 10 steps or until the gain is 0)."""
    import mitool
    from mitool.inference import InferenceSpec

    t0 = time.perf_counter()
    r = mitool.select(frame, target, estimator=estimator, max_features=10, seed=seed,
                      inference=InferenceSpec(permutations))
    tested = (time.perf_counter() - t0) / max(1, len(r.steps) + (r.rejected is not None))
    t0 = time.perf_counter()
    bare = mitool.select(frame, target, estimator=estimator, max_features=10, seed=seed)
    scoring = (time.perf_counter() - t0) / max(1, len(bare.steps))
    return r, tested, scoring


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=2, help="synthetic tables (seeds 0..N-1)")
    ap.add_argument("--permutations", type=int, default=99)
    ap.add_argument("--estimators", default=",".join(ESTIMATORS))
    ap.add_argument("--synthetic-only", action="store_true", help="skip the real tables")
    args = ap.parse_args()
    ests = args.estimators.split(",")
    import mitool

    mitool.select(synthetic(200), "y", max_features=1)  # imports, outside the timings

    if not args.synthetic_only:
        real_tables(ests, args.permutations)
    synthetic_tables(ests, args.permutations, args.seeds)


def real_tables(ests: list[str], permutations: int) -> None:
    print(f"### Real tables (max 10 features, {permutations} local permutations, "
          "alpha 0.05)\n")
    print("| table | estimator | order selected (gain, nats) | stop | s/step with test | "
          "s/step, scoring only |")
    print("|---|---|---|---|---:|---:|")
    for name, target in (("diabetes", "target"), ("wine", "target"),
                         ("breast_cancer", "target")):
        frame = sklearn_table(name)
        for est in ests:
            r, tested, scoring = run(frame, target, est, permutations, 0)
            order = ", ".join(f"{s.feature} ({s.gain:.3f}"
                              + (" capped" if s.capped_from is not None else "") + ")"
                              for s in r.steps)
            print(f"| {name} ({len(frame)} × {frame.shape[1] - 1}) | {est} | {order} "
                  f"| {r.stop_reason} | {tested:.2f} | {scoring:.3f} |", flush=True)



def synthetic_tables(ests: list[str], permutations: int, seeds: int) -> None:
    import mitool

    print(f"\n### Synthetic (1,000 rows, 20 features; relevant r1-r5, redundant copies "
          f"d1 d2; {seeds} seeds, {permutations} local permutations)\n")
    print("| seed | estimator | order selected | stop | precision | recall | copies picked "
          "| s/step with test | s/step, scoring only |")
    print("|---:|---|---|---|---:|---:|---:|---:|---:|")
    summary: dict[str, list[tuple[float, float, int, float]]] = {e: [] for e in ests}
    plain_top = []
    for seed in range(seeds):
        frame = synthetic(seed=seed)
        for est in ests:
            r, per_step, scoring = run(frame, "y", est, permutations, seed)
            chosen = set(r.selected)
            prec = len(chosen & RELEVANT) / max(1, len(chosen))
            rec = len(chosen & RELEVANT) / len(RELEVANT)
            copies = len(chosen & REDUNDANT)
            summary[est].append((prec, rec, copies, per_step))
            print(f"| {seed} | {est} | {', '.join(r.selected)} | {r.stop_reason} | {prec:.2f} "
                  f"| {rec:.2f} | {copies} | {per_step:.2f} | {scoring:.3f} |", flush=True)
        p = mitool.pairs(frame, target="y", estimator="gcmi")
        top = [s.x for s in p.scores[:5]]
        plain_top.append(f"{', '.join(top)} (precision {len(set(top) & RELEVANT) / 5:.2f})")
    print("\n| estimator | precision (mean) | recall (mean) | copies picked (mean) "
          "| s/step (mean) |")
    print("|---|---:|---:|---:|---:|")
    for est, rows in summary.items():
        a = np.array(rows, dtype=float)
        print(f"| {est} | {a[:, 0].mean():.2f} | {a[:, 1].mean():.2f} | {a[:, 2].mean():.2f} "
              f"| {a[:, 3].mean():.2f} |")
    print("\nPlain MI ranking (pairs -e gcmi), top 5 per seed: "
          + "; ".join(plain_top))


if __name__ == "__main__":
    main()
