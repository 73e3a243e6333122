"""The estimator registry: one entry knows an estimator, and nothing else has to.

A dummy estimator registered from a module of its own runs end to end (estimate, its
permutation test and interval, the CLI), an unregistered name raises instead of borrowing
another estimator's test, and the dispatching code names no estimator.
"""

from __future__ import annotations

import json
import re
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mitool
from mitool.cli import app
from mitool.data import synthetic
from mitool.errors import UsageError
from mitool.estimators import parse_estimators, registry
from mitool.estimators.base import EstimatorResult, PreparedData, RunOptions
from mitool.inference import InferenceSpec, attach_inference

PACKAGE = Path(mitool.__file__).parent
README = PACKAGE.parent / "README.md"

DUMMY_MODULE = '''
"""A test estimator: the Gaussian MI of the Pearson correlation of one column each."""
import math
import time

import numpy as np

from mitool.estimators.base import EstimatorResult


def statistic(data, opts):
    r = float(np.corrcoef(data.x[:, 0], data.y[:, 0])[0, 1])
    return -0.5 * math.log1p(-min(r * r, 1 - 1e-12))


def run(name, data, opts):
    t0 = time.perf_counter()
    value = statistic(data, opts)
    return EstimatorResult(name, value, time.perf_counter() - t0, details={"mi_raw": value})
'''


