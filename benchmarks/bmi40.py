"""Beyond Normal's 40 tasks (bmi) with mitool's estimators, beside the published figures.

    make bench-env && .bench-venv/bin/python benchmarks/bmi40_data.py     # the cache, once
    .venv/bin/python benchmarks/bmi40.py --estimators ksg,smile --n 5000 \\
        --results out/bmi40/results.jsonl                                 # run (resumable)
    .venv/bin/python benchmarks/bmi40.py --table --results out/bmi40/results.jsonl
    .venv/bin/python benchmarks/bmi40.py -e smile --set lr=3e-4 --set hidden=64,64 \\
        --split tune --results out/bmi40/tuning.jsonl                     # tune on one half

Reads only the cache written by ``benchmarks/bmi40_data.py`` (``manifest.json`` and one
Parquet file per task × N × seed; bmi itself is never imported here) and calls mitool as a
library: ``mitool.estimate(df, x=[x0..], y=[y0..], estimators=name, seed=seed,
neural=NeuralConfig(threads=1, **--set))``. One JSON line per (task, N, seed, estimator,
settings) is appended to ``--results``; rows already there are skipped (resume), unless
``--force``, which recomputes the selected rows and appends them (when a key appears twice
the last row wins, so the new rows replace the old ones in every table). Prints
Markdown: per-estimator summary by N with the published anchors, tune/holdout and
per-family breakdowns, a per-task table and the worst tasks.

Definitions. Tolerance: |error| <= max(10% of the truth, 0.05 nats). A task's absolute error
is the mean over its seeds of |estimate - truth|; MAE and median AE are over tasks. "within"
counts the tasks whose seed-mean estimate is within tolerance; "runs within" counts single
(task, seed) runs. Seconds are per estimate (one task at one N and seed): wall and the
process's CPU time.
"""

from __future__ import annotations

import argparse
import dataclasses
import fnmatch
import json
import math
import os
import statistics
import subprocess
import sys
import time
import types
import typing
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# the mitool to measure: this tree's, or a checkout of another commit (--mitool, which sets
# this variable so that joblib's worker processes import the same one)
MITOOL_ENV = "BMI40_MITOOL"
sys.path.insert(0, os.environ.get(MITOOL_ENV) or str(ROOT))
sys.path.insert(0, str(HERE))

from bmi40_tasks import FAMILIES, SPLITS, split_of  # noqa: E402

DEFAULT_CACHE = ROOT / "out" / "bmi40" / "data"
DEFAULT_RESULTS = ROOT / "out" / "bmi40" / "results.jsonl"
TOLERANCE_REL, TOLERANCE_ABS = 0.10, 0.05

# Published mean absolute errors (nats) over the 40 tasks: Alice paper (Franzese, Rossi &
# Michiardi, preprint 2026), Appendix F Table 2; neural baselines tuned per task, 5 seeds.
# None = not reported; math.inf = reported as "> 10".
ANCHOR_SOURCE = "Alice paper 2026, App. F (neural baselines tuned per task)"
ANCHORS_MAE: dict[str, dict[int, float | None]] = {
    "Alice Base (pretrained, 2×H200)": {1000: 0.092, 5000: 0.063, 10000: 0.060},
    "MINDE-C (GPU diffusion)": {1000: 0.353, 5000: 0.070, 10000: 0.065},
    "MINE, tuned": {1000: 0.248, 5000: 0.117, 10000: 0.108},
    "InfoNCE, tuned": {1000: 0.887, 5000: 0.123, 10000: 0.083},
    "DV, tuned": {1000: 1.229, 5000: 0.279, 10000: 0.144},
    "NWJ, tuned": {1000: math.inf, 5000: 1.261, 10000: 0.130},
    "CCA": {1000: 0.195, 5000: 0.192, 10000: 0.181},
    "KSG": {1000: 0.288, 5000: 0.240, 10000: 0.219},
}
# Tasks within max(10%, 0.05 nats) of 40 at N = 5,000 (Beyond Normal's runs).
ANCHORS_WITHIN: dict[str, dict[int, int]] = {
    "CCA": {5000: 21},
    "KSG": {5000: 15},
    "InfoNCE, bmi defaults": {5000: 17},
}


