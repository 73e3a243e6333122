"""`mitool select`: greedy forward selection by conditional MI, its stop rules, CLI and JSON."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import mitool
from mitool.cli import app
from mitool.errors import UsageError
from mitool.inference import InferenceSpec


def redundant_table(n: int = 800, seed: int = 0) -> pd.DataFrame:
    """y = a + b + noise; c a near-copy of a (redundant given a); two noise columns.
    Gaussian, so I(b; y | a) = 0.5 ln(1 + var(b) / var(noise)) = 0.5 ln(1 + 1 / 0.25)."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=n)
    return pd.DataFrame({
        "c": a + 0.1 * rng.normal(size=n),
        "noise1": rng.normal(size=n),
        "a": a,
        "b": b,
        "noise2": rng.uniform(size=n),
        "y": a + b + 0.5 * rng.normal(size=n),
    })


@pytest.fixture(scope="module")
def frame():
    return redundant_table()


def test_select_picks_a_then_b_and_passes_over_the_copy(frame):
    r = mitool.select(frame, "y", max_features=3)
    assert r.estimator == "gcmi-cmi"
    assert r.selected[0] in ("a", "c") and r.selected[1] == "b"
    assert "c" not in r.selected[:2] or "a" not in r.selected[:2]
    first, second = r.steps[0], r.steps[1]
    # I(a; y) = 0.5 ln(var(y) / var(y | a)) = 0.5 ln(2.25 / 1.25); I(b; y | a) = 0.5 ln 5
    assert first.gain == pytest.approx(0.5 * np.log(2.25 / 1.25), abs=0.06)
    assert second.gain == pytest.approx(0.5 * np.log(5.0), abs=0.06)
    assert second.cumulative == pytest.approx(first.gain + second.gain)
    assert second.runner_up in ("c", "a") or second.runner_up_gain < 0.05
    # the third pick adds next to nothing: the copy, or noise
    assert r.steps[2].gain < 0.02


def test_permutation_stop_rule_stops_at_the_redundant_copy(frame):
    r = mitool.select(frame, "y", max_features=5, inference=InferenceSpec(19))
    assert r.selected in (["a", "b"], ["c", "b"])
    assert r.stop_reason == "not_significant"
    assert all(s.p_value == pytest.approx(1 / 20) for s in r.steps)  # best of every draw
    assert r.rejected["p_value"] > 0.05 and r.rejected["feature"] not in r.selected


def test_min_gain_and_max_features_stop_rules(frame):
    r = mitool.select(frame, "y", max_features=5, min_gain=0.1)
    assert len(r.selected) == 2 and r.stop_reason == "below_min_gain"
    assert r.rejected["gain"] < 0.1
    r = mitool.select(frame, "y", max_features=1)
    assert r.selected in (["a"], ["c"]) and r.stop_reason == "max_features"


def test_given_columns_start_the_selection_and_are_never_picked(frame):
    r = mitool.select(frame, "y", given="a", max_features=1)
    assert r.selected == ["b"] and r.given == ["a"]
    assert r.steps[0].gain == pytest.approx(0.5 * np.log(5.0), abs=0.06)


def test_ksg_cmi_selects_the_same_and_a_discrete_target_is_capped_at_its_entropy(frame):
    r = mitool.select(frame, "y", estimator="ksg-cmi", max_features=2)
    assert r.selected[1] == "b" and r.steps[0].estimator == "ksg-cmi"
    labelled = frame.assign(label=np.where(frame["a"] + frame["b"] > 0, "hi", "lo"))
    r = mitool.select(labelled.drop(columns="y"), "label", max_features=4)
    assert r.estimator == "ksg-cmi"  # the default for a discrete target
    assert set(r.selected[:2]) <= {"a", "b", "c"} and "b" in r.selected[:2]
    assert r.steps[-1].cumulative <= r.target_entropy + 1e-12 <= np.log(2) + 1e-12
    g = mitool.select(labelled.drop(columns="y"), "label", estimator="gcmi-cmi",
                      max_features=4)
    assert g.steps[-1].cumulative <= g.target_entropy + 1e-12  # capped where it overshoots


def test_missing_rows_are_dropped_for_every_candidate_alike(frame):
    holes = frame.copy()
    holes.loc[:99, "noise1"] = np.nan
    r = mitool.select(holes, "y", max_features=1)
    assert r.n_used == len(frame) - 100 and "100 of 800 rows" in r.warnings[0]


def test_bad_options(frame):
    with pytest.raises(UsageError, match="cannot select"):
        mitool.select(frame, "y", estimator="ksg")
    with pytest.raises(UsageError, match="is the target"):
        mitool.select(frame, "y", given="y")
    with pytest.raises(UsageError, match="positive integer"):
        mitool.select(frame, "y", max_features=0)
    with pytest.raises(UsageError, match="use at least 19"):
        mitool.select(frame, "y", inference=InferenceSpec(5))


def test_cli_table_json_csv_and_errors(runner, tmp_path, frame):
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    r = runner.invoke(app, ["select", str(path), "--target", "y", "--k", "2", "-f", "json"])
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["command"] == "select" and doc["schema_version"] == 1
    assert doc["selected"][1] == "b" and doc["stop_reason"] == "max_features"
    assert doc["quantity"] == "I(X;Y|S)" and doc["kind"] == "estimate"
    assert set(doc["steps"][0]) == {"step", "feature", "gain", "gain_raw", "cumulative",
                                    "estimator", "candidates", "p_value", "runner_up",
                                    "runner_up_gain", "capped_from", "seconds"}
    r = runner.invoke(app, ["select", str(path), "--target", "y", "--k", "2", "-q"])
    assert r.exit_code == 0 and "stopped: max_features" in r.stdout
    assert "gain = I(X; y | chosen)" in r.stdout
    r = runner.invoke(app, ["select", str(path), "--target", "y", "--k", "2", "-f", "csv"])
    lines = r.stdout.strip().splitlines()
    assert lines[0].startswith("step,feature,gain") and lines[2].startswith("2,b,")
    for bad, says in ((["--k", "0"], "--k must be a positive integer"),
                      (["--given", "y"], "is the target"),
                      (["-e", "gcmi"], "cannot select"),
                      (["--permutations", "5"], "use at least 19"),
                      (["--alpha", "1.5"], "--alpha must be between 0 and 1")):
        r = runner.invoke(app, ["select", str(path), "--target", "y", *bad])
        assert r.exit_code == 2, (bad, r.stderr)
        assert says in r.stderr and "Traceback" not in r.stderr
    r = runner.invoke(app, ["select", str(path), "--target", "why"])
    assert r.exit_code == 2 and "'why'" in r.stderr


def test_every_select_key_is_documented(frame):
    from pathlib import Path

    schema = (Path(__file__).parent.parent / "docs" / "json-schema.md").read_text()
    section = schema.split("## `mitool select`")[1].split("## ")[0]
    doc = mitool.select(frame, "y", max_features=2, inference=InferenceSpec(19)).to_dict()
    keys = set(doc) | set(doc["steps"][0]) | set(doc["input"]) | set(doc["rejected"] or {})
    assert not sorted(k for k in keys if f"`{k}`" not in section)
