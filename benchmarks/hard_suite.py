"""Known-MI tasks beyond bmi's 40, where only a learned critic can see the dependence (issue 24).

    python benchmarks/hard_suite.py --estimators gcmi,gcmi-rot,ksg,smile,gbm   # run (resumable)
    python benchmarks/hard_suite.py --estimators auto --seeds 2
    python benchmarks/hard_suite.py --table                                    # saved rows only
    python benchmarks/hard_suite.py --list                                     # tasks and truths

Four families, N = 5,000 rows per task and seed:

- ``mixture`` (TUNING): X, 3-25 columns, a mixture of K >= 3 Gaussian modes; Y, one column,
  Gaussian with a mean that depends on the mode. X and Y are independent given the mode.
- ``wave`` (TUNING): 2x1, K modes whose centres lie along a sine wave in (x0, x1, y).
- ``sparse`` (HELD-OUT): a 5x5 Gaussian pair with a few correlated coordinate pairs, a
  fraction f (20-50 %) of the rows replaced by independent standard-normal noise (inliers:
  each side's marginal stays N(0, I)).
- ``nonlinear10`` (HELD-OUT): a 10x10 Gaussian pair with known MI, each side's columns taken
  two at a time through an invertible nonlinear 2-D map (shear by a sine, rotation, a second
  shear by tanh): MI unchanged, the Gaussian's exact value.

Truths: exact for ``nonlinear10`` (-1/2 sum ln(1 - rho_i^2)); for the mixtures a Monte-Carlo
average of log p(x, y) / p(x) p(y) over 400,000 draws from the exact densities (its standard
error is recorded beside it), computed once and cached in out/hard_suite/truths.json.

The structure of each task (mode centres, rotation angles, ...) is drawn from the task's own
seed, so a task is the same in every run; the rows are drawn from the run seed. Each run
calls ``mitool.estimate(frame, x=..., y=..., estimators=..., seed=s)`` once per (task, seed)
with all estimators still missing (``auto``'s components computed once and reused), and one
JSON line per (task, seed, estimator) goes to out/hard_suite/rows.jsonl; a rerun skips rows
already there (``--force`` recomputes). Printed: per task, the truth, each estimator's
seed-mean value, within max(10 %, 0.05 nats) or not, and seconds; then a summary per half
(TUNING: mixture, wave; HELD-OUT: sparse, nonlinear10).
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import math
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

OUT = ROOT / "out" / "hard_suite"
TRUTHS = OUT / "truths.json"
ROWS = OUT / "rows.jsonl"
MC_DRAWS = 400_000
N_ROWS = 5000
TOL_REL, TOL_ABS = 0.10, 0.05
HALVES = {"mixture": "TUNING", "wave": "TUNING", "sparse": "HELD-OUT",
          "nonlinear10": "HELD-OUT"}


def tolerance(truth: float) -> float:
    return max(TOL_REL * abs(truth), TOL_ABS)


def within(value: float | None, truth: float) -> bool:
    return value is not None and math.isfinite(value) and abs(value - truth) <= tolerance(truth)


def _logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    top = a.max(axis=axis, keepdims=True)
    return (top + np.log(np.exp(a - top).sum(axis=axis, keepdims=True))).squeeze(axis)


# ------------------------------------------------------------------------ mixtures of modes


@dataclass
class Mixture:
    """K Gaussian modes with isotropic covariances, X and Y independent given the mode:
    p(x, y) = sum_k w_k N(x; mx_k, sx_k^2 I) N(y; my_k, sy_k^2 I)."""

    weights: np.ndarray  # (K,)
    mx: np.ndarray  # (K, dx)
    sx: np.ndarray  # (K,)
    my: np.ndarray  # (K, dy)
    sy: np.ndarray  # (K,)

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        k = rng.choice(self.weights.size, size=n, p=self.weights)
        x = self.mx[k] + self.sx[k, None] * rng.standard_normal((n, self.mx.shape[1]))
        y = self.my[k] + self.sy[k, None] * rng.standard_normal((n, self.my.shape[1]))
        return x, y

    @staticmethod
    def _log_comp(v: np.ndarray, means: np.ndarray, sds: np.ndarray) -> np.ndarray:
        """(n, d) -> (n, K): log N(v; mean_k, sd_k^2 I)."""
        d = v.shape[1]
        sq = ((v[:, None, :] - means[None]) ** 2).sum(-1)  # (n, K)
        return -0.5 * sq / sds**2 - d * np.log(sds) - 0.5 * d * math.log(2 * math.pi)

    def log_ratio(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        lw = np.log(self.weights)
        ax, ay = self._log_comp(x, self.mx, self.sx), self._log_comp(y, self.my, self.sy)
        return _logsumexp(lw + ax + ay, 1) - _logsumexp(lw + ax, 1) - _logsumexp(lw + ay, 1)


def mixture_modes(seed: int, dx: int, k: int, sep: float, y_sep: float, sy: float) -> Mixture:
    """Mode centres in X: random directions scaled to norm ``sep`` (unit spread per mode);
    Y's mean per mode: evenly spaced by ``y_sep`` in a random order (noise sd ``sy``)."""
    rng = np.random.default_rng([seed, 101])
    mx = rng.standard_normal((k, dx))
    mx = sep * mx / np.linalg.norm(mx, axis=1, keepdims=True)
    my = (y_sep * (rng.permutation(k) - (k - 1) / 2.0))[:, None]
    return Mixture(np.full(k, 1.0 / k), mx, np.ones(k), my, np.full(k, sy))