# ----------------------------------------------------------------------------- pure parts


def tolerance(truth: float) -> float:
    """Allowed |error| for a task: max(10% of the truth, 0.05 nats)."""
    return max(TOLERANCE_REL * abs(truth), TOLERANCE_ABS)


def within(estimate: float | None, truth: float) -> bool:
    return estimate is not None and math.isfinite(estimate) and abs(estimate - truth) <= tolerance(truth)


def _convert(raw: str, tp: Any, key: str) -> Any:
    """One --set value to the dataclass field's type (unions tried in order, None allowed)."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if type(None) in args and raw.strip().lower() in ("none", "null", ""):
            return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return _convert(raw, a, key)
            except ValueError as exc:
                errors.append(str(exc))
        raise ValueError(f"{key}={raw!r}: " + "; ".join(errors))
    if origin is tuple:
        inner = args[0] if args else str
        parts = [p for p in raw.replace("x", ",").replace(" ", ",").split(",") if p]
        if not parts:
            raise ValueError(f"{key}={raw!r}: empty tuple")
        return tuple(_convert(p, inner, key) for p in parts)
    if tp is bool:
        low = raw.strip().lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"{key}={raw!r}: not a boolean")
    if tp is int:
        try:
            return int(raw)
        except ValueError:
            f = float(raw)  # "3e3" is fine for an int field when it is whole
            if not f.is_integer():
                raise ValueError(f"{key}={raw!r}: not an integer") from None
            return int(f)
    if tp is float:
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"{key}={raw!r}: not a number") from None
    if tp is str:
        return raw
    raise ValueError(f"{key}: unsupported field type {tp!r}")


def parse_set(items: list[str], config_cls: type) -> dict[str, Any]:
    """['lr=3e-4', 'hidden=64,64'] -> {'lr': 0.0003, 'hidden': (64, 64)}, typed by the
    dataclass fields of ``config_cls`` (NeuralConfig). SystemExit on an unknown key or a bad
    value."""
    hints = typing.get_type_hints(config_cls)
    names = [f.name for f in dataclasses.fields(config_cls)]
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep:
            raise SystemExit(f"--set {item!r}: expected key=value")
        if key not in names:
            raise SystemExit(f"--set {key!r}: not a NeuralConfig field (fields: {', '.join(names)})")
        try:
            out[key] = _convert(raw.strip(), hints[key], key)
        except ValueError as exc:
            raise SystemExit(f"--set {exc}") from None
    return out


def jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return value


def settings_key(settings: dict[str, Any]) -> str:
    return json.dumps({k: jsonable(v) for k, v in settings.items()}, sort_keys=True)


def label_of(estimator: str, settings: dict[str, Any]) -> str:
    """'smile' or 'smile[hidden=64,64 lr=0.0003]' (how a configuration is named in tables)."""
    if not settings:
        return estimator
    parts = []
    for k in sorted(settings):
        v = settings[k]
        if isinstance(v, (list, tuple)):
            v = ",".join(str(i) for i in v)
        parts.append(f"{k}={v}")
    return f"{estimator}[{' '.join(parts)}]"


def row_key(row: dict[str, Any]) -> tuple:
    return (row["task_id"], int(row["n"]), int(row["seed"]), row["estimator"],
            settings_key(row.get("settings") or {}))


def load_manifest(cache: Path) -> dict[str, Any]:
    """The generator's manifest, each task checked for the fields the runner needs."""
    path = Path(cache) / "manifest.json"
    if not path.exists():
        raise SystemExit(
            f"no {path}: generate the cache first (bash scripts/bench_env.sh && "
            f".bench-venv/bin/python benchmarks/bmi40_data.py --out {cache})"
        )
    manifest = json.loads(path.read_text())
    need = ("task_id", "task_name", "family", "dim_x", "dim_y", "mi_true", "files")
    for t in manifest.get("tasks", []):
        missing = [k for k in need if k not in t]
        if missing:
            raise SystemExit(f"{path}: task {t.get('task_id', '?')} lacks {missing}")
    return manifest


def _matches(value: str, globs: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(value, g) for g in globs)


