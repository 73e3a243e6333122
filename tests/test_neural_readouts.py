"""Every neural number means what it says (issue 10): readouts, early stopping, batches."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from mitool.cli import app
from mitool.data import synthetic
from mitool.errors import UsageError
from mitool.estimators.base import PreparedData
from mitool.estimators.config import NeuralConfig
from mitool.estimators.neural import estimate_neural


def prepared(s) -> PreparedData:
    return PreparedData(s.x, s.y, s.x_names, s.y_names,
                        np.zeros(s.x.shape[1], bool), np.zeros(s.y.shape[1], bool))


@pytest.fixture(scope="module")
def gauss_0511():
    return synthetic.gaussian(n=4000, mi=-0.5 * math.log(1 - 0.8**2), seed=5)  # rho 0.8


def test_jsd_nwj_readout_is_not_low_by_one_over_e(gauss_0511):
    """A JS-trained critic optimises T* = log r; NWJ is tight at 1 + log r."""
    data = prepared(gauss_0511)
    dv = estimate_neural("jsd", data, NeuralConfig(readout="dv"), seed=0)
    nwj = estimate_neural("jsd", data, NeuralConfig(readout="nwj"), seed=0)
    truth = gauss_0511.mi
    assert abs(dv.mi - truth) < 0.08, dv.mi
    assert abs(nwj.mi - truth) < 0.08, nwj.mi  # was 0.11-0.24 (low by 1/e)
    ro = nwj.details["readouts"]
    assert ro["nwj"] == pytest.approx(nwj.details["mi_raw"], abs=1e-6)
    assert ro["nwj"] <= ro["dv"] + 1e-6  # NWJ <= DV for the same critic and rows
    # the training curve and the validation readout use the same bound
    last = nwj.details["curve"][-1]
    assert abs(last["train"] - last["validation"]) < 0.25


@pytest.mark.parametrize("name", ["mine", "mine-biased"])
def test_dv_trained_critics_report_no_nwj_readout(name, gauss_0511):
    """DV is shift-invariant, so NWJ on a DV-trained critic can land anywhere below DV."""
    r = estimate_neural(name, prepared(gauss_0511), NeuralConfig(steps=300), seed=0)
    assert set(r.details["readouts"]) == {"dv"}


def test_no_validation_rows_means_no_early_stopping():
    """validation=0 must never fall back to the held-out rows for early stopping."""
    s = synthetic.gaussian(n=600, mi=0.5, seed=1)
    cfg = NeuralConfig(validation=0.0, steps=400, eval_every=50, patience=2)
    r = estimate_neural("smile", prepared(s), cfg, seed=0)
    d = r.details
    assert d["n_validation"] == 0
    assert d["early_stopping"] is False and d["stopped_early"] is False
    assert d["steps_run"] == 400 and d["best_step"] == 400  # the last critic, not a pick
    assert all(p["validation"] is None for p in d["curve"])
    assert any("early stopping is off" in n for n in r.notes)


@pytest.mark.parametrize("n,holdout", [(20, 0.9), (25, 0.9)])
def test_tiny_validation_slice_is_a_clear_usage_error(n, holdout):
    s = synthetic.gaussian(n=n, mi=0.5, seed=0)
    with pytest.raises(UsageError, match="validation rows"):
        estimate_neural("smile", prepared(s), NeuralConfig(holdout=holdout, folds=1), seed=0)


@pytest.mark.parametrize("n", [20, 25])
def test_cli_tiny_data_exit_2_names_what_is_too_small(runner, tmp_path, n):
    s = synthetic.gaussian(n=n, mi=0.5, seed=0)
    path = tmp_path / "tiny.csv"
    s.to_frame().to_csv(path, index=False)
    r = runner.invoke(app, ["estimate", str(path), "--x", "x", "--y", "y", "-e", "smile",
                            "--holdout", "0.9"])
    assert r.exit_code == 2, r.output
    assert "validation rows" in r.output and "diverged" not in r.output


def test_training_batches_hold_distinct_rows():
    from mitool.estimators.neural.training import BatchSampler

    gen = torch.Generator().manual_seed(0)
    sampler = BatchSampler(n_rows=20, batch=16, generator=gen, device=torch.device("cpu"))
    for _ in range(50):
        idx = sampler.next()
        assert idx.shape == (16,)
        assert len(set(idx.tolist())) == 16 and int(idx.max()) < 20


def test_curve_field_is_named_validation(gauss_0511, runner, tmp_path):
    path = tmp_path / "g.csv"
    gauss_0511.to_frame().iloc[:800].to_csv(path, index=False)
    r = runner.invoke(app, ["estimate", str(path), "--x", "x", "--y", "y", "-e", "mine",
                            "--steps", "100", "--format", "json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["schema_version"] == 6
    assert set(doc["results"][0]["curve"][0]) == {"step", "train", "validation"}