def wave_modes(seed: int, k: int, omega: float, amp: float, sd: float) -> Mixture:
    """K modes along a wave: centre t_k evenly spaced on [-3, 3] (shuffled phase from the
    seed), (x0, x1, y) = (t_k, amp cos(omega t_k / 2), amp sin(omega t_k + phase))."""
    rng = np.random.default_rng([seed, 202])
    t = np.linspace(-3, 3, k)
    phase = rng.uniform(0, 2 * math.pi)
    mx = np.stack([t, amp * np.cos(omega * t / 2.0)], axis=1)
    my = (amp * np.sin(omega * t + phase))[:, None]
    return Mixture(np.full(k, 1.0 / k), mx, np.full(k, sd), my, np.full(k, sd))


# ------------------------------------------------------------------- sparse among inliers


@dataclass
class SparseInliers:
    """With prob 1 - f: (X, Y) ~ N(0, [[I, R], [R, I]]), R diagonal (rho on ``pairs`` of the
    5 coordinate pairs, 0 elsewhere); with prob f: X, Y independent N(0, I). Both sides
    stay N(0, I), so log p(x,y)/p(x)p(y) = log((1 - f) exp(g(x, y)) + f), g the Gaussian
    pair's log ratio."""

    dim: int
    rhos: np.ndarray  # (dim,)
    f: float

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        x = rng.standard_normal((n, self.dim))
        e = rng.standard_normal((n, self.dim))
        y = self.rhos * x + np.sqrt(1 - self.rhos**2) * e
        noise = rng.random(n) < self.f
        y[noise] = rng.standard_normal((int(noise.sum()), self.dim))
        return x, y

    def log_ratio(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        r = self.rhos
        s = 1 - r**2
        g = (-0.5 * np.log(s) - (r**2 * (x**2 + y**2) - 2 * r * x * y) / (2 * s)).sum(1)
        return np.logaddexp(math.log(1 - self.f) + g, math.log(self.f))


# ------------------------------------------------------------------ 10x10 nonlinear maps


def _block_map(v: np.ndarray, params: list[tuple[float, float, float]]) -> np.ndarray:
    """Columns (2j, 2j+1) -> shear (a, b + c sin(a)), rotate by theta, shear (a' + d tanh(b'),
    b'): each step invertible, so the map is too."""
    out = np.empty_like(v)
    for j, (c, theta, d) in enumerate(params):
        a, b = v[:, 2 * j], v[:, 2 * j + 1]
        b = b + c * np.sin(a)
        ct, st = math.cos(theta), math.sin(theta)
        a, b = ct * a - st * b, st * a + ct * b
        a = a + d * np.tanh(b)
        out[:, 2 * j], out[:, 2 * j + 1] = a, b
    return out


@dataclass
class Nonlinear10:
    rhos: np.ndarray  # (10,) correlation of coordinate pair i
    px: list[tuple[float, float, float]]
    py: list[tuple[float, float, float]]

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        u = rng.standard_normal((n, 10))
        v = self.rhos * u + np.sqrt(1 - self.rhos**2) * rng.standard_normal((n, 10))
        return _block_map(u, self.px), _block_map(v, self.py)

    def exact(self) -> float:
        return float(-0.5 * np.log(1 - self.rhos**2).sum())


def nonlinear10(seed: int, rhos: list[float], strength: float) -> Nonlinear10:
    rng = np.random.default_rng([seed, 404])

    def params():
        return [(strength * rng.uniform(1.0, 2.0), rng.uniform(0, math.pi),
                 strength * rng.uniform(0.5, 1.5)) for _ in range(5)]

    r = np.zeros(10)
    r[:len(rhos)] = rhos
    return Nonlinear10(rng.permutation(r), params(), params())


# ------------------------------------------------------------------------------- the tasks


@dataclass
class Task:
    name: str
    family: str
    spec: dict  # the builder's arguments (also the truth cache's key)
    model: object = field(repr=False, default=None)

    @property
    def half(self) -> str:
        return HALVES[self.family]

    @property
    def key(self) -> str:
        blob = json.dumps([self.name, self.family, self.spec], sort_keys=True)
        return f"{self.name}-{hashlib.sha1(blob.encode()).hexdigest()[:10]}"


def build(name: str, family: str, **spec) -> Task:
    s = dict(spec)
    seed = s.pop("task_seed")
    if family == "mixture":
        model = mixture_modes(seed, **s)
    elif family == "wave":
        model = wave_modes(seed, **s)
    elif family == "sparse":
        r = np.zeros(5)
        r[:s["pairs"]] = s["rho"]
        model = SparseInliers(5, np.random.default_rng([seed, 303]).permutation(r), s["f"])
    else:
        model = nonlinear10(seed, **s)
    return Task(name, family, spec, model)


TASKS: list[Task] = [
    build("mix-3d-k3", "mixture", task_seed=1, dx=3, k=3, sep=3.0, y_sep=2.0, sy=0.5),
    build("mix-5d-k4", "mixture", task_seed=2, dx=5, k=4, sep=2.5, y_sep=1.5, sy=0.6),
    build("mix-10d-k5", "mixture", task_seed=3, dx=10, k=5, sep=3.0, y_sep=1.0, sy=0.4),
    build("mix-25d-k3", "mixture", task_seed=4, dx=25, k=3, sep=3.5, y_sep=2.0, sy=0.7),
    build("mix-15d-k6", "mixture", task_seed=5, dx=15, k=6, sep=4.0, y_sep=1.0, sy=0.3),
    build("wave-k8", "wave", task_seed=11, k=8, omega=2.0, amp=1.5, sd=0.35),
    build("wave-k12", "wave", task_seed=12, k=12, omega=3.0, amp=2.0, sd=0.3),
    build("wave-k6-wide", "wave", task_seed=13, k=6, omega=1.5, amp=1.0, sd=0.5),
    build("wave-k16", "wave", task_seed=14, k=16, omega=4.0, amp=2.0, sd=0.2),
    build("sparse-2of5-f20", "sparse", task_seed=21, pairs=2, rho=0.9, f=0.2),
    build("sparse-2of5-f35", "sparse", task_seed=22, pairs=2, rho=0.95, f=0.35),
    build("sparse-3of5-f50", "sparse", task_seed=23, pairs=3, rho=0.95, f=0.5),
    build("sparse-1of5-f30", "sparse", task_seed=24, pairs=1, rho=0.98, f=0.3),
    build("nl10-2pairs", "nonlinear10", task_seed=31, rhos=[0.9, 0.8], strength=1.0),
    build("nl10-5pairs", "nonlinear10", task_seed=32, rhos=[0.7] * 5, strength=1.0),
    build("nl10-strong", "nonlinear10", task_seed=33, rhos=[0.9, 0.9, 0.6], strength=2.0),
    build("nl10-1pair", "nonlinear10", task_seed=34, rhos=[0.95], strength=1.5),
]


def sample(task: Task, seed: int, n: int = N_ROWS):
    """(frame, x column names, y column names) for one run seed."""
    import pandas as pd

    rng = np.random.default_rng([seed, 9001, int(task.key.encode().hex()[-6:], 16)])
    x, y = task.model.sample(n, rng)
    cols = {f"x{i}": x[:, i] for i in range(x.shape[1])}
    cols.update({f"y{i}": y[:, i] for i in range(y.shape[1])})
    return pd.DataFrame(cols), [f"x{i}" for i in range(x.shape[1])], \
        [f"y{i}" for i in range(y.shape[1])]


def monte_carlo_truth(task: Task, draws: int = MC_DRAWS) -> tuple[float, float]:
    """E log p(x,y)/p(x)p(y) over ``draws`` exact draws (in blocks), and its standard error."""
    rng = np.random.default_rng([7, 77])
    vals = []
    block = 50_000
    for start in range(0, draws, block):
        x, y = task.model.sample(min(block, draws - start), rng)
        vals.append(task.model.log_ratio(x, y))
    v = np.concatenate(vals)
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(v.size))


