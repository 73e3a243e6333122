"""Generate Beyond Normal's 40 tasks once into a cache (runs in the bench environment).

    bash scripts/bench_env.sh                               # once: .bench-venv with bmi 0.1.3
    .bench-venv/bin/python benchmarks/bmi40_data.py         # N = 1k/5k/10k, seeds 0 1 2
    .bench-venv/bin/python benchmarks/bmi40_data.py --n 1000 --seeds 0 --tasks 'spiral-*'

Samples every task of ``bmi.benchmark.BENCHMARK_TASKS`` with bmi's own sampler
(``task.sample(n, seed)``, as bmi's workflows do) and writes, under ``--out``
(default ``out/bmi40/data``):

- ``tasks/<task id>/n<N>-s<seed>.parquet``: columns x0..x{dx-1}, y0..y{dy-1}, in the dtype
  bmi returns (float32: jax's default);
- ``manifest.json``: per task its bmi id and name, family and split
  (``benchmarks/bmi40_tasks.py``), dx, dy, the true MI in nats (``task.mutual_information``),
  its ``rank_group`` (tasks whose samples are the same up to per-column monotone maps, found
  by comparing ranks) and its files (N, seed, path, rows, tied values, SHA-256 of the data).

Existing files are kept (``--force`` rewrites them); the manifest is merged, so the cache can
grow by N or seed. The runner, ``benchmarks/bmi40.py``, reads only this cache.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import fnmatch
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bmi40_tasks import TASKS, family_of, same_draw, split_of  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "out" / "bmi40" / "data"


def data_sha256(x: np.ndarray, y: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in (x, y):
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def tied_values(a: np.ndarray) -> int:
    """Largest number of repeated values in one column (rows - distinct values)."""
    return max(int(len(col) - len(np.unique(col))) for col in a.T)


def ordinal_ranks(a: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(a, axis=0, kind="stable"), axis=0, kind="stable")


def rank_groups(ranks: dict[str, np.ndarray], agree: float = 0.99) -> dict[str, str]:
    """task id -> id of the first task (in order) whose [x | y] ranks agree on >= ``agree``
    of the entries (i.e. the same draw up to per-column increasing maps, ties aside)."""
    group: dict[str, str] = {}
    heads: list[str] = []
    for tid, r in ranks.items():
        for h in heads:
            rh = ranks[h]
            if rh.shape == r.shape and float(np.mean(rh == r)) >= agree:
                group[tid] = h
                break
        else:
            heads.append(tid)
            group[tid] = tid
    return group


def write_parquet(path: Path, x: np.ndarray, y: np.ndarray) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols = {f"x{i}": x[:, i] for i in range(x.shape[1])}
    cols.update({f"y{i}": y[:, i] for i in range(y.shape[1])})
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(pa.table(cols), tmp)
    os.replace(tmp, path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--n", type=int, nargs="+", default=[1000, 5000, 10000])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--tasks", default="*", help="comma-separated globs on task ids")
    ap.add_argument("--force", action="store_true", help="rewrite existing files")
    args = ap.parse_args()

    import bmi  # noqa: F401  (the bench environment)
    import jax
    from bmi.benchmark import BENCHMARK_TASKS

    ids = list(BENCHMARK_TASKS)
    known = [t for t, _ in TASKS]
    if ids != known:
        missing = sorted(set(ids) ^ set(known))
        raise SystemExit(f"bmi's task list differs from benchmarks/bmi40_tasks.py: {missing}")
    globs = [g.strip() for g in args.tasks.split(",") if g.strip()]
    chosen = [t for t in ids if any(fnmatch.fnmatchcase(t, g) for g in globs)]
    if not chosen:
        raise SystemExit(f"--tasks {args.tasks!r} matches no task")

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    mpath = out / "manifest.json"
    manifest = json.loads(mpath.read_text()) if mpath.exists() else {"tasks": []}
    by_id = {t["task_id"]: t for t in manifest.get("tasks", [])}
    try:
        from importlib.metadata import version

        bmi_version = version("benchmark-mi")
    except Exception:  # pragma: no cover
        bmi_version = "unknown"

    t_all = time.perf_counter()
    rank_sig: dict[str, np.ndarray] = {}
    n_sig, s_sig = min(args.n), min(args.seeds)
    failures: list[str] = []
    for index, tid in enumerate(ids, start=1):
        if tid not in chosen:
            continue
        task = BENCHMARK_TASKS[tid]
        fam = family_of(tid)
        try:
            truth = float(task.mutual_information)
        except Exception as exc:  # bmi could not give a truth
            failures.append(f"{tid}: no true MI ({exc})")
            truth = None
        entry = by_id.get(tid) or {}
        entry.update(
            index=index, task_id=tid, task_name=task.name, family=fam, split=split_of(fam),
            dim_x=int(task.dim_x), dim_y=int(task.dim_y), mi_true=truth,
        )
        files = {(f["n"], f["seed"]): f for f in entry.get("files", [])}
        t0 = time.perf_counter()
        for n in args.n:
            for seed in args.seeds:
                rel = Path("tasks") / tid / f"n{n}-s{seed}.parquet"
                path = out / rel
                if path.exists() and (n, seed) in files and not args.force:
                    if (n, seed) == (n_sig, s_sig):
                        x, y = task.sample(n, seed)
                        rank_sig[tid] = ordinal_ranks(np.hstack([np.asarray(x), np.asarray(y)]))
                    continue
                try:
                    x, y = task.sample(n, seed)
                except Exception as exc:
                    failures.append(f"{tid} n={n} seed={seed}: sampling failed ({exc})")
                    continue
                x, y = np.asarray(x), np.asarray(y)
                if x.shape != (n, task.dim_x) or y.shape != (n, task.dim_y):
                    failures.append(f"{tid} n={n} seed={seed}: shapes {x.shape} {y.shape}")
                    continue
                if not (np.isfinite(x).all() and np.isfinite(y).all()):
                    failures.append(f"{tid} n={n} seed={seed}: non-finite values")
                path.parent.mkdir(parents=True, exist_ok=True)
                write_parquet(path, x, y)
                files[(n, seed)] = {
                    "n": n, "seed": seed, "path": rel.as_posix(), "rows": n,
                    "dtype": str(x.dtype), "tied_x": tied_values(x), "tied_y": tied_values(y),
                    "sha256": data_sha256(x, y),
                }
                if (n, seed) == (n_sig, s_sig):
                    rank_sig[tid] = ordinal_ranks(np.hstack([x, y]))
        entry["files"] = sorted(files.values(), key=lambda f: (f["n"], f["seed"]))
        by_id[tid] = entry
        print(f"{index:2d} {tid:50s} {fam:18s} {task.dim_x:>2d}x{task.dim_y:<2d} "
              f"MI {truth if truth is None else round(truth, 4)!s:>7s} "
              f"{time.perf_counter() - t0:6.1f}s", file=sys.stderr, flush=True)

    if len(rank_sig) == len(ids):  # rank groups need every task's ranks on the same draw
        for tid, head in rank_groups(rank_sig).items():
            by_id[tid]["rank_group"] = head
            by_id[tid]["rank_group_checked_on"] = {"n": n_sig, "seed": s_sig}
            if head not in same_draw(tid):
                failures.append(f"{tid}: same ranks as {head}, which bmi40_tasks.SAME_DRAW "
                                "does not expect")
    else:
        print("rank groups not recomputed (not every task sampled in this run)", file=sys.stderr)
    manifest.update(
        benchmark="Beyond Normal (Czyż et al., NeurIPS 2023), 40 tasks",
        generator="benchmarks/bmi40_data.py",
        bmi_version=bmi_version,
        jax_version=jax.__version__,
        numpy_version=np.__version__,
        jax_enable_x64=bool(jax.config.jax_enable_x64),
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        columns="x0..x{dim_x-1}, y0..y{dim_y-1}",
        tasks=sorted(by_id.values(), key=lambda t: t["index"]),
        failures=failures,
    )
    tmp = mpath.with_name("manifest.json.tmp")
    tmp.write_text(json.dumps(manifest, indent=1) + "\n")
    os.replace(tmp, mpath)
    n_files = sum(len(t["files"]) for t in manifest["tasks"])
    print(f"{len(manifest['tasks'])} tasks, {n_files} files in {out} "
          f"({time.perf_counter() - t_all:.0f}s wall, {time.process_time():.0f}s CPU)",
          file=sys.stderr)
    for f in failures:
        print(f"FAILED: {f}", file=sys.stderr)
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
