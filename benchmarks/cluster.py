"""Benchmark `mitool cluster` (IIC, default settings) on image folders at real sizes.

Families come from benchmarks/image_sets.py (generated here, nothing downloaded) plus the
bundled sample_data/digits. Each run is a fresh subprocess, so its peak memory (max RSS) and
CPU time are its own. Beside IIC: k-means and Ward on raw pixels (the files resized to the
same working side, not framed), and k-means on the framed pixels IIC sees, so the credit for
framing and for IIC can be told apart. ETA: the training stage's ETA as the progress bar
computes it (elapsed / done x left) is logged at 10/25/50 % and compared with what happened.

    python benchmarks/cluster.py --families digits28 shapes32 --seeds 0 1 2
    python benchmarks/cluster.py --families digits28-60k --seeds 0 --no-ward
    python benchmarks/cluster.py --families digits8 --seeds 0 1 2     # the bundled 8x8 digits

Generated folders go to out/cluster-sets (ignored by git); --data-seed picks the generator
seed (the defaults were tuned on data seed 0; report on data seed 1). The machine the
numbers in docs/benchmarks.md come from was shared with other jobs: compare CPU seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

SETS = ROOT / "out" / "cluster-sets"

# The families whose data seed 0 the defaults (lambda 1.5, gamma 0.4, framing, budget) were
# chosen on; the others were never run through IIC while choosing them (their orientation
# statistic was measured to place the rotation threshold, see mitool/cluster/orientation.py).
TUNE = ("digits28", "shapes32", "digits8")


def role(family: str) -> str:
    return "tune" if family in TUNE else "held-out"


def loadavg() -> float:
    """The 1-minute load average of the whole machine (other users' jobs included)."""
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return os.getloadavg()[0]


def folder_for(family: str, data_seed: int) -> tuple[Path, int]:
    if family == "digits8":
        return ROOT / "sample_data" / "digits", 10
    from image_sets import FAMILIES, ensure

    return ensure(family, SETS, data_seed), FAMILIES[family][1]


def run_child(args: argparse.Namespace) -> None:
    """One IIC run (default settings unless --option) + baselines; print one JSON line."""
    from mitool.cluster import cluster
    from mitool.cluster.images import load_folder
    from mitool.cluster.metrics import evaluate, kmeans_clusters

    folder, k = Path(args.folder), args.k
    options = json.loads(args.options or "{}")
    ticks: list[tuple[float, int, int]] = []
    plan: dict = {}

    def progress(done: int, total: int, fields: dict) -> None:
        if fields.get("stage") != "training":
            return
        now = time.perf_counter()
        ticks.append((now, done, total))
        if args.time_limit and now - ticks[0][0] > args.time_limit and done > 0:
            _stop_early(args, plan, ticks, start, cpu)

    start, cpu = time.perf_counter(), time.process_time()
    result = cluster(folder, k=k, seed=args.seed, baseline=False, progress=progress,
                     on_plan=lambda p: plan.update(expected=p.expected_seconds,
                                                   per_step=p.seconds_per_step,
                                                   threads=p.threads, summary=p.summary()),
                     **_cluster_configs(options))
    iic_wall, iic_cpu = time.perf_counter() - start, time.process_time() - cpu
    row = {"family": args.family, "seed": args.seed, "n": result.n_images, "k": k,
           "size": result.image_size, "framed": result.framed, "iic": result.metrics,
           "over": result.overcluster and result.overcluster["metrics"],
           "mi": result.mutual_information, "mi_share": result.mutual_information / np.log(k),
           "iic_wall": iic_wall, "iic_cpu": iic_cpu, "training": result.training, "plan": plan,
           "threads": result.threads, "sizes": result.cluster_sizes,
           "warnings": result.warnings, "eta": _eta_checks(ticks),
           "loss_history": result.loss_history, "min_possible_loss": result.min_possible_loss}
    row["peak_mb_iic"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    labels = result.labels
    seen = result.images.reshape(result.n_images, -1)
    start, cpu = time.perf_counter(), time.process_time()
    row["kmeans_framed"] = evaluate(labels, kmeans_clusters(seen, k, args.seed), k)
    if result.framed:
        raw = load_folder(folder, image_size=result.image_size, framing="full",
                          channels=result.channels).images.reshape(result.n_images, -1)
    else:
        raw = seen
    row["kmeans"] = evaluate(labels, kmeans_clusters(raw, k, args.seed), k)
    row["kmeans_wall"] = time.perf_counter() - start
    if not args.no_ward and len(raw) <= 20_000:
        from sklearn.cluster import AgglomerativeClustering

        ward = AgglomerativeClustering(n_clusters=k, linkage="ward")
        row["ward"] = evaluate(labels, ward.fit_predict(raw.astype(np.float32)), k)
    row["baseline_cpu"] = time.process_time() - cpu
    row["peak_mb_all"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(row), flush=True)


def _stop_early(args, plan: dict, ticks: list, start: float, cpu: float) -> None:
    """--time-limit: the warm-up forecast against the progress measured so far, then exit."""
    t0, (now, done, total) = ticks[0][0], ticks[-1]
    rate = (now - t0) / done  # seconds per step measured over the training so far
    row = {"family": args.family, "seed": args.seed, "partial": True, "k": args.k,
           "plan": plan, "steps_done": done, "steps_total": total,
           "training_seconds": now - t0, "measured_seconds_per_step": rate,
           "projected_training_seconds": rate * total,
           "forecast_error": plan.get("per_step", rate) / rate - 1,
           "wall_so_far": now - start, "cpu_so_far": time.process_time() - cpu,
           "peak_mb_iic": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
           "eta": _eta_checks(ticks, partial=True)}
    print("RESULT " + json.dumps(row), flush=True)
    os._exit(0)


def _eta_checks(ticks: list[tuple[float, int, int]], partial: bool = False) -> list[dict]:
    """ETA (elapsed / done x left) at 10, 25, 50 % of training against the time it really took
    (partial: at 25 % and 50 % of the steps done so far, against the rest of them)."""
    if len(ticks) < 10:
        return []
    t0, end, total = ticks[0][0], ticks[-1][0], ticks[-1][2]
    if partial:
        total = ticks[-1][1]
    out = []
    for share in ((0.25, 0.50) if partial else (0.10, 0.25, 0.50)):
        hit = next((x for x in ticks if x[1] >= share * total), None)
        if hit is None:
            continue
        t, done, _ = hit
        if done == 0 or t <= t0:
            continue
        eta = (t - t0) / done * (total - done)
        actual = end - t
        out.append({"at": share, "eta": eta, "actual": actual, "error": eta / actual - 1})
    return out


def run_parent(args: argparse.Namespace) -> list[dict]:
    rows = []
    out = Path(args.results)
    out.parent.mkdir(parents=True, exist_ok=True)
    for family in args.families:
        folder, k = folder_for(family, args.data_seed)
        for seed in args.seeds:
            cmd = [sys.executable, __file__, "--child", "--family", family, "--folder",
                   str(folder), "--k", str(k), "--seed", str(seed),
                   "--options", args.options or "{}"]
            if args.no_ward:
                cmd.append("--no-ward")
            if args.time_limit:
                cmd += ["--time-limit", str(args.time_limit)]
            start = time.perf_counter()
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            loads = [loadavg()]
            with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=dict(os.environ)) as proc:
                # sample the machine's load every 5 s while the run goes on
                while True:
                    try:
                        stdout, stderr = proc.communicate(timeout=5)
                        break
                    except subprocess.TimeoutExpired:
                        loads.append(loadavg())
            loads.append(loadavg())
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            line = next((x for x in stdout.splitlines() if x.startswith("RESULT ")), None)
            if line is None:
                print(stdout, stderr, file=sys.stderr)
                raise SystemExit(f"{family} seed {seed} failed")
            row = json.loads(line[len("RESULT "):])
            row.update(data_seed=args.data_seed, options=args.options or "{}",
                       role=role(family), wall=time.perf_counter() - start,
                       cpu=(after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
                       # the largest of all children so far, not this one's: see peak_mb_iic
                       peak_children_mb=after.ru_maxrss / 1024, load_start=loads[0],
                       load_mean=float(np.mean(loads)), load_max=max(loads),
                       load_end=loads[-1])
            with open(out, "a") as fh:
                fh.write(json.dumps(row) + "\n")
            rows.append(row)
            print(_partial_line(row) if row.get("partial") else _line(row), flush=True)
    return rows


def _partial_line(r: dict) -> str:
    return (f"{r['family']} seed {r['seed']} (stopped at --time-limit): "
            f"{r['steps_done']}/{r['steps_total']} steps in {r['training_seconds']:.0f} s, "
            f"warm-up forecast {r['plan'].get('expected', float('nan')):.0f} s for the run, "
            f"measured pace projects {r['projected_training_seconds']:.0f} s of training "
            f"(forecast per step off by {r['forecast_error']:+.0%}), peak "
            f"{r['peak_mb_iic']:.0f} MB, load {r['load_mean']:.1f}")


def _line(r: dict) -> str:
    m = r["iic"]
    return (f"{r['family']} seed {r['seed']}: IIC acc {m['accuracy']:.3f} nmi {m['nmi']:.3f} "
            f"ari {m['ari']:.3f} | k-means {r['kmeans']['accuracy']:.3f} ward "
            f"{r.get('ward', {}).get('accuracy', float('nan')):.3f} | {r['size']} px framed "
            f"{r['framed']} | IIC {r['iic_wall']:.0f} s wall {r['iic_cpu']:.0f} s CPU, "
            f"steps {r['training']['steps']}/{r['training']['planned_steps']}, "
            f"peak {r['peak_mb_iic']:.0f} MB, MI {r['mi_share']:.0%} of log k, "
            f"load {r['load_mean']:.1f} (max {r['load_max']:.1f})")


def table(rows: list[dict]) -> str:
    """Markdown: one line per run, then the mean per family (time-limited runs apart)."""
    full = [r for r in rows if not r.get("partial")]
    head = ("| data | role | seed | IIC acc | NMI | ARI | k-means acc | Ward acc | "
            "k-means framed | steps | IIC wall (s) | forecast (s) | run CPU (s) | "
            "IIC peak RSS (MB) | load mean (max) |")
    lines = [head, "|---" * 15 + "|"]
    for r in full:
        m = r["iic"]
        ward = r.get("ward", {}).get("accuracy")
        lines.append(
            f"| {r['family']} | {r.get('role', role(r['family']))} | {r['seed']} | "
            f"{m['accuracy']:.3f} | {m['nmi']:.3f} | {m['ari']:.3f} | "
            f"{r['kmeans']['accuracy']:.3f} | {'-' if ward is None else f'{ward:.3f}'} | "
            f"{r['kmeans_framed']['accuracy']:.3f} | "
            f"{r['training']['steps']}/{r['training']['planned_steps']} | {r['iic_wall']:.0f} | "
            f"{r['plan'].get('expected', float('nan')):.0f} | "
            f"{r['cpu']:.0f} | {r['peak_mb_iic']:.0f} | {_load(r)} |")
    for fam in dict.fromkeys(r["family"] for r in full):
        sel = [r for r in full if r["family"] == fam]
        acc = np.array([r["iic"]["accuracy"] for r in sel])

        def mean(key, sub="accuracy", sel=sel):
            vals = [r[key][sub] for r in sel if key in r]
            return f"{np.mean(vals):.3f}" if vals else "-"

        def avg(key, sel=sel):
            return f"{np.mean([r[key] for r in sel]):.0f}"

        best_base = max(float(mean("kmeans")), float(mean("ward")) if mean("ward") != "-" else 0)
        lines.append(
            f"| **{fam}** | {sel[0].get('role', role(fam))} | mean of {len(sel)} | "
            f"**{acc.mean():.3f}** (min {acc.min():.3f}) | {mean('iic', 'nmi')} | "
            f"{mean('iic', 'ari')} | {mean('kmeans')} | {mean('ward')} | "
            f"{mean('kmeans_framed')} | IIC − best of k-means/Ward: "
            f"**{acc.mean() - best_base:+.3f}** | {avg('iic_wall')} | | {avg('cpu')} | "
            f"{max(r['peak_mb_iic'] for r in sel):.0f} | "
            f"{np.mean([r.get('load_mean', np.nan) for r in sel]):.1f} |")
    part = [r for r in rows if r.get("partial")]
    if part:
        lines += ["", "| data | seed | steps done | training s so far | warm-up forecast of the "
                  "run (s) | projected from the measured pace (s) | forecast error per step | "
                  "peak RSS (MB) | load mean (max) |", "|---" * 9 + "|"]
        for r in part:
            lines.append(
                f"| {r['family']} | {r['seed']} | {r['steps_done']}/{r['steps_total']} | "
                f"{r['training_seconds']:.0f} | {r['plan'].get('expected', float('nan')):.0f} | "
                f"{r['projected_training_seconds']:.0f} | {r['forecast_error']:+.0%} | "
                f"{r['peak_mb_iic']:.0f} | {_load(r)} |")
    return "\n".join(lines)


def _load(r: dict) -> str:
    if "load_mean" not in r:
        return "-"
    return f"{r['load_mean']:.1f} ({r['load_max']:.1f})"


def _cluster_configs(options: dict) -> dict:
    """--options' flat names (steps, lr, subheads, rotation, ...) -> cluster()'s config objects,
    so recorded option strings keep working."""
    from dataclasses import fields

    from mitool.cluster import HeadOptions, ImageOptions, TrainConfig, augment_config

    flat = dict(options)
    aug = augment_config(**{k: flat.pop(k) for k in ("flip", "translate", "zoom", "rotation")
                            if k in flat},
                         **({"colour": flat.pop("colour_jitter")} if "colour_jitter" in flat
                            else {}))
    out = {}
    for key, cls in (("train", TrainConfig), ("images", ImageOptions), ("heads", HeadOptions)):
        names = {f.name for f in fields(cls)}
        given = {k: flat.pop(k) for k in list(flat) if k in names}
        if key == "train":
            given["augment"] = aug
        if given:
            out[key] = cls(**given)
    if flat:
        raise SystemExit(f"unknown cluster() options: {sorted(flat)}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description="IIC at real image sizes vs k-means and Ward")
    parser.add_argument("--families", nargs="+", default=["digits28", "shapes32"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--data-seed", type=int, default=1)
    parser.add_argument("--options", help="JSON dict of extra cluster() options")
    parser.add_argument("--results", default=str(ROOT / "out" / "cluster-bench.jsonl"))
    parser.add_argument("--no-ward", action="store_true")
    parser.add_argument("--time-limit", type=float, default=None,
                        help="stop each run after this many seconds of training and report "
                        "the warm-up forecast against the measured pace (for the 60k set)")
    parser.add_argument("--table-only", action="store_true",
                        help="print the table of the runs already in --results")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--family", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--k", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args)
        return
    if args.table_only:
        rows = [json.loads(x) for x in open(args.results)]
        rows = [r for r in rows if r["family"] in args.families]
    else:
        import torch

        print(f"torch {torch.__version__}, CPU, cores available "
              f"{len(os.sched_getaffinity(0))}, load {os.getloadavg()[0]:.1f}", flush=True)
        rows = run_parent(args)
    print()
    print(table(rows))


if __name__ == "__main__":
    main()