def truths(tasks: list[Task]) -> dict[str, dict]:
    OUT.mkdir(parents=True, exist_ok=True)
    cache = json.loads(TRUTHS.read_text()) if TRUTHS.exists() else {}
    changed = False
    for t in tasks:
        if t.key in cache:
            continue
        if isinstance(t.model, Nonlinear10):
            cache[t.key] = {"truth": t.model.exact(), "stderr": 0.0, "how": "exact"}
        else:
            m, se = monte_carlo_truth(t)
            cache[t.key] = {"truth": m, "stderr": se, "how": f"Monte Carlo, {MC_DRAWS} draws"}
        changed = True
    if changed:
        TRUTHS.write_text(json.dumps(cache, indent=1, sort_keys=True))
    return {t.name: cache[t.key] for t in tasks}


# ------------------------------------------------------------------------------ running


def read_rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return out


def run_one(task: Task, seed: int, names: list[str], truth: float, tag: str) -> list[dict]:
    """One mitool.estimate call with ``names``; one row per estimator."""
    import mitool

    frame, xs, ys = sample(task, seed)
    t0 = time.perf_counter()
    res = mitool.estimate(frame, x=xs, y=ys, estimators=",".join(names), seed=seed)
    wall = time.perf_counter() - t0
    rows = []
    for r in res.results:
        if r.estimator not in names:
            continue
        d = r.details or {}
        rows.append({
            "task": task.name, "key": task.key, "family": task.family, "half": task.half,
            "seed": seed, "n": frame.shape[0], "estimator": r.estimator, "tag": tag,
            "truth": truth, "mi": r.mi, "within": within(r.mi, truth),
            "seconds": round(float(r.seconds), 3), "call_seconds": round(wall, 3),
            "chosen": d.get("chosen"), "mi_raw": d.get("mi_raw"),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
        })
    return rows


