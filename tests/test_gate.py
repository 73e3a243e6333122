"""CI gating: exit code 3 on a tripped gate with the full report still printed."""

from __future__ import annotations

import json

import pytest

from mitool.cli import app
from mitool.data import synthetic
from mitool.gate import GATE_EXIT_CODE


@pytest.fixture
def dep_csv(tmp_path):
    p = tmp_path / "dep.csv"
    synthetic.gaussian(1500, 1, 1, mi=0.5, seed=1).to_frame().to_csv(p, index=False)
    return str(p)


@pytest.fixture
def indep_csv(tmp_path):
    p = tmp_path / "indep.csv"
    synthetic.independent(1500, 1, 1, seed=2).to_frame().to_csv(p, index=False)
    return str(p)


def invoke(runner, *args):
    r = runner.invoke(app, ["estimate", *args, "-e", "ksg", "-f", "json"])
    return r.exit_code, r.stdout, r.stderr


def test_gate_passes(runner, dep_csv):
    code, out, err = invoke(runner, dep_csv, "-x", "x", "-y", "y", "--fail-below", "0.3")
    assert code == 0
    doc = json.loads(out)
    assert doc["gate"]["passed"] is True and doc["gate"]["checks"][0]["check"] == "fail_below"
    assert "gate passed" in err


def test_fail_below_trips_with_code_3_and_full_report(runner, dep_csv):
    code, out, err = invoke(runner, dep_csv, "-x", "x", "-y", "y", "--fail-below", "0.9")
    assert code == GATE_EXIT_CODE == 3
    doc = json.loads(out)  # the whole report is still on stdout
    assert doc["mi"] == pytest.approx(0.5, abs=0.06) and doc["gate"]["passed"] is False
    assert "gate FAILED" in err and "--fail-below 0.9" in err


def test_fail_above_in_bits(runner, dep_csv):
    # 0.5 nats = 0.72 bits: above 0.6 bits trips, above 0.8 bits passes
    assert invoke(runner, dep_csv, "-x", "x", "-y", "y", "--unit", "bits", "--fail-above", "0.6")[0] == 3
    assert invoke(runner, dep_csv, "-x", "x", "-y", "y", "--unit", "bits", "--fail-above", "0.8")[0] == 0


def test_gate_on_ci_uses_interval_ends(runner, dep_csv):
    code, out, _ = invoke(runner, dep_csv, "-x", "x", "-y", "y", "--gate-on", "ci",
                          "--fail-below", "0.3", "--bootstrap", "50")
    doc = json.loads(out)
    assert code == 0 and doc["gate"]["checks"][0]["value"] == doc["results"][0]["ci_low"]


def test_fail_if_independent(runner, dep_csv, indep_csv):
    code, out, _ = invoke(runner, dep_csv, "-x", "x", "-y", "y", "--fail-if-independent", "0.05")
    assert code == 0 and json.loads(out)["results"][0]["permutations"] == 200
    code, out, err = invoke(runner, indep_csv, "-x", "x", "-y", "y", "--fail-if-independent", "0.05")
    assert code == 3 and "no evidence of dependence" in err


def test_gate_errors_are_usage_errors(runner, dep_csv):
    code, _, err = invoke(runner, dep_csv, "-x", "x", "-y", "y", "--fail-below", "2",
                          "--fail-above", "1")
    assert code == 2 and "no value could pass" in err
    code, _, err = invoke(runner, dep_csv, "-x", "x", "-y", "y", "--fail-if-independent", "5")
    assert code == 2 and "significance level" in err


def test_alpha_below_the_tests_smallest_p_value_is_refused_with_the_fix(runner, dep_csv):
    """With B permutations no p-value is below 1/(B+1) (3/(B+1) for a 3-fold neural test):
    a smaller alpha would report 'no evidence of dependence' on any data."""
    code, out, err = invoke(runner, dep_csv, "-x", "x", "-y", "y", "--permutations", "49",
                            "--fail-if-independent", "0.01")
    assert code == 2 and out == ""
    assert "smallest p-value ksg's test can give with 49 permutations (0.02)" in err
    assert "use --permutations 99 or more" in err
    r = runner.invoke(app, ["estimate", dep_csv, "-x", "x", "-y", "y", "-e", "smile",
                            "--permutations", "99", "--fail-if-independent", "0.02",
                            "--steps", "200", "-f", "json"])
    assert r.exit_code == 2
    assert "(0.03: 3 folds, each fold's p-value at least 1/100, combined by Bonferroni)" \
        in r.stderr
    assert "use --permutations 149 or more" in r.stderr
