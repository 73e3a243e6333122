"""Permutation p-values and confidence intervals (library API, fixed seeds)."""

from __future__ import annotations

import numpy as np
import pytest

import mitool
from mitool.data import synthetic
from mitool.errors import UsageError
from mitool.estimators.base import RunOptions
from mitool.inference import InferenceSpec, p_value


def frame_of(d):
    return d.to_frame()


def test_p_value_formula():
    assert p_value(1.0, [0.1, 0.2, 0.3]) == pytest.approx(1 / 4)
    assert p_value(0.2, [0.1, 0.2, 0.3]) == pytest.approx(3 / 4)
    assert p_value(0.0, []) == 1.0


def test_non_finite_null_draws_count_against_the_observed_value():
    """A shuffle whose readout blew up cannot be shown to be below the observed value."""
    from mitool.inference import null_summary

    null = [0.1, float("nan"), float("inf"), -float("inf"), 0.2]
    assert p_value(1.0, null) == pytest.approx((1 + 3) / 6)  # was 1/6 with NaN counted as 0
    summary = null_summary(1.0, null)
    assert summary["null_nonfinite"] == 3
    assert summary["null_mean"] == pytest.approx(0.15)


def test_dependent_pair_has_small_p_value():
    d = synthetic.gaussian(1000, 1, 1, mi=0.1, seed=3)
    r = mitool.estimate(frame_of(d), "x", "y", "ksg,sklearn", seed=1, inference=InferenceSpec(permutations=99))
    for res in r.results:
        assert res.details["p_value"] == pytest.approx(0.01)  # nothing in the null beats it
        assert res.details["permutations"] == 99
        assert res.details["null_p95"] < res.mi


def test_independent_pair_has_large_p_value():
    d = synthetic.independent(1000, 1, 1, seed=5)
    r = mitool.estimate(frame_of(d), "x", "y", "ksg", seed=2, inference=InferenceSpec(permutations=99))
    res = r.result("ksg")
    assert res.details["p_value"] > 0.05  # not significant at the usual level
    assert abs(res.details["null_mean"]) < 0.02
    assert "unclipped" in res.details["permutation_scheme"]


def test_ksg_null_is_read_on_the_unclipped_statistic():
    """On independent data the raw KSG value scatters around 0 (observed and shuffled alike),
    so the permutation p-value is uniform. Clipped at 0, about half the observed values and
    half the null would tie at 0, and every such p-value would be 1 (measured: 45% of the
    observed values are negative; uniform p-values put 1/20 at 1)."""
    from mitool.estimators.base import PreparedData
    from mitool.inference import knn_permutation

    observed, null_means, ps = [], [], []
    for s in range(100):
        d = synthetic.independent(300, 1, 1, seed=1000 + s)
        data = PreparedData(d.x, d.y, d.x_names, d.y_names, np.zeros(1, bool), np.zeros(1, bool))
        r = knn_permutation("ksg", data, k=3, n_perm=19, seed=s)
        observed.append(r["statistic"])
        null_means.append(r["null_mean"])
        ps.append(r["p_value"])
    observed, ps = np.array(observed), np.array(ps)
    # measured at these seeds: 46% negative, mean observed 0.0022, mean null 0.0021 (three
    # other seed blocks: 48-53%, -0.0001-0.0058, 0.0001-0.0009); one raw value has sd 0.037,
    # so clipped means would be ~0.015
    assert 0.3 <= np.mean(observed < 0) <= 0.7  # clipped: 0
    assert abs(np.mean(observed)) < 0.012 and abs(np.mean(null_means)) < 0.006
    assert min(null_means) < 0 < max(null_means)
    # p-values on {1/20, ..., 1}: uniform under the null
    assert np.mean(ps <= 0.05) <= 0.12  # 100 draws at level 0.05: P(> 12) ~ 0.002
    assert np.mean(ps == 1.0) <= 0.12  # clipped: ~0.45
    assert 0.42 <= np.mean(ps) <= 0.6  # uniform: 0.525 +- 0.03
    counts = np.histogram(ps, bins=[0, 0.2, 0.4, 0.6, 0.8, 1.01])[0]
    assert counts.min() >= 8 and counts.max() <= 32  # 20 expected per fifth, sd 4


def test_permutation_is_reproducible():
    d = synthetic.independent(500, 1, 1, seed=5)
    a = mitool.estimate(frame_of(d), "x", "y", "ksg", seed=4, inference=InferenceSpec(permutations=30))
    b = mitool.estimate(frame_of(d), "x", "y", "ksg", seed=4, inference=InferenceSpec(permutations=30))
    assert a.result("ksg").details == b.result("ksg").details


@pytest.mark.parametrize("dim,seed", [(1, 0), (2, 1)])
def test_subsampling_interval_contains_truth(dim, seed):
    d = synthetic.gaussian(3000, dim, dim, mi=0.5, seed=seed)
    r = mitool.estimate(frame_of(d), "x*", "y*", "ksg", seed=seed, inference=InferenceSpec(bootstrap=100))
    det = r.result("ksg").details
    assert det["ci_low"] <= 0.5 <= det["ci_high"]
    assert det["ci_high"] - det["ci_low"] < 0.2
    assert "without replacement" in det["ci_method"] and det["stderr"] > 0


def test_bad_counts_rejected():
    d = synthetic.gaussian(100, 1, 1, mi=0.5)
    with pytest.raises(UsageError, match=r"InferenceSpec\(permutations=\.\.\.\) must be"):
        mitool.estimate(frame_of(d), "x", "y", "ksg", inference=InferenceSpec(permutations=-1))