def _fmt(v: float | None, nd: int = 3) -> str:
    return "—" if v is None or not math.isfinite(v) else f"{v:.{nd}f}"


def render(rows: list[dict], tasks: list[Task], tv: dict[str, dict], names: list[str]) -> str:
    """Markdown: per task (seed means), then per half and family."""
    last: dict[tuple, dict] = {}
    for r in rows:
        last[(r["task"], r["seed"], r["estimator"])] = r
    by = defaultdict(list)
    for (task, _seed, est), r in last.items():
        by[(task, est)].append(r)
    out = []
    header = ["task", "family", "truth"] + [f"{e}" for e in names] + \
        [f"s {e}" for e in names]
    out.append("| " + " | ".join(header) + " |")
    out.append("|" + "---|" * len(header))
    score = defaultdict(lambda: [0, 0, 0.0, 0.0])  # (half/family, est) -> within, tasks, secs, abs err
    for t in tasks:
        truth = tv[t.name]["truth"]
        cells, secs = [], []
        for e in names:
            rs = by.get((t.name, e), [])
            if not rs:
                cells.append("—")
                secs.append("—")
                continue
            vals = [r["mi"] for r in rs if r["mi"] is not None]
            m = float(np.mean(vals)) if vals else None
            ok = within(m, truth)
            s = float(np.mean([r["seconds"] for r in rs]))
            cells.append(f"{_fmt(m)} {'✓' if ok else '✗'}")
            secs.append(f"{s:.1f}")
            for group in (t.half, t.family, "ALL"):
                sc = score[(group, e)]
                sc[0] += ok
                sc[1] += 1
                sc[2] += s
                sc[3] += abs((m or 0.0) - truth)
        out.append("| " + " | ".join([t.name, t.family, _fmt(truth)] + cells + secs) + " |")
    out.append("")
    out.append("| group | " + " | ".join(names) + " |")
    out.append("|---|" + "---|" * len(names))
    for group in ("TUNING", "mixture", "wave", "HELD-OUT", "sparse", "nonlinear10", "ALL"):
        cells = []
        for e in names:
            w, k, s, ae = score[(group, e)]
            cells.append("—" if k == 0 else f"{w}/{k} within, MAE {ae / k:.3f}, {s / k:.1f} s")
        out.append(f"| {group} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def select(globs: list[str], families: list[str]) -> list[Task]:
    out = []
    for t in TASKS:
        if globs and not any(fnmatch.fnmatch(t.name, g) for g in globs):
            continue
        if families and t.family not in families:
            continue
        out.append(t)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-e", "--estimators", default="gcmi,gcmi-rot,ksg,smile,gbm")
    ap.add_argument("--seeds", type=int, default=2, help="seeds 0..S-1")
    ap.add_argument("--tasks", default="", help="comma-separated globs on task names")
    ap.add_argument("--families", default="", help="comma-separated families")
    ap.add_argument("--results", type=Path, default=ROWS)
    ap.add_argument("--tag", default="", help="a label kept in each row (e.g. a setting)")
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--table", action="store_true")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args(argv)
    tasks = select([g for g in args.tasks.split(",") if g],
                   [f for f in args.families.split(",") if f])
    tv = truths(tasks)
    names = [n.strip() for n in args.estimators.split(",") if n.strip()]
    if args.list:
        for t in tasks:
            print(f"{t.name:18s} {t.family:12s} {t.half:9s} truth {tv[t.name]['truth']:.4f} "
                  f"± {tv[t.name]['stderr']:.4f} ({tv[t.name]['how']})")
        return
    args.results.parent.mkdir(parents=True, exist_ok=True)
    rows = [r for r in read_rows(args.results) if r.get("tag", "") == args.tag]
    if not args.table:
        done = {(r["task"], r["seed"], r["estimator"]) for r in rows}
        for seed in range(args.seeds):
            for t in tasks:
                missing = [e for e in names if args.force or (t.name, seed, e) not in done]
                if not missing:
                    continue
                new = run_one(t, seed, missing, tv[t.name]["truth"], args.tag)
                with args.results.open("a") as fh:
                    for r in new:
                        fh.write(json.dumps(r) + "\n")
                rows.extend(new)
                print(f"{t.name} seed {seed}: " + ", ".join(
                    f"{r['estimator']} {_fmt(r['mi'])} ({r['seconds']:.1f}s)" for r in new)
                    + f" truth {tv[t.name]['truth']:.3f}", file=sys.stderr, flush=True)
    rows = [r for r in rows if r["seed"] < args.seeds]
    print(render(rows, tasks, tv, names))


if __name__ == "__main__":
    main()