def select_tasks(
    tasks: list[dict[str, Any]],
    task_globs: list[str] | None = None,
    family_globs: list[str] | None = None,
    split: str = "all",
) -> list[dict[str, Any]]:
    """Tasks whose id or name matches one of ``task_globs``, whose family matches one of
    ``family_globs`` and which lie in ``split`` (tune | holdout | all; from bmi40_tasks)."""
    if split not in SPLITS:
        raise SystemExit(f"--split must be one of {', '.join(SPLITS)}")
    out = []
    for t in tasks:
        if task_globs and not (_matches(t["task_id"], task_globs) or _matches(t["task_name"], task_globs)):
            continue
        if family_globs and not _matches(t["family"], family_globs):
            continue
        if split != "all" and split_of(t["family"]) != split:
            continue
        out.append(t)
    return out


def read_results(path: Path) -> list[dict[str, Any]]:
    """Rows of a results file; for a key seen twice, the last row wins. Bad lines are skipped."""
    rows: dict[tuple, dict[str, Any]] = {}
    if not Path(path).exists():
        return []
    for i, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            rows[row_key(row)] = row
        except (ValueError, KeyError, TypeError):
            print(f"{path}:{i}: unreadable line skipped", file=sys.stderr)
    return list(rows.values())


@dataclasses.dataclass
class TaskScore:
    task_id: str
    truth: float
    estimates: list[float]  # one per seed that produced a number
    failed: int = 0  # runs that raised or returned no number

    @property
    def mean(self) -> float:
        return statistics.fmean(self.estimates)

    @property
    def abs_error(self) -> float:
        """Mean over seeds of |estimate - truth|."""
        return statistics.fmean(abs(e - self.truth) for e in self.estimates)

    @property
    def within(self) -> bool:
        return within(self.mean, self.truth)


