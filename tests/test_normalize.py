"""MI on a 0-1 scale (--normalize): IC for continuous sides, a share of the smaller entropy
with a discrete side, the entropies in the JSON."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest

import mitool
from mitool.cli import app
from mitool.normalize import normalized


def test_the_formulas():
    mi = -0.5 * math.log(1 - 0.6**2)  # a Gaussian pair with rho = 0.6
    assert normalized(mi, None, None) == {"ic": pytest.approx(0.6, abs=1e-12)}
    assert normalized(-0.01, None, None) == {"ic": 0.0}  # clipped at independence
    both = normalized(math.log(2), math.log(2), math.log(4))
    assert both == {"share_of_entropy": pytest.approx(1.0),
                    "symmetric_uncertainty": pytest.approx(2 / 3)}
    one = normalized(0.3, None, math.log(3))
    assert one == {"share_of_entropy": pytest.approx(0.3 / math.log(3))}
    assert normalized(0.0, 0.0, None) == {"share_of_entropy": None}  # a constant label
    assert normalized(None, None, None) == {}


def _gauss(n=5000, rho=0.8, seed=0):
    rng = np.random.default_rng(seed)
    u = rng.normal(size=n)
    return pd.DataFrame({"u": u, "v": rho * u + math.sqrt(1 - rho**2) * rng.normal(size=n)})


def test_ic_reads_rho_of_a_gaussian_pair_in_either_unit():
    df = _gauss()
    nats = mitool.estimate(df, "u", "v", "ksg").normalized()
    bits = mitool.estimate(df, "u", "v", "ksg", unit="bits").normalized()
    assert nats["ic"] == pytest.approx(0.8, abs=0.01)
    assert bits["ic"] == pytest.approx(nats["ic"], abs=1e-12)
    assert nats["H_x"] is None and nats["H_y"] is None


def test_a_copied_label_reads_one_and_an_independent_one_about_zero():
    rng = np.random.default_rng(1)
    a = rng.choice(["p", "q", "r", "s"], size=2000, p=[0.4, 0.3, 0.2, 0.1])
    df = pd.DataFrame({"a": a, "copy": a, "noise": rng.choice(["m", "n"], size=2000)})
    same = mitool.estimate(df, "a", "copy", "ksg")
    n = same.normalized()
    assert n["share_of_entropy"] == pytest.approx(1.0, abs=0.005)
    assert n["symmetric_uncertainty"] == pytest.approx(1.0, abs=0.005)
    p = np.array([0.4, 0.3, 0.2, 0.1])
    assert n["H_x"] == pytest.approx(-(p * np.log(p)).sum(), abs=0.02) and n["H_x"] == n["H_y"]
    indep = mitool.estimate(df, "a", "noise", "ksg").normalized()
    assert indep["share_of_entropy"] < 0.01
    bits = mitool.estimate(df, "a", "copy", "ksg", unit="bits").normalized()
    assert bits["H_x"] == pytest.approx(n["H_x"] / math.log(2))
    assert bits["share_of_entropy"] == pytest.approx(n["share_of_entropy"])


def test_cli_estimate_and_pairs(runner, tmp_path):
    path = tmp_path / "t.csv"
    df = _gauss(2000)
    df["label"] = np.where(df["v"] > 0, "up", "down")
    df.to_csv(path, index=False)
    base = ["estimate", str(path), "--x", "u", "--y", "v", "-e", "ksg", "-q"]
    plain = runner.invoke(app, [*base, "-f", "json"])
    assert "normalized" not in json.loads(plain.stdout)
    doc = json.loads(runner.invoke(app, [*base, "-f", "json", "--normalize"]).stdout)
    assert doc["normalized"]["ic"] == pytest.approx(0.8, abs=0.02)
    table = runner.invoke(app, [*base, "--normalize"])
    line = re.search(r"on a 0-1 scale: IC (0\.\d+) \(\|rho\| of a Gaussian pair", table.stdout)
    assert table.exit_code == 0 and float(line.group(1)) == pytest.approx(0.8, abs=0.02)
    res = runner.invoke(app, ["pairs", str(path), "--target", "label", "--normalize", "-q",
                              "-f", "json"])
    rows = {r["x"]: r["normalized"] for r in json.loads(res.stdout)["pairs"]}
    assert rows["v"]["share_of_entropy"] == pytest.approx(1.0, abs=0.01)  # sign of v
    assert rows["u"]["H_y"] == pytest.approx(math.log(2), abs=0.01)
    csv = runner.invoke(app, ["pairs", str(path), "--target", "label", "--normalize", "-q",
                              "-f", "csv"]).stdout.splitlines()
    assert csv[0].endswith(",note,ic,share_of_entropy,symmetric_uncertainty,H_x,H_y")
