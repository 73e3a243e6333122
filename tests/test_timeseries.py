"""Time series (issue 22): lagged views on hand-made series, lagged MI and transfer entropy
against the exact truths of a VAR(1), the time-shift surrogate test, and the CLI
(``estimate --lag/--lags``, ``mitool te``): exit codes, stderr, JSON keys."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mitool
from mitool.cli import app
from mitool.data import synthetic
from mitool.data.lagged import (
    lag_rows,
    lagged_frame,
    parse_history,
    parse_lags,
    row_grid,
    time_grid,
)
from mitool.errors import InputError, UsageError

SCHEMA = (Path(__file__).resolve().parent.parent / "docs" / "json-schema.md").read_text()


# ------------------------------------------------------------------ lagged views, by hand

def test_lag_rows_shift_a_regular_series():
    assert lag_rows(np.arange(5), (-1, 0)).tolist() == [[0, 1], [1, 2], [2, 3], [3, 4]]
    assert lag_rows(np.arange(5), (-2, 0)).tolist() == [[0, 2], [1, 3], [2, 4]]
    assert lag_rows(np.arange(3), (0, 1)).tolist() == [[0, 1], [1, 2]]  # X after Y
    assert lag_rows(np.arange(3), (-3, 0)).shape == (0, 2)


def test_lag_rows_pair_only_rows_exactly_the_lag_apart_across_a_gap():
    steps = np.array([0, 1, 3, 4, 5])  # step 2 missing
    assert lag_rows(steps, (-1, 0)).tolist() == [[0, 1], [2, 3], [3, 4]]
    assert lag_rows(steps, (-2, 0)).tolist() == [[1, 2], [2, 4]]  # steps 3-1 and 5-3
    assert lag_rows(steps, (-2, -1, 0)).tolist() == [[2, 3, 4]]


def test_time_grid_sorts_numbers_and_finds_the_modal_step():
    g = time_grid([30, 10, 20, 0, 40], "t")
    assert g.order.tolist() == [3, 1, 2, 0, 4] and g.steps.tolist() == [0, 1, 2, 3, 4]
    assert g.step == "10" and g.n_gaps == 0 and g.reordered


def test_time_grid_reads_dates_and_counts_gaps():
    days = ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-06", "2024-01-07"]
    g = time_grid(days, "day")
    assert g.step == "1 day" and g.steps.tolist() == [0, 1, 2, 5, 6]
    assert (g.n_gaps, g.missing_steps, g.largest_gap) == (1, 2, 3)
    hours = pd.Series(pd.date_range("2024-01-01", periods=4, freq="h"))
    assert time_grid(hours, "h").step == "1 hour"


@pytest.mark.parametrize("times,match", [([0, 1, 1, 2], "repeats a time"),
                                         ([0, 1, 2, 2.5, 3, 4], "not on a regular grid"),
                                         (["a", "b", "c"], "neither numbers nor dates"),
                                         ([5], "fewer than two")])
def test_time_grid_refuses_what_is_no_series(times, match):
    with pytest.raises(InputError, match=match):
        time_grid(times, "t")


def test_lagged_frame_on_a_tiny_series_and_a_time_shift():
    frame = pd.DataFrame({"x": [10, 11, 12, 13], "y": [20, 21, 22, 23]})
    view, m = lagged_frame(frame, row_grid(4), [("x", -1), ("y", 0)])
    assert m == 3 and list(view.columns) == ["x(t-1)", "y"]
    assert view["x(t-1)"].tolist() == [10, 11, 12] and view["y"].tolist() == [21, 22, 23]
    shifted, _ = lagged_frame(frame, row_grid(4), [("x", -1), ("y", 0)], shift={"x": 2})
    assert shifted["x(t-1)"].tolist() == [12, 13, 10] and shifted["y"].tolist() == [21, 22, 23]
    # rows out of order in the file, ordered by the time column
    frame_t = pd.DataFrame({"t": [2, 0, 1, 3], "x": [12, 10, 11, 13], "y": [22, 20, 21, 23]})
    view_t, _ = lagged_frame(frame_t, time_grid(frame_t["t"], "t"), [("x", -1), ("y", 0)])
    assert view_t["x(t-1)"].tolist() == [10, 11, 12] and view_t["y"].tolist() == [21, 22, 23]


def test_parse_lags_and_history():
    assert parse_lags("0:3") == [0, 1, 2, 3] and parse_lags("1:10:3") == [1, 4, 7, 10]
    assert parse_lags("1,2,5") == [1, 2, 5] and parse_lags(4) == [4]
    assert parse_lags("-2:1") == [-2, -1, 0, 1]
    assert parse_history("2,3") == (2, 3) and parse_history("2") == (2, 2)
    for bad in ("3:1", "a:b", "1:5:0", ""):
        with pytest.raises(UsageError):
            parse_lags(bad)
    for bad in ("0,1", "a", "1,2,3", "1,-1", "100"):
        with pytest.raises(UsageError, match="history"):
            parse_history(bad)


# ---------------------------------------------------------- against the VAR(1)'s exact truths

@pytest.fixture(scope="module")
def var():
    return synthetic.var1(4000, seed=3)  # x drives y, nothing back


def test_var_truths_from_the_stationary_covariance(var):
    g0 = synthetic.var_autocov(var.a, var.noise, 0)[0]
    assert np.allclose(g0, var.a @ g0 @ var.a.T + var.noise)
    # TE(x→y), history 1,1: var(y(t)|y(t-1)) against the unit innovation variance
    g1 = var.a @ g0
    cond = g0[1, 1] - g1[1, 1] ** 2 / g0[1, 1]
    assert var.te("xy") == pytest.approx(0.5 * np.log(cond), rel=1e-9)
    assert var.te("yx") == pytest.approx(0.0, abs=1e-12) and var.te("xy") > 0.09


@pytest.mark.parametrize("lag", [0, 1, 2])
def test_lagged_mi_of_a_var_against_the_truth(var, lag):
    r = mitool.lagged_mi(var.frame, "x", "y", lag, "gcmi,ksg", time="t")
    truth = var.lagged_mi(lag)
    assert r.extra["lag"] == lag and r.input.n_used == 4000 - lag
    assert r.x == [f"x(t-{lag})" if lag else "x"]
    for name in ("gcmi", "ksg"):
        assert r.result(name).mi == pytest.approx(truth, abs=0.035), (name, lag, truth)


def test_lag_scan_finds_the_coupling_lag(var):
    s = mitool.lag_scan(var.frame, "x", "y", "0:3", "gcmi", time="t")
    doc = s.to_dict()
    assert [row["lag"] for row in doc["lags"]] == [0, 1, 2, 3]
    assert doc["best_lag"]["lag"] == 1 == s.best[0]
    for row in doc["lags"]:
        assert row["mi"] == pytest.approx(var.lagged_mi(row["lag"]), abs=0.035)


@pytest.mark.parametrize("est,tol", [("gcmi-cmi", 0.02), ("ksg-cmi", 0.035)])
def test_transfer_entropy_both_ways_against_the_truth(var, est, tol):
    r = mitool.transfer_entropy(var.frame, "x", "y", "1,1", est, time="t")
    assert r.te_xy == pytest.approx(var.te("xy"), abs=tol)
    assert r.te_yx == pytest.approx(0.0, abs=tol)
    assert [d.source for d in r.directions] == [["x"], ["y"]]


def test_transfer_entropy_with_longer_history_and_feedback():
    d = synthetic.var1(4000, ((0.6, 0.2), (0.3, 0.5)), seed=5)
    r = mitool.transfer_entropy(d.frame, "x", "y", "2,2", "gcmi-cmi")
    assert r.te_xy == pytest.approx(d.te("xy", 2, 2), abs=0.02)
    assert r.te_yx == pytest.approx(d.te("yx", 2, 2), abs=0.02)
    assert min(d.te("xy", 2, 2), d.te("yx", 2, 2)) > 0.02
    assert r.directions[0].report.z == ["y(t-1)", "y(t-2)"]


def test_the_surrogate_test_rejects_the_coupled_direction_only():
    d = synthetic.var1(1000, seed=11)
    r = mitool.transfer_entropy(d.frame, "x", "y", "1,1", "gcmi-cmi", permutations=39, seed=2)
    xy, yx = (dr.test for dr in r.directions)
    assert xy["p_value"] == pytest.approx(1 / 40) and yx["p_value"] > 0.2
    assert r.surrogates["min_shift"] == 100 and r.surrogates["max_shift"] == 900
    # the default (auto-cmi) tests the component it chose
    r2 = mitool.transfer_entropy(d.frame, "x", "y", "1,1", permutations=19, seed=2)
    assert r2.directions[0].test["statistic"] == r2.directions[0].report.headline.details[
        "chosen"]
    assert r2.directions[0].test["p_value"] == pytest.approx(1 / 20)


def test_gaps_are_refused_or_dropped():
    n = 400
    rng = np.random.default_rng(0)
    x = rng.standard_normal(n)
    y = np.r_[0.0, x[:-1]] + 0.5 * rng.standard_normal(n)  # y(t) = x(t-1) + noise
    frame = pd.DataFrame({"t": np.arange(n), "x": x, "y": y}).drop(index=[100, 250])
    with pytest.raises(InputError, match=r"2 gap\(s\).*--gaps drop"):
        mitool.lagged_mi(frame, "x", "y", 1, "gcmi", time="t")
    r = mitool.lagged_mi(frame, "x", "y", 1, "gcmi", time="t", gaps="drop")
    assert r.extra["series"]["n_pairs"] == n - 1 - 4  # the 2 gaps lose 2 pairs each
    assert any("--gaps drop" in w for w in r.warnings)
    # pairs across a gap would be wrong: without the time column, rows 99 and 101 pair up
    plain = mitool.lagged_mi(frame, "x", "y", 1, "gcmi")
    assert plain.extra["series"]["n_pairs"] == n - 2 - 1
    truth = 0.5 * np.log(1 + 1 / 0.25)
    assert r.mi == pytest.approx(truth, abs=0.1)


def test_library_refusals():
    d = synthetic.var1(200, seed=0)
    with pytest.raises(UsageError, match="also in --x"):
        mitool.lagged_mi(d.frame, "x,t", "y", 1, "gcmi", time="t")
    with pytest.raises(UsageError, match="not below the series' 200 rows"):
        mitool.lagged_mi(d.frame, "x", "y", 200, "gcmi")
    with pytest.raises(UsageError, match="needs a time column"):
        mitool.lagged_mi(d.frame, "x", "y", 1, "gcmi", gaps="drop")
    with pytest.raises(UsageError, match="in both --x and --y"):
        mitool.transfer_entropy(d.frame, "x", "x,y")
    with pytest.raises(UsageError, match="one conditional estimator"):
        mitool.transfer_entropy(d.frame, "x", "y", estimators="ksg-cmi,gcmi-cmi")
    # a column's own past: allowed at a lag, refused at lag 0
    assert mitool.lagged_mi(d.frame, "x", "x", 1, "gcmi").x == ["x(t-1)"]
    with pytest.raises(UsageError, match="same variable twice"):
        mitool.lagged_mi(d.frame, "x", "x", 0, "gcmi")


# ------------------------------------------------------------------------------------ the CLI

@pytest.fixture(scope="module")
def series_csv(tmp_path_factory):
    d = synthetic.var1(600, seed=4)
    frame = d.frame.copy()
    frame["t"] = pd.date_range("2021-03-01", periods=600, freq="D").strftime("%Y-%m-%d")
    frame = frame.sample(frac=1.0, random_state=0)  # rows out of order: --time sorts them
    path = tmp_path_factory.mktemp("ts") / "series.csv"
    frame.to_csv(path, index=False)
    gappy = tmp_path_factory.mktemp("ts") / "gappy.csv"
    frame.drop(index=[10, 20]).to_csv(gappy, index=False)
    return path, gappy


def _undocumented(doc) -> list[str]:
    keys: set[str] = set()

    def walk(obj, parent=""):
        if isinstance(obj, dict):
            for k, v in obj.items():
                if parent != "components":
                    keys.add(k)
                walk(v, k)
        elif isinstance(obj, list):
            for v in obj:
                walk(v, parent)

    walk(doc)
    return sorted(k for k in keys if f"`{k}`" not in SCHEMA)


def test_cli_lag_json(runner, series_csv):
    out = runner.invoke(app, ["estimate", str(series_csv[0]), "--x", "x", "--y", "y", "--time",
                              "t", "--lag", "1", "-e", "gcmi", "-f", "json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["schema_version"] == 6 and doc["lag"] == 1 and doc["x"] == ["x(t-1)"]
    assert doc["quantity"] == "I(X(t-1);Y(t))"
    assert doc["series"]["step"] == "1 day" and doc["series"]["reordered"] is True
    assert doc["series"]["n_pairs"] == 599 and doc["input"]["path"].endswith("series.csv")
    assert doc["mi"] == pytest.approx(synthetic.var1(600, seed=4).lagged_mi(1), abs=0.08)
    assert not _undocumented(doc), _undocumented(doc)


def test_cli_lags_json_table_and_csv(runner, series_csv):
    base = ["estimate", str(series_csv[0]), "--x", "x", "--y", "y", "--time", "t",
            "--lags", "0:3", "-e", "gcmi", "--permutations", "9"]
    out = runner.invoke(app, base + ["-f", "json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert [r["lag"] for r in doc["lags"]] == [0, 1, 2, 3] and doc["best_lag"]["lag"] == 1
    assert all(r["p_value"] is not None for r in doc["lags"])
    assert doc["best_lag"]["p_value_adjusted"] == pytest.approx(
        min(1.0, 4 * doc["best_lag"]["p_value"]))
    assert not _undocumented(doc), _undocumented(doc)
    table = runner.invoke(app, base)
    assert table.exit_code == 0 and "best lag (*): 1" in table.stdout
    assert re.search(r"│\s+1 \*\s+│", table.stdout)
    csv = runner.invoke(app, base + ["-f", "csv"])
    assert csv.stdout.splitlines()[0].startswith("lag,best,mi,unit") and len(
        csv.stdout.splitlines()) == 5


def test_block_half_samples_keep_runs_of_consecutive_steps():
    from mitool.timeseries import block_half_samples, te_block

    assert te_block(1000) == 10 and te_block(8) == 2
    draws = block_half_samples(103, 5, np.random.default_rng(0), 10)
    for rows in draws:
        assert np.all(np.diff(rows) > 0)  # in time order, no repeats
        runs = np.split(rows, np.flatnonzero(np.diff(rows) > 1) + 1)
        assert all(r[0] % 10 == 0 for r in runs)  # whole runs, from a block's start
        assert 40 <= rows.size <= 60  # half of the 11 runs (the last has 3 steps)


def test_transfer_entropy_interval_holds_the_truth_both_ways(var):
    r = mitool.transfer_entropy(var.frame, "x", "y", "1,1", time="t", bootstrap=30, seed=1)
    for d, key in zip(r.directions, ("xy", "yx"), strict=True):
        t = d.test
        assert t["ci_low"] <= var.te(key) <= t["ci_high"], (key, t)
        assert t["ci_low"] <= d.te <= t["ci_high"] and t["ci_block"] == 16  # ≈ 3999^(1/3)
        assert t["ci_high"] - t["ci_low"] < 0.12  # informative, not everything
        assert "block half-sampling" in t["ci_method"] and t["bootstrap"] == 30
    xy, yx = r.directions
    assert xy.test["ci_low"] > yx.test["ci_high"]  # x drives y, nothing back


def test_cli_te_json_table_and_gate(runner, series_csv):
    base = ["te", str(series_csv[0]), "--x", "x", "--y", "y", "--time", "t", "-e", "gcmi-cmi",
            "--permutations", "19"]
    out = runner.invoke(app, base + ["-f", "json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["command"] == "te" and doc["schema_version"] == 2
    assert doc["history"] == {"source": 1, "target": 1}
    xy, yx = doc["directions"]
    assert xy["source"] == ["x"] and xy["p_value"] == pytest.approx(0.05)
    assert yx["p_value"] > 0.05 and xy["te"] > yx["te"]
    assert not _undocumented(doc), _undocumented(doc)
    table = runner.invoke(app, base)
    assert table.exit_code == 0 and "x → y" in table.stdout and "y → x" in table.stdout
    boot = runner.invoke(app, base + ["--bootstrap", "10", "-f", "json"])
    assert boot.exit_code == 0, boot.output
    bdoc = json.loads(boot.stdout)
    for d in bdoc["directions"]:
        assert d["ci_low"] <= d["te"] <= d["ci_high"] and d["ci_level"] == 0.95
    assert not _undocumented(bdoc), _undocumented(bdoc)
    csv = runner.invoke(app, base + ["--bootstrap", "10", "-f", "csv"])
    assert csv.exit_code == 0 and csv.stdout.splitlines()[0].endswith("ci_low,ci_high")
    # the gate reads TE(X→Y): y does not drive x, so asking for it trips the gate
    gated = runner.invoke(app, ["te", str(series_csv[0]), "--x", "y", "--y", "x", "--time",
                                "t", "-e", "gcmi-cmi", "--permutations", "19",
                                "--fail-if-independent", "0.05", "-f", "json"])
    assert gated.exit_code == 3 and "gate FAILED" in gated.stderr
    assert json.loads(gated.stdout)["gate"]["passed"] is False


@pytest.mark.parametrize("args,match", [
    (["estimate", "{csv}", "--x", "x", "--y", "y", "--lag", "600", "-e", "gcmi"],
     "--lag 600 is not below"),
    (["estimate", "{csv}", "--x", "x,t", "--y", "y", "--lag", "1", "--time", "t"],
     "also in --x"),
    (["estimate", "{gappy}", "--x", "x", "--y", "y", "--lag", "1", "--time", "t"],
     "--gaps drop"),
    (["estimate", "{csv}", "--x", "x", "--y", "y", "--time", "t"], "--lag or --lags"),
    (["estimate", "{csv}", "--x", "x", "--y", "y", "--lag", "1", "--lags", "0:2"],
     "--lag and --lags"),
    (["estimate", "{csv}", "--x", "x", "--y", "y", "--lags", "5:1"], "not a lag range"),
    (["estimate", "{csv}", "--x", "x", "--y", "y", "--lags", "0:2", "--fail-below", "0.1"],
     "gate one lag"),
    (["te", "{csv}", "--x", "x", "--y", "y", "--history", "0,1"], "--history '0,1'"),
    (["te", "{csv}", "--x", "x", "--y", "y", "--history", "two"], "--history 'two'"),
    (["te", "{csv}", "--x", "x", "--y", "y", "--gaps", "drop"], "needs a time column"),
    (["te", "{gappy}", "--x", "x", "--y", "y", "--time", "t"], "gap"),
    (["te", "{csv}", "--x", "x", "--y", "y", "--bootstrap", "1"], "--bootstrap must be"),
    (["te", "{csv}", "--x", "x", "--y", "y", "--bootstrap", "20", "--block", "0"],
     "--block must be"),
])
def test_cli_refusals_exit_2_with_one_line(runner, series_csv, args, match):
    argv = [a.format(csv=series_csv[0], gappy=series_csv[1]) for a in args]
    out = runner.invoke(app, argv)
    assert out.exit_code == 2, (out.exit_code, out.output)
    assert match in out.stderr and "Traceback" not in out.output
    assert out.stdout == ""


def test_cli_gaps_drop_runs(runner, series_csv):
    out = runner.invoke(app, ["te", str(series_csv[1]), "--x", "x", "--y", "y", "--time", "t",
                              "--gaps", "drop", "-e", "gcmi-cmi", "-f", "json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["series"]["n_gaps"] == 2 and doc["directions"][0]["n_used"] == 600 - 1 - 4
    assert "--gaps drop" in out.stderr


def test_lagged_mi_given_z_is_conditional():
    d = synthetic.var1(1500, seed=6)
    frame = d.frame.assign(w=d.frame["x"].shift(1).fillna(0.0))  # w(t) = x(t-1): explains it
    r = mitool.lagged_mi(frame, "x", "y", 1, z="w", time="t")
    doc = r.to_dict()
    assert doc["quantity"] == "I(X(t-1);Y(t)|Z(t))" and doc["conditional"] is True
    assert doc["z"] == ["w"] and r.mi < 0.02  # x(t-1) adds nothing beyond w(t) = x(t-1)
    assert mitool.lagged_mi(frame, "x", "y", 1, time="t", estimators="gcmi").mi > 0.08