def task_scores(rows: list[dict[str, Any]]) -> dict[str, TaskScore]:
    """Rows of one configuration at one N -> task id -> TaskScore (tasks with no number have
    no score; their failures are counted on an empty score only if some seed worked)."""
    by_task: dict[str, TaskScore] = {}
    for r in rows:
        s = by_task.setdefault(r["task_id"], TaskScore(r["task_id"], float(r["truth"]), []))
        est = r.get("estimate")
        if est is None or not math.isfinite(est):
            s.failed += 1
        else:
            s.estimates.append(float(est))
    return by_task


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Summary of one configuration at one N (see the module docstring for definitions)."""
    scores = task_scores(rows)
    scored = [s for s in scores.values() if s.estimates]
    errors = [s.abs_error for s in scored]
    runs = [r for r in rows if r.get("estimate") is not None and math.isfinite(r["estimate"])]
    walls = [float(r["wall_s"]) for r in rows if r.get("wall_s") is not None]
    cpus = [float(r["cpu_s"]) for r in rows if r.get("cpu_s") is not None]
    return {
        "tasks": len(scored),
        "tasks_seen": len(scores),
        "runs": len(runs),
        "failed": sum(s.failed for s in scores.values()),
        "mae": statistics.fmean(errors) if errors else None,
        "median_ae": statistics.median(errors) if errors else None,
        "bias": statistics.fmean(s.mean - s.truth for s in scored) if scored else None,
        "within": sum(s.within for s in scored),
        "runs_within": sum(within(float(r["estimate"]), float(r["truth"])) for r in runs),
        "wall_mean": statistics.fmean(walls) if walls else None,
        "wall_max": max(walls) if walls else None,
        "cpu_mean": statistics.fmean(cpus) if cpus else None,
        "wall_total": sum(walls),
        "cpu_total": sum(cpus),
    }


def worst(rows: list[dict[str, Any]], k: int = 5) -> list[TaskScore]:
    scored = [s for s in task_scores(rows).values() if s.estimates]
    return sorted(scored, key=lambda s: s.abs_error, reverse=True)[:k]


# ----------------------------------------------------------------------------- markdown


def _f(v: float | None, nd: int = 3) -> str:
    if v is None:
        return "—"
    if math.isinf(v):
        return "> 10"
    return f"{v:.{nd}f}"


def _signed(v: float) -> str:
    return f"{v:+.3f}".replace("-", "−")


def _n(n: int) -> str:
    return f"{n:,}"


def md_table(header: list[str], rows: list[list[str]], align: str | None = None) -> str:
    align = align or ("l" * len(header))
    sep = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(sep) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def group_rows(rows: list[dict[str, Any]]) -> dict[tuple[str, int], list[dict[str, Any]]]:
    out: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        out[(r["label"], int(r["n"]))].append(r)
    return out


def render(rows: list[dict[str, Any]], tasks: list[dict[str, Any]], info: dict[str, Any]) -> str:
    """All tables, as one Markdown document."""
    rows = [r for r in rows if r.get("status") != "n/a"]
    groups = group_rows(rows)
    labels = list(dict.fromkeys(r["label"] for r in rows))
    ns = sorted({int(r["n"]) for r in rows})
    by_id = {t["task_id"]: t for t in tasks}
    n_sel = len(tasks)
    out: list[str] = []
    out.append(f"## Beyond Normal (bmi, {n_sel} tasks{'' if n_sel == 40 else ' selected'}): "
               f"{', '.join(labels) or 'no results'}")
    out.append("")
    for k, v in info.items():
        out.append(f"- {k}: {v}")
    out.append(f"- tolerance: |error| ≤ max({TOLERANCE_REL:.0%} of truth, {TOLERANCE_ABS} nats); "
               "a task's error is the mean over seeds of |estimate − truth|; *within* counts "
               "tasks whose seed-mean estimate is within tolerance")
    if not rows:
        return "\n".join(out) + "\n"
    anchor_note = "" if n_sel == 40 else " (anchors are over all 40 tasks: not comparable)"

    # MAE by N, the published table's layout
    out += ["", f"### MAE (nats) by N, with published anchors{anchor_note}", ""]
    body = []
    for lab in labels:
        cells = []
        for n in ns:
            s = summarize(groups.get((lab, n), []))
            cells.append(_f(s["mae"]) + (f" ({s['tasks']} tasks)" if s["tasks"] not in (0, n_sel) else ""))
        body.append([f"**mitool {lab}** (measured)"] + cells)
    for name, vals in ANCHORS_MAE.items():
        body.append([f"{name} (published)"] + [_f(vals.get(n)) for n in ns])
    out.append(md_table(["estimator"] + [f"N = {_n(n)}" for n in ns], body, "l" + "r" * len(ns)))
    out.append(f"\nPublished: {ANCHOR_SOURCE}.")

    # summary per configuration and N
    out += ["", "### Summary per estimator and N", ""]
    body = []
    for n in ns:
        for lab in labels:
            g = groups.get((lab, n))
            if not g:
                continue
            s = summarize(g)
            body.append([
                _n(n), f"mitool {lab}", f"{s['tasks']}/{n_sel}", str(s["runs"]), _f(s["mae"]),
                _f(s["median_ae"]), _signed(s["bias"]) if s["bias"] is not None else "—",
                f"{s['within']}/{s['tasks']}", f"{s['runs_within']}/{s['runs']}", str(s["failed"]),
                _f(s["wall_mean"], 2), _f(s["wall_max"], 1), _f(s["cpu_mean"], 2),
            ])
        for name in ANCHORS_MAE:
            mae = ANCHORS_MAE[name].get(n)
            w = ANCHORS_WITHIN.get(name, {}).get(n)
            body.append([_n(n), f"*{name} (published)*", "40", "", _f(mae), "—", "—",
                         f"{w}/40" if w is not None else "—", "", "", "", "", ""])
        for name, vals in ANCHORS_WITHIN.items():
            if name not in ANCHORS_MAE and n in vals:
                body.append([_n(n), f"*{name} (published)*", "40", "", "—", "—", "—",
                             f"{vals[n]}/40", "", "", "", "", ""])
    out.append(md_table(
        ["N", "estimator", "tasks", "runs", "MAE", "median AE", "mean error", "within",
         "runs within", "failed", "wall s/task", "max wall s", "CPU s/task"],
        body, "llrrrrrrrrrrr"))

    # tune / holdout
    out += ["", "### Tune / holdout halves", ""]
    body = []
    for n in ns:
        for lab in labels:
            cells = []
            for half in ("tune", "holdout"):
                g = [r for r in groups.get((lab, n), []) if split_of(r["family"]) == half]
                s = summarize(g)
                cells.append(f"{_f(s['mae'])} ({s['within']}/{s['tasks']})" if g else "—")
            body.append([_n(n), lab] + cells)
    out.append(md_table(["N", "estimator", "tune: MAE (within)", "holdout: MAE (within)"], body, "llrr"))

    # per family
    fams = list(dict.fromkeys(t["family"] for t in tasks))
    for n in ns:
        out += ["", f"### Per family, N = {_n(n)}: MAE (tasks within)", ""]
        body = []
        for fam in fams:
            n_tasks = sum(t["family"] == fam for t in tasks)
            cells = []
            for lab in labels:
                g = [r for r in groups.get((lab, n), []) if r["family"] == fam]
                s = summarize(g)
                cells.append(f"{_f(s['mae'])} ({s['within']}/{s['tasks']})" if g else "—")
            body.append([fam, split_of(fam), str(n_tasks)] + cells)
        out.append(md_table(["family", "split", "tasks"] + labels, body, "llr" + "r" * len(labels)))

    # per task
    for n in ns:
        out += ["", f"### Per task, N = {_n(n)}: seed-mean estimate (error), ✓ = within tolerance", ""]
        scores = {lab: task_scores(groups.get((lab, n), [])) for lab in labels}
        body = []
        for t in tasks:
            cells = []
            for lab in labels:
                s = scores[lab].get(t["task_id"])
                if s is None:
                    cells.append("—")
                elif not s.estimates:
                    cells.append(f"failed ×{s.failed}")
                else:
                    cell = f"{s.mean:.3f} ({_signed(s.mean - s.truth)}){' ✓' if s.within else ''}"
                    if len(s.estimates) > 1:
                        cell += f" ±{statistics.stdev(s.estimates):.3f}"
                    if s.failed:
                        cell += f", {s.failed} failed"
                    cells.append(cell)
            body.append([str(t.get("index", "")), t["task_name"], t["family"], split_of(t["family"]),
                         f"{t['dim_x']}×{t['dim_y']}", f"{float(t['mi_true']):.3f}"] + cells)
        out.append(md_table(["#", "task", "family", "split", "dims", "truth"] + labels, body,
                            "rllllr" + "r" * len(labels)))
        out.append("\n± is the standard deviation over seeds.")

    # worst tasks
    out += ["", "### Worst 5 tasks per estimator (largest mean |error| over seeds)", ""]
    body = []
    for n in ns:
        for lab in labels:
            for s in worst(groups.get((lab, n), [])):
                t = by_id.get(s.task_id, {"task_name": s.task_id, "family": "?"})
                body.append([_n(n), lab, t["task_name"], t["family"], f"{s.truth:.3f}",
                             f"{s.mean:.3f}", _signed(s.mean - s.truth), f"{s.abs_error:.3f}"])
    out.append(md_table(["N", "estimator", "task", "family", "truth", "estimate", "error",
                         "mean abs error"], body, "llllrrrr"))
    failed = [r for r in rows if r.get("status") == "error"]
    if failed:
        out += ["", "### Failed runs", ""]
        out += [f"- {r['label']} {r['task_id']} N={r['n']} seed={r['seed']}: {r.get('message')}"
                for r in failed[:50]]
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------- running


def run_unit(unit: dict[str, Any]) -> dict[str, Any]:
    """Estimate one (task, N, seed, estimator, settings); returns the result row."""
    import warnings as _warnings

    import pandas as pd

    import mitool
    from mitool.estimators.config import NeuralConfig

    settings = unit["settings"]
    cfg_kwargs = {"threads": 1, **settings}
    row = {k: unit[k] for k in ("task_id", "task_name", "family", "split", "dim_x", "dim_y",
                                "n", "seed", "estimator", "settings", "label")}
    row["truth"] = unit["truth"]
    row["path"] = unit["path"]
    df = pd.read_parquet(unit["abs_path"])
    _warm_up(uses_neural_config(unit["estimator"]))
    x = [f"x{i}" for i in range(unit["dim_x"])]
    y = [f"y{i}" for i in range(unit["dim_y"])]
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        with _warnings.catch_warnings(record=True) as caught:
            _warnings.simplefilter("always")
            res = mitool.estimate(df, x=x, y=y, estimators=unit["estimator"], seed=unit["seed"],
                                  neural=NeuralConfig(**cfg_kwargs))
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        r = res.results[0]
        est = r.mi
        row.update(
            status="ok" if est is not None else "n/a",
            estimate=est,
            error=None if est is None else est - unit["truth"],
            abs_error=None if est is None else abs(est - unit["truth"]),
            within=within(est, unit["truth"]),
            wall_s=round(wall, 4), cpu_s=round(cpu, 4), estimator_s=round(r.seconds, 4),
            warnings=list(res.warnings) + [str(w.message) for w in caught][:5],
            reason=r.reason,
            details={k: r.details[k] for k in ("steps_run", "stopped_early", "near_ceiling",
                                               "ceiling", "transform", "chosen")
                     if k in r.details},
        )
        if "components" in r.details:  # auto: what each component read, and its seconds
            row["details"]["components"] = {
                n: {"mi": c.get("mi"), "seconds": round(c.get("seconds") or 0.0, 3)}
                for n, c in r.details["components"].items()}
    except Exception as exc:  # a diverging run, a bug: recorded, retried on resume
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        row.update(status="error", estimate=None, error=None, abs_error=None, within=False,
                   wall_s=round(wall, 4), cpu_s=round(cpu, 4), warnings=[],
                   message=f"{type(exc).__name__}: {exc}")
    row["mitool_version"] = unit["mitool_version"]
    row["commit"] = unit["commit"]
    row["time"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    return row


_WARM: set[str] = set()


def _warm_up(neural: bool) -> None:
    """Once per process: the imports and, for neural estimators, one tiny training run, so
    that first-use costs (torch import, kernel set-up: seconds) stay out of the timings."""
    if "knn" not in _WARM:
        import scipy.spatial  # noqa: F401

        import mitool.estimators.ksg  # noqa: F401

        _WARM.add("knn")
    if neural and "neural" not in _WARM:
        import numpy as np
        import pandas as pd

        import mitool
        from mitool.estimators.config import NeuralConfig

        rng = np.random.default_rng(0)
        df = pd.DataFrame(rng.normal(size=(256, 2)), columns=["a", "b"])
        mitool.estimate(df, x="a", y="b", estimators="smile",
                        neural=NeuralConfig(steps=20, eval_every=10, threads=1))
        _WARM.add("neural")


def git_commit() -> str:
    """The commit of the mitool that is imported (with --mitool, that checkout's)."""
    import mitool

    src = Path(mitool.__file__).resolve().parent.parent
    try:
        out = subprocess.run(["git", "-C", str(src), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(src), "status", "--porcelain", "mitool"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return (out.stdout.strip() or "unknown") + ("+dirty" if dirty else "")
    except Exception:
        return "unknown"


def resolve_estimators(spec: str) -> tuple[list[str], list[str]]:
    """'ksg,smile,gcmi' -> (names mitool accepts, messages for the ones it rejects)."""
    from mitool.errors import UsageError
    from mitool.estimators import parse_estimators

    ok, rejected = [], []
    for name in (p.strip() for p in spec.split(",")):
        if not name:
            continue
        try:
            for n in parse_estimators(name):
                if n not in ok:
                    ok.append(n)
        except UsageError as exc:
            rejected.append(f"skipping estimator '{name}': mitool rejects it ({exc})")
    return ok, rejected


def uses_neural_config(name: str) -> bool:
    """k-NN estimators ignore NeuralConfig; any other name (neural, or added later) may use it."""
    try:
        from mitool.estimators.registry import family
    except ImportError:  # a --mitool checkout from before the registry
        from mitool.estimators import KNN

        return name not in KNN
    return name not in family("k-NN")


def use_mitool(src: Path) -> None:
    """Import mitool from ``src`` (a checkout) here and in worker processes."""
    src = Path(src).resolve()
    if not (src / "mitool" / "__init__.py").is_file():
        raise SystemExit(f"--mitool {src}: no mitool package there")
    loaded = sys.modules.get("mitool")
    if loaded is not None and Path(loaded.__file__).resolve().parent.parent != src:
        raise SystemExit(f"--mitool {src}: another mitool is already imported "
                         f"({loaded.__file__})")
    os.environ[MITOOL_ENV] = str(src)
    sys.path.insert(0, str(src))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.splitlines()[1:]))
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="bmi40_data.py's --out")
    ap.add_argument("--n", type=int, nargs="+", default=None, help="sample sizes (default 5000)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("-e", "--estimators", default=None,
                    help="comma-separated mitool estimator names (default ksg,smile; with "
                         "--table: every estimator in the results file)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="NeuralConfig override, typed by the field (repeatable)")
    ap.add_argument("--tasks", action="append", default=[],
                    help="globs on task ids or names (comma-separated, repeatable)")
    ap.add_argument("--families", action="append", default=[], help="globs on families")
    ap.add_argument("--split", default="all", choices=SPLITS,
                    help="tune | holdout | all (families: benchmarks/bmi40_tasks.py)")
    ap.add_argument("--jobs", type=int, default=1, help="parallel processes (joblib)")
    ap.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="JSONL, appended")
    ap.add_argument("--mitool", type=Path, default=None, metavar="DIR",
                    help="measure the mitool package in DIR (a checkout of another commit, "
                         "e.g. from git worktree add) instead of this tree's")
    ap.add_argument("--force", action="store_true",
                    help="recompute the selected rows even if --results has them (appended; "
                         "the last row of a key wins)")
    ap.add_argument("--table", action="store_true", help="only print tables from --results")
    ap.add_argument("--list", action="store_true", help="list the selected tasks and exit")
    ap.add_argument("--output", type=Path, default=None, help="also write the Markdown here")
    args = ap.parse_args(argv)
    if args.mitool is not None:
        use_mitool(args.mitool)

    task_globs = [g.strip() for a in args.tasks for g in a.split(",") if g.strip()]
    fam_globs = [g.strip() for a in args.families for g in a.split(",") if g.strip()]
    manifest = load_manifest(args.cache)
    tasks = select_tasks(manifest["tasks"], task_globs, fam_globs, args.split)
    if not tasks:
        raise SystemExit("the task filters select no task")
    if args.list:
        for t in tasks:
            print(f"{t.get('index', ''):>2} {t['task_id']:50s} {t['family']:18s} "
                  f"{split_of(t['family']):8s} {t['dim_x']}x{t['dim_y']} {float(t['mi_true']):.4f}")
        return

    from mitool.estimators.config import NeuralConfig

    settings = parse_set(args.set, NeuralConfig)
    notes: list[str] = []
    ns = args.n or ([5000] if not args.table else None)
    ids = {t["task_id"] for t in tasks}

    if args.table:
        names = None
        if args.estimators:
            names, notes = resolve_estimators(args.estimators)
        rows = [r for r in read_results(args.results) if r["task_id"] in ids
                and (ns is None or int(r["n"]) in ns) and int(r["seed"]) in args.seeds
                and (names is None or r["estimator"] in names)
                and (not args.set or not uses_neural_config(r["estimator"])
                     or (r.get("settings") or {}) == {k: jsonable(v) for k, v in settings.items()})]
    else:
        names, notes = resolve_estimators(args.estimators or "ksg,smile")
        for msg in notes:
            print(msg, file=sys.stderr)
        if not names:
            raise SystemExit("no estimator left to run")
        import mitool

        commit = git_commit()
        done = {row_key(r) for r in read_results(args.results) if r.get("status") in ("ok", "n/a")}
        if args.force:
            done_before, done = done, set()
        units = []
        for n in ns:
            for seed in args.seeds:
                for t in tasks:
                    f = next((f for f in t["files"] if f["n"] == n and f["seed"] == seed), None)
                    if f is None:
                        notes.append(f"no cached sample for {t['task_id']} N={n} seed={seed}")
                        continue
                    for name in names:
                        st = settings if uses_neural_config(name) else {}
                        u = {
                            "task_id": t["task_id"], "task_name": t["task_name"],
                            "family": t["family"], "split": split_of(t["family"]),
                            "dim_x": int(t["dim_x"]), "dim_y": int(t["dim_y"]),
                            "truth": float(t["mi_true"]), "n": n, "seed": seed,
                            "estimator": name, "settings": {k: jsonable(v) for k, v in st.items()},
                            "label": label_of(name, st), "path": f["path"],
                            "abs_path": str(Path(args.cache) / f["path"]),
                            "mitool_version": mitool.__version__, "commit": commit,
                        }
                        if row_key(u) not in done:
                            units.append(u)
        missing = [m for m in notes if m.startswith("no cached sample")]
        for m in missing[:10]:
            print(m, file=sys.stderr)
        if args.force:
            replaced = sum(row_key(u) in done_before for u in units)
            print(f"{len(units)} estimates to run (--force: {replaced} of them replace rows "
                  f"already in {args.results})", file=sys.stderr, flush=True)
        else:
            print(f"{len(units)} estimates to run ({len(done)} rows already in {args.results})",
                  file=sys.stderr, flush=True)
        args.results.parent.mkdir(parents=True, exist_ok=True)
        t_start, c_start = time.perf_counter(), time.process_time()
        with open(args.results, "a") as fh:
            if args.jobs > 1:
                from joblib import Parallel, delayed

                stream = Parallel(n_jobs=args.jobs, return_as="generator_unordered")(
                    delayed(run_unit)(u) for u in units)
            else:
                stream = (run_unit(u) for u in units)
            for i, row in enumerate(stream, start=1):
                fh.write(json.dumps(row) + "\n")
                fh.flush()
                est = row.get("estimate")
                msg = (f"{est:.3f}" if est is not None else row.get("status")) + (
                    f" ({row.get('message')})" if row.get("status") == "error" else "")
                print(f"[{i}/{len(units)}] {row['label']} {row['task_id']} N={row['n']} "
                      f"seed={row['seed']}: {msg} (truth {row['truth']:.3f}) "
                      f"{row['wall_s']:.1f}s wall {row['cpu_s']:.1f}s CPU",
                      file=sys.stderr, flush=True)
        print(f"ran {len(units)} estimates in {time.perf_counter() - t_start:.0f}s wall "
              f"(main process CPU {time.process_time() - c_start:.0f}s)", file=sys.stderr)
        keys = {row_key(u) for u in units} | done
        rows = [r for r in read_results(args.results) if r["task_id"] in ids
                and int(r["n"]) in ns and int(r["seed"]) in args.seeds
                and r["estimator"] in names and row_key(r) in keys]

    info = {
        "cache": f"`{_rel(args.cache)}` (bmi {manifest.get('bmi_version', '?')}, "
                 f"jax {manifest.get('jax_version', '?')})",
        "results": f"`{_rel(args.results)}`",
        "selection": f"split {args.split}"
                     + (f", tasks {', '.join(task_globs)}" if task_globs else "")
                     + (f", families {', '.join(fam_globs)}" if fam_globs else "")
                     + f"; seeds {' '.join(map(str, args.seeds))}",
    }
    commits = sorted({r.get("commit", "?") for r in rows})
    if commits:
        info["mitool commit(s)"] = ", ".join(commits)
    if rows:
        wall = sum(float(r.get("wall_s") or 0) for r in rows)
        cpu = sum(float(r.get("cpu_s") or 0) for r in rows)
        info["compute in these rows"] = f"{wall / 60:.1f} min wall, {cpu / 60:.1f} min CPU"
    for m in notes:
        if not m.startswith("no cached sample"):
            info.setdefault("notes", "")
            info["notes"] += m + "; "
    text = render(rows, tasks, info)
    print(text)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)


def _rel(p: Path) -> str:
    try:
        return str(Path(p).resolve().relative_to(ROOT))
    except ValueError:
        return str(p)


__all__ = [
    "ANCHORS_MAE", "ANCHORS_WITHIN", "FAMILIES", "TaskScore", "label_of", "load_manifest",
    "parse_set", "read_results", "render", "row_key", "select_tasks", "summarize",
    "task_scores", "tolerance", "within", "worst",
]

if __name__ == "__main__":
    main()
