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
