"""`mitool pairs`: ranking, p-values, outputs and parallel backends."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import mitool
from mitool.cli import app
from mitool.errors import UsageError
from mitool.inference import InferenceSpec
from mitool.screening import Parallel


@pytest.fixture
def table(tmp_path):
    rng = np.random.default_rng(0)
    n = 600
    signal = rng.normal(size=n)
    df = pd.DataFrame({
        "noise_a": rng.normal(size=n),
        "weak": signal + 2.0 * rng.normal(size=n),
        "strong": signal + 0.2 * rng.normal(size=n),
        "noise_b": rng.uniform(size=n),
        "label": np.where(signal > 0, "pos", "neg"),
    })
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    return path


def test_target_ranking_puts_informative_column_first(table):
    r = mitool.pairs(table, target="label", seed=1, inference=InferenceSpec(permutations=40))
    order = [s.x for s in r.scores]
    assert order[:2] == ["strong", "weak"]
    assert r.scores[0].p_value == pytest.approx(1 / 41)
    assert min(s.p_value for s in r.scores if s.x.startswith("noise")) > 0.05


def test_all_pairs_and_matrix(table):
    r = mitool.pairs(table, columns="noise_a,weak,strong")
    assert len(r.scores) == 3
    assert (r.scores[0].x, r.scores[0].y) == ("weak", "strong")
    names, m = r.matrix()
    assert m.shape == (3, 3) and np.isnan(np.diag(m)).all() and np.allclose(m, m.T, equal_nan=True)


def test_parallel_matches_serial(table):
    a = mitool.pairs(table, target="label", parallel=Parallel(jobs=1))
    b = mitool.pairs(table, target="label", parallel=Parallel(jobs=2))
    c = mitool.pairs(table, target="label", parallel=Parallel(jobs=2, backend="threading"))
    assert [s.mi for s in a.scores] == [s.mi for s in b.scores] == [s.mi for s in c.scores]


def test_bad_options(table):
    with pytest.raises(UsageError, match="unknown estimator 'tuba'"):
        mitool.pairs(table, target="label", estimator="tuba")
    with pytest.raises(UsageError, match="takes one estimator"):
        mitool.pairs(table, target="label", estimator="ksg,mine")
    with pytest.raises(UsageError, match="'spark' is not a backend"):
        mitool.pairs(table, target="label", parallel=Parallel(backend="spark"))


def test_cli_json_csv_and_heatmap(runner, table, tmp_path):
    r = runner.invoke(app, ["pairs", str(table), "--target", "label", "-f", "json"])
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["command"] == "pairs" and doc["pairs"][0]["x"] == "strong"
    r = runner.invoke(app, ["pairs", str(table), "--target", "label", "-f", "csv"])
    lines = r.stdout.strip().splitlines()
    assert lines[0].startswith("x,y,mi") and lines[1].startswith("strong,label,") and len(lines) == 5
    png = tmp_path / "h.png"
    r = runner.invoke(app, ["pairs", str(table), "-c", "noise_a,weak,strong", "--heatmap", str(png)])
    assert r.exit_code == 0 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    r = runner.invoke(app, ["pairs", str(table), "--target", "lable"])
    assert r.exit_code == 2 and "did you mean 'label'" in r.stderr


def test_dask_backend_runs_or_explains_the_extra(table):
    try:
        import dask.distributed  # noqa: F401
    except ImportError:
        with pytest.raises(UsageError, match=r"pip install 'mitool\[distributed-dask\]'"):
            mitool.pairs(table, target="label", parallel=Parallel(backend="dask"))
    else:  # installed: the same loop on a (local) Dask cluster gives the same answer
        a = mitool.pairs(table, target="label")
        b = mitool.pairs(table, target="label", parallel=Parallel(backend="dask", jobs=2))
        assert [(s.x, s.mi) for s in a.scores] == [(s.x, s.mi) for s in b.scores]


def test_any_estimator_and_a_prescreen_with_refine(table):
    g = mitool.pairs(table, target="label", estimator="gcmi")
    assert g.scores[0].x == "strong" and g.scores[0].estimator == "gcmi"
    r = mitool.pairs(table, columns="noise_a,weak,strong,noise_b", estimator="ksg",
                     prescreen="gcmi", refine=2)
    assert r.prescreen == "gcmi" and r.refine == 2
    refined = [s for s in r.scores if s.mi is not None]
    assert len(refined) == 2 and all(s.prescreen_mi is not None for s in r.scores)
    assert ("weak", "strong") in {(s.x, s.y) for s in refined}
    top2 = sorted(r.scores, key=lambda s: -s.prescreen_mi)[:2]
    assert {(s.x, s.y) for s in refined} == {(s.x, s.y) for s in top2}  # gcmi's top two
    assert [s.mi is None for s in r.scores] == [False, False, True, True, True, True]
    with pytest.raises(UsageError, match="needs --refine"):
        mitool.pairs(table, target="label", prescreen="gcmi")


def test_neural_pairs_have_per_pair_seeds(table):
    from mitool.estimators.config import NeuralConfig

    cfg = NeuralConfig(steps=100, eval_every=50, folds=1)
    a = mitool.pairs(table, columns="weak,strong,noise_a", estimator="smile", neural=cfg)
    b = mitool.pairs(table, columns="weak,strong,noise_a", estimator="smile", neural=cfg, parallel=Parallel(jobs=2))
    assert [s.mi for s in a.scores] == [s.mi for s in b.scores]  # not the worker count
    assert a.scores[0].method.startswith("SMILE")


# ----------------------------------------------------------------------------- --given (issue 22)

@pytest.fixture(scope="module")
def redundant(tmp_path_factory):
    """y = a + b + noise, c a near-copy of a (see tests/test_select.py)."""
    from test_select import redundant_table

    path = tmp_path_factory.mktemp("given") / "r.csv"
    redundant_table().to_csv(path, index=False)
    return path


def test_given_ranks_what_a_column_adds_so_the_copy_drops(redundant):
    plain = mitool.pairs(redundant, target="y", estimator="gcmi")
    assert [s.x for s in plain.scores][:3] in (["a", "c", "b"], ["c", "a", "b"])
    r = mitool.pairs(redundant, target="y", given="a", inference=InferenceSpec(19))
    assert r.estimator == "auto-cmi" and r.given == ["a"]
    order = [s.x for s in r.scores]
    assert "a" not in order and order[0] == "b" and order.index("b") < order.index("c")
    b, c = r.scores[0], next(s for s in r.scores if s.x == "c")
    assert b.mi == pytest.approx(0.5 * np.log(5.0), abs=0.08)  # I(b; y | a), Gaussian
    assert c.mi < 0.03 and c.p_value > 0.05 and b.p_value == pytest.approx(1 / 20)
    assert b.q_value is not None
    doc = r.to_dict()
    assert doc["schema_version"] == 3 and doc["quantity"] == "I(X;Y|Z)"
    assert doc["given"] == ["a"] and doc["conditional"] is True and doc["k_perm"] == 5
    assert "local permutation" in doc["p_values"]
    assert "given" not in plain.to_dict() and "quantity" not in plain.to_dict()


def test_given_with_threads_and_a_prescreen(redundant):
    a = mitool.pairs(redundant, target="y", given="a", estimator="gcmi-cmi")
    b = mitool.pairs(redundant, target="y", given="a", estimator="gcmi-cmi",
                     parallel=Parallel(jobs=2, backend="threading"))
    assert [(s.x, s.mi) for s in a.scores] == [(s.x, s.mi) for s in b.scores]
    r = mitool.pairs(redundant, target="y", given="a", estimator="ksg-cmi", refine=2)
    assert r.prescreen == "gcmi-cmi" and r.scores[0].x == "b"
    with pytest.raises(UsageError, match="with --given use auto-cmi"):
        mitool.pairs(redundant, target="y", given="a", estimator="ksg")
    with pytest.raises(UsageError, match="is the target"):
        mitool.pairs(redundant, target="y", given="y")


def test_given_on_a_local_dask_cluster_matches_local(redundant):
    pytest.importorskip("dask.distributed")
    a = mitool.pairs(redundant, target="y", given="a,c", estimator="gcmi-cmi")
    b = mitool.pairs(redundant, target="y", given="a,c", estimator="gcmi-cmi",
                     parallel=Parallel(backend="dask", jobs=2))
    assert [(s.x, s.mi) for s in a.scores] == [(s.x, s.mi) for s in b.scores]
    assert a.scores[0].x == "b" and {s.x for s in a.scores} == {"b", "noise1", "noise2"}


def test_cli_given_json_table_and_errors(runner, redundant):
    r = runner.invoke(app, ["pairs", str(redundant), "--target", "y", "--given", "a", "-f",
                            "json", "-e", "gcmi-cmi"])
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["given"] == ["a"] and doc["pairs"][0]["x"] == "b"
    assert doc["pairs"][0]["estimator"] == "gcmi-cmi"
    r = runner.invoke(app, ["pairs", str(redundant), "--target", "y", "-g", "a", "-q",
                            "-e", "gcmi-cmi"])
    assert r.exit_code == 0 and "I(X; y | a)" in r.stdout and "CMI (nats)" in r.stdout
    for bad, says in ((["--given", "y"], "--given 'y' is the target"),
                      (["--given", "a", "-e", "ksg"], "with --given use auto-cmi"),
                      (["-e", "gcmi-cmi"], "give Z columns (--given)"),
                      (["--given", "zz"], "zz")):
        r = runner.invoke(app, ["pairs", str(redundant), "--target", "y", *bad])
        assert r.exit_code == 2, (bad, r.stderr)
        assert says in r.stderr and "Traceback" not in r.stderr