@pytest.fixture
def dummy(tmp_path, monkeypatch):
    """'pearson' registered from its own module, as a plug-in would (the four files an
    estimator touches: this module, the registry line, this test, the README row)."""
    (tmp_path / "pearson_mi.py").write_text(textwrap.dedent(DUMMY_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    entry = registry.Estimator(
        "pearson", "closed form", "Gaussian MI of the Pearson correlation",
        "pearson_mi:run", registry.ESTIMATE, "exact for Gaussians only",
        registry.TEST_PERMUTATION, registry.CI_HALF_SAMPLING,
        statistic="pearson_mi:statistic",
        applies=lambda d: None if d.x.shape[1] == d.y.shape[1] == 1 else "one column a side")
    registry.register(entry)
    yield entry
    registry.unregister("pearson")
    sys.modules.pop("pearson_mi", None)


def frame(n=2000, mi=0.5, seed=0) -> pd.DataFrame:
    return synthetic.gaussian(n, 1, 1, mi=mi, seed=seed).to_frame()


def test_a_registered_estimator_runs_end_to_end(dummy):
    assert "pearson_mi" not in sys.modules  # imported when it runs, not when registered
    r = mitool.estimate(frame(), "x", "y", "pearson,ksg",
                        inference=InferenceSpec(permutations=49, bootstrap=20))
    row = r.result("pearson")
    assert row.mi == pytest.approx(0.5, abs=0.04)  # the truth, within a Gaussian's noise
    assert row.details["p_value"] == pytest.approx(1 / 50)  # no shuffle comes close
    assert row.details["permutation_scheme"] == "re-estimated with Y shuffled against X"
    assert row.details["ci_low"] < 0.5 < row.details["ci_high"]
    assert row.details["ci_kind"] == "half-sampling (normal)"
    assert [x.estimator for x in r.results] == ["pearson", "ksg"]


def test_a_registered_estimator_through_the_cli(dummy, runner, tmp_path):
    path = tmp_path / "g.csv"
    frame().to_csv(path, index=False)
    out = runner.invoke(app, ["estimate", str(path), "--x", "x", "--y", "y", "-e", "pearson",
                              "--permutations", "19", "-f", "json"])
    assert out.exit_code == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["estimator"] == "pearson" and doc["mi"] == pytest.approx(0.5, abs=0.04)
    assert doc["results"][0]["p_value"] == pytest.approx(1 / 20)


def test_where_it_does_not_apply_the_module_is_never_imported(dummy):
    d = synthetic.gaussian(500, 2, 1, mi=0.3, seed=1)
    data = PreparedData(d.x, d.y, d.x_names, d.y_names, np.zeros(2, bool), np.zeros(1, bool))
    r = registry.run_estimator("pearson", data)
    assert not r.applicable and r.mi is None and r.reason == "one column a side"
    assert "pearson_mi" not in sys.modules


def test_an_unregistered_name_raises_everywhere():
    with pytest.raises(UsageError, match="unknown estimator 'tuba'"):
        parse_estimators("ksg,tuba")
    with pytest.raises(UsageError, match="unknown estimator 'tuba'"):
        registry.get("tuba")
    data = PreparedData(np.zeros((5, 1)), np.zeros((5, 1)), ["x"], ["y"],
                        np.zeros(1, bool), np.zeros(1, bool))
    with pytest.raises(UsageError, match="unknown estimator 'tuba'"):
        registry.run_estimator("tuba", data)
    # inference never falls back to another estimator's test
    stray = EstimatorResult("tuba", 0.3, 0.0)
    with pytest.raises(UsageError, match="unknown estimator 'tuba'"):
        attach_inference(stray, data, RunOptions(), InferenceSpec(permutations=9))


def test_register_checks_what_it_is_told():
    bad = registry.Estimator("odd", "k-NN", "?", "x:y", "guess", "?", registry.TEST_PERMUTATION,
                             registry.CI_HALF_SAMPLING, statistic="x:z")
    with pytest.raises(ValueError, match="kind must be one of"):
        registry.register(bad)
    no_stat = registry.Estimator("odd", "k-NN", "?", "x:y", registry.ESTIMATE, "?",
                                 registry.TEST_PERMUTATION, registry.CI_HALF_SAMPLING)
    with pytest.raises(ValueError, match="needs a registered statistic"):
        registry.register(no_stat)
    assert "odd" not in registry.names()


def test_every_entry_is_complete_and_its_functions_exist():
    for name in registry.names():
        e = registry.get(name)
        assert e.kind in registry.KINDS and e.test in registry.TESTS
        assert e.interval in registry.INTERVALS and e.help and e.kind_why
        assert callable(e.load("runner"))
        if e.test == registry.TEST_PERMUTATION:
            assert callable(e.load("statistic"))


def test_kinds_of_number():
    """Which way each number can be wrong (issue: only bounds may compete for a maximum)."""
    kinds = {n: registry.get(n).kind for n in registry.names()}
    assert {n for n, k in kinds.items() if k == registry.LOWER_BOUND} == {
        "mine", "mine-biased", "jsd", "nwj", "smile", "gcmi-rot", "gcmi-bound", "gbm",
        "gbm-cmi"}
    assert kinds["infonce"] == registry.CAPPED
    assert kinds["ksg"] == kinds["gcmi"] == kinds["auto"] == registry.ESTIMATE


def test_the_default_set_and_autos_components_come_from_the_registry():
    assert registry.default_names() == ("auto", "gbm", "gcmi", "gcmi-rot", "ksg", "sklearn")
    rng = np.random.default_rng(0)

    def cols(dx, dy, disc=False):
        return PreparedData(rng.normal(size=(300, dx)), rng.normal(size=(300, dy)),
                            [f"x{i}" for i in range(dx)], [f"y{i}" for i in range(dy)],
                            np.full(dx, disc), np.full(dy, disc))

    assert registry.auto_components(cols(1, 1)) == ["gcmi", "ksg", "gbm"]
    assert registry.auto_components(cols(3, 3)) == [
        "gcmi", "gcmi-rot", "ksg", "gbm", "gcmi-bound"]
    assert registry.auto_components(cols(5, 5)) == [
        "gcmi", "gcmi-rot", "gbm", "gcmi-bound"]  # ksg: > 8 joint dimensions
    assert registry.auto_components(cols(1, 1, disc=True)) == ["ksg"]
    joined, notes = registry.default_set(cols(1, 1))
    assert joined == ["auto", "gbm", "gcmi", "ksg", "sklearn"]
    assert notes == {"gcmi-rot": None}  # left out silently: one column a side, nothing to rotate


def test_the_dispatching_code_names_no_estimator():
    """Adding an estimator touches its module, one registry entry, its tests and its README
    row: the use cases that run, test and combine estimators read the registry instead."""
    names = "|".join(re.escape(n) for n in registry.names() if n != "auto")
    literal = re.compile(r"""(["'])(""" + names + r""")\1""")
    for rel in ("estimation.py", "inference.py", "estimators/__init__.py",
                "estimators/auto.py", "cli/estimate.py"):
        text = (PACKAGE / rel).read_text()
        code = "\n".join(line for line in text.splitlines()
                         if not line.lstrip().startswith((">>>", "#")))
        assert not literal.findall(code), (rel, [m[1] for m in literal.findall(code)])


def test_the_readme_table_has_one_row_per_entry_in_order():
    rows = re.findall(r"^\| `([a-z-]+)`(?: \(default\))? \|", README.read_text(), re.M)
    assert rows == list(registry.names())


def test_the_estimator_help_reads_the_registry():
    text = registry.estimator_help()
    for name in registry.names():
        assert name in text
    registry.register(registry.Estimator(
        "zzz", "k-NN", "?", "x:y", registry.ESTIMATE, "?", registry.TEST_ANALYTIC,
        registry.CI_LOWER_ONLY))
    try:
        assert "zzz" in registry.estimator_help()
    finally:
        registry.unregister("zzz")


def test_ksg_alone_imports_neither_torch_nor_scipy_stats(tmp_path):
    """-e ksg on a CSV of numbers: the registry imports only ksg's module (no gcmi, no
    neural engine), and the numbers come straight from Arrow (no pandas)."""
    import subprocess

    path = tmp_path / "g.csv"
    frame(n=500).to_csv(path, index=False)
    code = textwrap.dedent(f"""
        import sys
        from typer.testing import CliRunner
        from mitool.cli import app
        r = CliRunner().invoke(app, ["estimate", {str(path)!r}, "--x", "x", "--y", "y",
                                     "-e", "ksg", "-f", "json", "-q"])
        assert r.exit_code == 0, r.output
        print(sorted(m for m in ("torch", "scipy.stats", "scipy.special", "sklearn", "pandas")
                     if m in sys.modules))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
