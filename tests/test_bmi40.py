"""benchmarks/bmi40.py's pure parts and a tiny end-to-end run on a fake cache (no bmi needed)."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


bmi40 = _load("bmi40")
tasks_mod = _load("bmi40_tasks")


def test_tolerance_rule():
    assert bmi40.tolerance(0.0) == 0.05
    assert bmi40.tolerance(0.4) == 0.05  # 10% = 0.04 < 0.05
    assert bmi40.tolerance(1.0) == pytest.approx(0.1)
    assert bmi40.within(1.09, 1.0) and not bmi40.within(1.11, 1.0)
    assert bmi40.within(0.45, 0.4) and not bmi40.within(0.34, 0.4)
    assert not bmi40.within(None, 1.0) and not bmi40.within(float("nan"), 1.0)


def test_parse_set_is_typed_by_the_dataclass_fields():
    from mitool.estimators.config import NeuralConfig

    got = bmi40.parse_set(
        ["lr=3e-4", "steps=6e3", "hidden=64,64", "batch_size=none", "epochs=2.5",
         "transform=standardize", "threads=2", "batch-size=512"],
        NeuralConfig,
    )
    assert got == {"lr": 3e-4, "steps": 6000, "hidden": (64, 64), "batch_size": 512,
                   "epochs": 2.5, "transform": "standardize", "threads": 2}
    assert isinstance(got["steps"], int)
    assert bmi40.parse_set(["hidden=32x32x16"], NeuralConfig)["hidden"] == (32, 32, 16)
    assert bmi40.parse_set(["epochs=None"], NeuralConfig) == {"epochs": None}
    NeuralConfig(**got)  # a valid config
    for bad in (["nope=1"], ["steps=1.5"], ["lr=fast"], ["steps"]):
        with pytest.raises(SystemExit):
            bmi40.parse_set(bad, NeuralConfig)


def test_labels_and_row_keys():
    assert bmi40.label_of("ksg", {}) == "ksg"
    assert bmi40.label_of("smile", {"lr": 0.0003, "hidden": [64, 64]}) == "smile[hidden=64,64 lr=0.0003]"
    a = {"task_id": "t", "n": 1000, "seed": 0, "estimator": "smile", "settings": {"lr": 1, "steps": 2}}
    b = dict(a, settings={"steps": 2, "lr": 1})
    assert bmi40.row_key(a) == bmi40.row_key(b)
    assert bmi40.row_key(a) != bmi40.row_key(dict(a, seed=1))


def _row(task, truth, est, seed=0, family="f", wall=1.0, cpu=0.5, label="e", n=1000):
    return {"task_id": task, "truth": truth, "estimate": est, "seed": seed, "family": family,
            "wall_s": wall, "cpu_s": cpu, "label": label, "n": n, "estimator": label,
            "settings": {}, "status": "ok" if est is not None else "error"}


def test_summary_maths():
    rows = [
        _row("a", 1.0, 0.92, 0), _row("a", 1.0, 1.25, 1),  # AE 0.165, mean 1.085: within
        _row("b", 0.2, 0.2, 0), _row("b", 0.2, None, 1),    # AE 0.0, one failed run
        _row("c", 2.0, 1.0, 0, wall=3.0, cpu=2.0),          # AE 1.0
    ]
    s = bmi40.summarize(rows)
    assert s["tasks"] == 3 and s["runs"] == 4 and s["failed"] == 1
    assert s["mae"] == pytest.approx((0.165 + 0.0 + 1.0) / 3)
    assert s["median_ae"] == pytest.approx(0.165)
    assert s["bias"] == pytest.approx((0.085 + 0.0 - 1.0) / 3)
    assert s["within"] == 2  # a (seed mean 1.085) and b
    assert s["runs_within"] == 2  # a seed 0 and b seed 0
    assert s["wall_mean"] == pytest.approx(7.0 / 5) and s["wall_max"] == 3.0
    assert s["cpu_mean"] == pytest.approx(4.0 / 5)
    assert [w.task_id for w in bmi40.worst(rows, 2)] == ["c", "a"]
    empty = bmi40.summarize([])
    assert empty["mae"] is None and empty["tasks"] == 0


def test_runs_within_counts_single_runs():
    rows = [_row("a", 1.0, 0.95, 0), _row("a", 1.0, 1.2, 1)]
    assert bmi40.summarize(rows)["runs_within"] == 1


def test_task_table_is_the_40_tasks_and_the_split_respects_shared_draws():
    ids = [t for t, _ in tasks_mod.TASKS]
    assert len(ids) == 40 == len(set(ids))
    fams = {f for _, f in tasks_mod.TASKS}
    assert fams == set(tasks_mod.FAMILIES)
    halves = {h: [t for t, f in tasks_mod.TASKS if tasks_mod.split_of(f) == h]
              for h in ("tune", "holdout")}
    assert len(halves["tune"]) + len(halves["holdout"]) == 40
    assert min(len(v) for v in halves.values()) >= 15
    for group in tasks_mod.SAME_DRAW:
        assert set(group) <= set(ids)
        assert len({tasks_mod.split_of(tasks_mod.family_of(t)) for t in group}) == 1, group
    # both halves non-trivial: heavy tails, high dimension, a non-Gaussian-copula dependence
    for half in halves.values():
        assert any("student" in t for t in half)
        assert any("-25-25-" in t or "-50-50-" in t for t in half)
        assert any(t.startswith(("spiral", "swissroll", "1v1-additive")) for t in half)


def _fake_cache(tmp_path: Path) -> Path:
    import pandas as pd

    cache = tmp_path / "cache"
    rng = np.random.default_rng(0)
    tasks = []
    specs = [("1v1-normal-0.75", "Bivariate normal 1 × 1", "normal-1d", 1, 1),
             ("multinormal-sparse-2-2-2-2.0", "Multinormal 2 × 2 (2-pair)", "multinormal-2pair", 2, 2)]
    for i, (tid, name, fam, dx, dy) in enumerate(specs, start=1):
        rho = 0.75
        files = []
        for seed in (0, 1):
            z = rng.normal(size=(300, dx))
            w = rho * z[:, :dy] + math.sqrt(1 - rho**2) * rng.normal(size=(300, dy))
            rel = f"tasks/{tid}/n300-s{seed}.parquet"
            (cache / rel).parent.mkdir(parents=True, exist_ok=True)
            cols = {f"x{j}": z[:, j] for j in range(dx)} | {f"y{j}": w[:, j] for j in range(dy)}
            pd.DataFrame(cols).to_parquet(cache / rel)
            files.append({"n": 300, "seed": seed, "path": rel})
        tasks.append({"index": i, "task_id": tid, "task_name": name, "family": fam,
                      "dim_x": dx, "dim_y": dy,
                      "mi_true": -0.5 * min(dx, dy) * math.log(1 - rho**2), "files": files})
    (cache / "manifest.json").write_text(json.dumps({"bmi_version": "fake", "tasks": tasks}))
    return cache


def test_manifest_reading_and_selection(tmp_path):
    cache = _fake_cache(tmp_path)
    tasks = bmi40.load_manifest(cache)["tasks"]
    assert len(tasks) == 2
    assert [t["task_id"] for t in bmi40.select_tasks(tasks, ["multinormal-*"])] == ["multinormal-sparse-2-2-2-2.0"]
    assert [t["task_id"] for t in bmi40.select_tasks(tasks, ["Bivariate*"])] == ["1v1-normal-0.75"]
    assert len(bmi40.select_tasks(tasks, family_globs=["normal-*"])) == 1
    assert [t["family"] for t in bmi40.select_tasks(tasks, split="holdout")] == ["multinormal-2pair"]
    assert [t["family"] for t in bmi40.select_tasks(tasks, split="tune")] == ["normal-1d"]
    with pytest.raises(SystemExit):
        bmi40.load_manifest(tmp_path / "missing")


def test_read_results_last_row_wins_and_skips_bad_lines(tmp_path):
    p = tmp_path / "r.jsonl"
    r1 = _row("a", 1.0, None)
    r2 = _row("a", 1.0, 0.9)
    p.write_text(json.dumps(r1) + "\n{not json\n" + json.dumps(r2) + "\n")
    rows = bmi40.read_results(p)
    assert len(rows) == 1 and rows[0]["estimate"] == 0.9


def test_end_to_end_ksg_on_a_fake_cache_resumes_and_renders(tmp_path, capsys):
    cache = _fake_cache(tmp_path)
    results = tmp_path / "res.jsonl"
    argv = ["--cache", str(cache), "--n", "300", "--seeds", "0", "1", "-e", "ksg,notanestimator",
            "--results", str(results)]
    bmi40.main(argv)
    out = capsys.readouterr()
    assert "skipping estimator 'notanestimator'" in out.err
    lines = results.read_text().splitlines()
    assert len(lines) == 4
    row = json.loads(lines[0])
    for k in ("task_id", "n", "seed", "estimator", "settings", "estimate", "truth", "error",
              "wall_s", "cpu_s", "warnings", "family"):
        assert k in row
    assert row["status"] == "ok" and abs(row["error"]) < 0.3
    assert "### MAE (nats) by N" in out.out and "| **mitool ksg** (measured)" in out.out
    assert "Per family" in out.out and "Worst 5" in out.out
    bmi40.main(argv)  # resume: nothing new
    assert len(results.read_text().splitlines()) == 4
    assert "0 estimates to run" in capsys.readouterr().err
    bmi40.main(["--cache", str(cache), "--table", "--results", str(results), "--split", "holdout"])
    table = capsys.readouterr().out
    assert "Multinormal 2 × 2 (2-pair)" in table and "Bivariate normal" not in table


def test_force_recomputes_the_selected_rows_and_the_new_ones_win(tmp_path, capsys):
    cache = _fake_cache(tmp_path)
    results = tmp_path / "res.jsonl"
    base = ["--cache", str(cache), "--n", "300", "--seeds", "0", "1", "-e", "ksg",
            "--results", str(results)]
    bmi40.main(base)
    first = [json.loads(line) for line in results.read_text().splitlines()]
    stale = {**first[0], "estimate": 99.0, "error": 99.0 - first[0]["truth"]}
    with open(results, "a") as fh:  # a stale row for one key, e.g. from an older commit
        fh.write(json.dumps(stale) + "\n")
    capsys.readouterr()
    bmi40.main([*base, "--tasks", stale["task_id"], "--seeds", str(stale["seed"])])
    assert "0 estimates to run" in capsys.readouterr().err  # without --force: skipped
    bmi40.main([*base, "--tasks", stale["task_id"], "--seeds", str(stale["seed"]), "--force"])
    assert "1 estimates to run (--force: 1 of them replace rows" in capsys.readouterr().err
    lines = results.read_text().splitlines()
    assert len(lines) == 6  # 4 + the stale row + the recomputed one, appended
    rows = {bmi40.row_key(r): r for r in bmi40.read_results(results)}
    assert len(rows) == 4
    assert rows[bmi40.row_key(stale)]["estimate"] == first[0]["estimate"]  # ksg: deterministic


def test_mitool_option_names_the_checkout_to_measure(tmp_path, monkeypatch, capsys):
    import mitool

    monkeypatch.setenv(bmi40.MITOOL_ENV, "")  # restored (unset) after the test
    monkeypatch.delenv(bmi40.MITOOL_ENV)
    monkeypatch.setattr(sys, "path", list(sys.path))
    with pytest.raises(SystemExit, match="no mitool package there"):
        bmi40.use_mitool(tmp_path)
    other = tmp_path / "other"
    (other / "mitool").mkdir(parents=True)
    (other / "mitool" / "__init__.py").write_text("")
    with pytest.raises(SystemExit, match="another mitool is already imported"):
        bmi40.use_mitool(other)  # this process has imported this tree's already
    here = Path(mitool.__file__).resolve().parent.parent
    cache = _fake_cache(tmp_path)
    results = tmp_path / "res.jsonl"
    bmi40.main(["--mitool", str(here), "--cache", str(cache), "--n", "300", "--seeds", "0",
                "-e", "gcmi", "--results", str(results)])
    import os

    assert os.environ[bmi40.MITOOL_ENV] == str(here)  # joblib's workers import the same one
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    assert len(rows) == 2 and {r["commit"] for r in rows} == {bmi40.git_commit()}


def test_runner_never_imports_bmi():
    src = (BENCH / "bmi40.py").read_text()
    assert "import bmi\n" not in src and "from bmi." not in src and "from bmi " not in src
