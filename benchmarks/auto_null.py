"""`auto` on independent data: the headline's size, and its permutation test's level.

    python benchmarks/auto_null.py --seeds 200 --jobs 2            # ~1 h on 2 cores

For each seed: X and Y independent Gaussians (1x1 and 3x3, N = 1,000), the default
`mitool.estimate` headline (`auto`) with 100 permutations. Prints the mean headline (target
<= 0.02 nats), how often each component supplied it, and the false-positive rate of the
combined p-value at alpha = 0.05 (target 0.03-0.07) beside each component's own.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from mitool.inference import InferenceSpec

CONFIGS = [("independent 1x1", 1, 1000), ("independent 3x3", 3, 1000)]


def one(name: str, dim: int, n: int, seed: int, perms: int) -> dict:
    import torch

    torch.set_num_threads(1)
    import mitool
    from mitool.data import synthetic

    d = synthetic.independent(n, dim, dim, seed=5000 + seed)
    r = mitool.estimate(d.to_frame(), "x*", "y*", "auto", seed=seed, inference=InferenceSpec(permutations=perms))
    a = r.result("auto")
    comps = {k: v.get("p_value") for k, v in a.details["components"].items()}
    return {"config": name, "seed": seed, "mi": a.mi, "chosen": a.details["chosen"],
            "p_value": a.details["p_value"], "component_p": comps,
            "component_mi": {k: v["mi"] for k, v in a.details["components"].items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--permutations", type=int, default=100)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--results", type=Path, default=Path("out/auto_null.jsonl"))
    ap.add_argument("--table", action="store_true")
    ap.add_argument("--configs", default=None, help="comma-separated names (default all)")
    args = ap.parse_args()
    configs = [c for c in CONFIGS if args.configs is None or c[0] in args.configs.split(",")]
    args.results.parent.mkdir(parents=True, exist_ok=True)
    if not args.table:
        done = set()
        if args.results.exists():
            done = {(json.loads(x)["config"], json.loads(x)["seed"])
                    for x in args.results.read_text().splitlines() if x}
        todo = [(c, s) for c in configs for s in range(args.seeds) if (c[0], s) not in done]
        from joblib import Parallel, delayed

        with args.results.open("a") as fh:
            for r in Parallel(n_jobs=args.jobs, return_as="generator_unordered")(
                    delayed(one)(c[0], c[1], c[2], s, args.permutations) for c, s in todo):
                fh.write(json.dumps(r) + "\n")
                fh.flush()
    rows = [json.loads(x) for x in args.results.read_text().splitlines() if x]
    print("| data | seeds | mean headline (nats) | max | chosen (counts) | false positives at "
          "0.05: auto | per component |")
    print("|---|---:|---:|---:|---|---:|---|")
    for name, _, n in CONFIGS:
        rs = [r for r in rows if r["config"] == name]
        if not rs:
            continue
        mi = np.array([r["mi"] for r in rs])
        chosen: dict[str, int] = {}
        for r in rs:
            chosen[r["chosen"]] = chosen.get(r["chosen"], 0) + 1
        fp = np.mean([r["p_value"] <= 0.05 for r in rs])
        comps = sorted(rs[0]["component_p"])
        per = ", ".join(f"{c} {np.mean([r['component_p'][c] <= 0.05 for r in rs]):.3f}"
                        for c in comps)
        print(f"| {name}, N = {n:,} | {len(rs)} | {mi.mean():.4f} | {mi.max():.3f} | "
              f"{', '.join(f'{k} {v}' for k, v in sorted(chosen.items()))} | {fp:.3f} | {per} |")


if __name__ == "__main__":
    main()