def test_units_follow_the_report():
    d = synthetic.gaussian(1000, 1, 1, mi=0.5, seed=0)
    r = mitool.estimate(frame_of(d), "x", "y", "ksg", unit="bits", inference=InferenceSpec(bootstrap=30))
    n = mitool.estimate(frame_of(d), "x", "y", "ksg", inference=InferenceSpec(bootstrap=30))
    row = r.to_dict()["results"][0]
    nats = n.result("ksg").details
    assert row["ci_low"] == r.result("ksg").details["ci_low"]  # the object is in bits too
    assert row["ci_low"] == pytest.approx(nats["ci_low"] / np.log(2))
    assert row["stderr"] == pytest.approx(nats["stderr"] / np.log(2))


def test_neural_permutation_and_interval():
    from mitool.estimators.config import NeuralConfig

    cfg = NeuralConfig(steps=300)
    dep = synthetic.gaussian(1000, 1, 1, mi=0.5, seed=2)
    r = mitool.estimate(frame_of(dep), "x", "y", "smile", neural=cfg, seed=1, inference=InferenceSpec(permutations=19, bootstrap=3))
    det = r.result("smile").details
    # each fold's observed readout beats all 19 of its shuffles: 1/20 per fold, and the
    # folds' p-values combine by Bonferroni (3 folds: 3/20)
    assert det["fold_p_values"] == [pytest.approx(0.05)] * 3
    assert det["p_value"] == pytest.approx(0.15)
    assert det["permutation_scheme"].startswith("trained critic on shuffled held-out rows")
    assert "null_mi_raw" not in det
    assert det["ci_kind"] == "bias-aware (learning curve)"
    lc = det["ci_learning_curve"]
    assert lc["full"] == det["mi_raw"] and lc["half"] < lc["full"] + 0.05
    # the upper end adds the extrapolated shortfall of the bound and its uncertainty
    assert lc["shortfall_stderr"] > 0
    assert det["ci_high"] == pytest.approx(
        det["mi_raw"] + lc["shortfall"] + 1.959964 * (det["stderr"] + lc["shortfall_stderr"]),
        abs=1e-4)
    assert det["ci_low"] <= 0.5 <= det["ci_high"] and det["ci_low"] <= r.mi <= det["ci_high"]
    ind = synthetic.independent(1000, 1, 1, seed=4)
    r = mitool.estimate(frame_of(ind), "x", "y", "smile", neural=cfg, seed=1, inference=InferenceSpec(permutations=19))
    assert r.result("smile").details["p_value"] > 0.05


def test_infonce_interval_is_a_lower_bound_and_the_gate_refuses_it(runner, tmp_path):
    from mitool.cli import app

    d = synthetic.gaussian(600, 1, 1, mi=0.5, seed=3)
    path = tmp_path / "g.csv"
    d.to_frame().to_csv(path, index=False)
    r = mitool.estimate(path, "x", "y", "infonce", neural=__import__("mitool.estimators.config",
                                          fromlist=["NeuralConfig"]).NeuralConfig(steps=100), inference=InferenceSpec(bootstrap=5))
    det = r.result("infonce").details
    assert det["ci_kind"] == "lower bound only" and det["ci_high"] is None
    out = runner.invoke(app, ["estimate", str(path), "--x", "x", "--y", "y", "-e", "infonce",
                              "--steps", "100", "--fail-above", "1", "--gate-on", "ci"])
    assert out.exit_code == 2
    assert "lower bound only" in out.stderr and "-e gcmi" in out.stderr


def test_cross_fitted_neural_test_combines_each_folds_exact_p_value():
    """Summing the folds' observed readouts and comparing with sums of their shuffles is not
    an exact test (the folds' critics were trained on each other's true pairings, so their
    observed values move together while their shuffles do not: 0.105 false positives at
    0.05 over 200 seeds, benchmarks/neural_null.py). Each fold's own test is exact; the
    reported p-value combines them by Bonferroni (valid under any dependence)."""
    from mitool.estimators.base import EstimatorResult
    from mitool.inference import attach_inference

    rng = np.random.default_rng(0)
    nulls = [list(rng.standard_normal(99)) for _ in range(3)]
    observed = [1.1, 1.1, 1.1]  # each fold: 11-18% of its null is above 1.1
    fold_p = [p_value(o, n) for o, n in zip(observed, nulls, strict=True)]
    pooled_null = list(np.sum(nulls, axis=0) / 3)
    r = EstimatorResult("smile", 0.0, 0.0, details={
        "mi_raw": 1.1, "permutation_statistic": 1.1, "null_mi_raw": pooled_null,
        "fold_permutation_statistic": observed, "fold_null_mi_raw": nulls})
    attach_inference(r, None, RunOptions(), InferenceSpec(99, 0))
    assert p_value(1.1, pooled_null) < 0.05  # the pooled sum calls this dependence
    assert r.details["fold_p_values"] == fold_p
    assert all(0.1 < p < 0.25 for p in fold_p)
    assert r.details["p_value"] == pytest.approx(min(1.0, 3 * min(fold_p)))
    assert r.details["p_value"] > 0.3
    assert "fold_null_mi_raw" not in r.details  # raw draws stay out of the JSON


def test_smile_reports_its_folds_p_values_on_real_data():
    d = synthetic.gaussian(600, 1, 1, mi=0.5, seed=3)
    r = mitool.estimate(d.to_frame(), "x", "y", "smile", seed=3, inference=InferenceSpec(permutations=20)).result("smile")
    ps = r.details["fold_p_values"]
    assert len(ps) == 3 and all(p == pytest.approx(1 / 21) for p in ps)
    assert r.details["p_value"] == pytest.approx(3 / 21)  # the floor with 3 folds, 20 draws
    assert "Bonferroni" in r.details["permutation_scheme"]
