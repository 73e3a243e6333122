"""`auto`'s p-value, p-value floor, interval and gates (the rules of mitool.inference's
_components_inference): the components re-estimated on the same shuffles tested together by
Westfall-Young's min-p, the others' own tests combined by a weighted Bonferroni; the
interval of the maximum; the gates read those."""

from __future__ import annotations

import json

import numpy as np
import pytest

import mitool
from mitool.cli import app
from mitool.data import synthetic
from mitool.estimators.config import NeuralConfig
from mitool.inference import OWN_TEST_WEIGHT, InferenceSpec, p_value
from mitool.pvalues import cauchy_combination, min_p_permutation, weighted_bonferroni

QUICK = NeuralConfig(steps=200)


def test_cauchy_combination():
    assert cauchy_combination([0.3, 0.3, 0.3]) == pytest.approx(0.3)
    assert cauchy_combination([0.01]) == pytest.approx(0.01)
    assert cauchy_combination([0.001, 0.002]) < 0.002  # agreeing evidence adds up
    assert cauchy_combination([0.2, 0.5]) < cauchy_combination([0.2, 0.9])  # monotone
    assert 0.0 <= cauchy_combination([1e-300, 1.0 - 1e-16]) <= 1.0
    # the weakness the honest-headline issue fixes: one p = 1 vetoes the others
    assert cauchy_combination([0.0099, 0.0099, 1.0]) == pytest.approx(1.0)


@pytest.fixture(scope="module")
def dependent():
    return synthetic.gaussian(1000, 1, 1, mi=0.5, seed=4).to_frame()


@pytest.fixture(scope="module")
def auto_with_inference(dependent):
    return mitool.estimate(dependent, "x", "y", "auto", seed=1, neural=QUICK,
                           inference=InferenceSpec(permutations=39, bootstrap=20))


def test_auto_p_value_tests_its_maximum(auto_with_inference):
    r = auto_with_inference
    auto = r.result("auto").details
    # one column against one with ksg competing: the learned critic is not run (issue 24)
    assert set(auto["components"]) == {"gcmi", "ksg"}
    assert "gbm" in auto["skipped"] and "gbm" not in [x.estimator for x in r.results]
    # gcmi and ksg on the same 39 shuffles, tested together (exact): a strong dependence
    # beats every shuffle, so the p-value is the floor 1/40 and nothing dilutes it
    assert auto["permutation_scheme"] == ("the reported maximum's test: Westfall-Young "
                                          "min-p over gcmi, ksg on the same shuffles")
    assert auto["p_value"] == pytest.approx(1 / 40)
    assert auto["p_value_floor"] == pytest.approx(1 / 40)
    assert auto["permutations"] == 39


def test_auto_weights_its_own_test_families_where_the_critic_runs():
    # two columns against one: gbm and gcmi-rot run, each with a test of its own
    rng = np.random.default_rng(3)
    u = rng.standard_normal((800, 2))
    import pandas as pd

    d = pd.DataFrame({"a": u[:, 0], "b": u[:, 1],
                      "y": u[:, 0] + u[:, 1] + rng.standard_normal(800)})
    r = mitool.estimate(d, ["a", "b"], "y", "auto", seed=1, neural=QUICK,
                        inference=InferenceSpec(permutations=39))
    auto = r.result("auto").details
    assert "gbm" in auto["components"] and not auto["skipped"]
    own = [n for n in ("gcmi-rot", "gbm") if auto["components"][n]["competes"]]
    assert own == ["gcmi-rot", "gbm"]
    p_rot = auto["components"]["gcmi-rot"]["p_value"]
    # with 39 permutations gbm's test bottoms out at 3/40, 0.75 after a weight of 0.1: it
    # gets none, and its share goes to the shared shuffles
    assert [f["weight"] for f in auto["p_value_families"]] == [0.9, OWN_TEST_WEIGHT, 0.0]
    assert "weighted Bonferroni (min p/w, weights 0.9, 0.1, 0)" in auto["permutation_scheme"]
    assert "gbm's test has no weight" in auto["permutation_scheme"]
    assert "--permutations 599 or more" in auto["permutation_scheme"]
    assert auto["p_value"] == pytest.approx(weighted_bonferroni([1 / 40, p_rot], [0.9, 0.1]))
    assert auto["p_value"] <= 1 / 40 / 0.9  # never weaker than the shared shuffles alone


def test_a_family_that_cannot_reject_at_005_gives_its_share_to_the_others():
    """The weights depend on the floors (permutations and folds), never on the data."""
    from mitool.inference import family_weights

    b = 100  # shared 1/101; gcmi-rot analytic (0); gbm 3 folds: 3/101, 0.30 after 0.1
    assert family_weights([1 / (b + 1), 0.0, 3 / (b + 1)], shared=True) == [0.9, 0.1, 0.0]
    b = 599  # 3/600 = 0.005: passes 0.05 at its weight, so it keeps it
    assert family_weights([1 / (b + 1), 0.0, 3 / (b + 1)], shared=True) == \
        pytest.approx([0.8, 0.1, 0.1])
    assert family_weights([0.2, 0.3], shared=False) == [0.5, 0.5]  # no shared family


def test_min_p_is_each_statistics_own_p_value_alone():
    null = np.random.default_rng(0).normal(size=99)
    for obs in (-3.0, 0.0, 1.0, 5.0):
        assert min_p_permutation([obs], [null]) == pytest.approx(p_value(obs, null))


def test_min_p_is_exact_under_the_null_and_beats_the_raw_maximum():
    rng = np.random.default_rng(1)
    rejections = 0
    for _ in range(1000):  # two correlated statistics with very different null scales
        z = rng.standard_normal((2, 100))
        z[1] = 10 * (0.6 * z[0] + 0.8 * z[1])  # z[:, 0] observed, z[:, 1:] shuffles
        rejections += min_p_permutation(list(z[:, 0]), [z[0, 1:], z[1, 1:]]) <= 0.05
    assert 0.03 <= rejections / 1000 <= 0.065  # 5/100 attainable: at most 0.05 in theory
    # a narrow-null statistic far out in its null, a wide-null one in the middle of its own:
    # the raw maximum hides the first behind the second's scale, min-p does not
    narrow, wide = rng.normal(0, 0.01, 199), rng.normal(0, 1.0, 199)
    raw_max = p_value(max(0.1, 0.5), np.maximum(narrow, wide))
    assert raw_max > 0.2
    assert min_p_permutation([0.1, 0.5], [narrow, wide]) <= 2 / 200


def test_weighted_bonferroni():
    assert weighted_bonferroni([0.04, 0.5], [0.8, 0.2]) == pytest.approx(0.05)
    assert weighted_bonferroni([0.9, 0.001], [0.8, 0.2]) == pytest.approx(0.005)
    assert weighted_bonferroni([0.5, 0.5], [0.5, 0.5]) == 1.0
    assert weighted_bonferroni([], []) == 1.0
    # a test with no share of alpha cannot reject, however small its p-value
    assert weighted_bonferroni([0.03, 1e-9], [1.0, 0.0]) == pytest.approx(0.03)
    assert weighted_bonferroni([1e-9], [0.0]) == 1.0
    with pytest.raises(ValueError):
        weighted_bonferroni([0.1, 0.1], [1.0, -0.1])
    with pytest.raises(ValueError):
        weighted_bonferroni([0.1, 0.1], [0.8, 0.8])


def test_auto_interval_half_samples_its_maximum(auto_with_inference):
    r = auto_with_inference
    auto = r.result("auto").details
    assert auto["chosen"] in ("gcmi", "ksg")  # 1x1 Gaussian: a cheap component wins
    assert auto["ci_kind"] == "half-sampling of the maximum"
    assert auto["ci_low"] <= 0.5 <= auto["ci_high"]
    assert auto["ci_low"] <= r.mi <= auto["ci_high"]
    # the cheap competing components all got half-sampled (their draws make the maximum's)
    assert all("ci_low" in r.result(n).details for n in ("gcmi", "ksg"))


def test_auto_on_independent_data_is_not_significant():
    d = synthetic.independent(1000, 1, 1, seed=8).to_frame()
    r = mitool.estimate(d, "x", "y", "auto", seed=2, neural=QUICK,
                        inference=InferenceSpec(permutations=39))
    assert r.result("auto").details["p_value"] > 0.05


@pytest.fixture
def csv_path(tmp_path, dependent):
    path = tmp_path / "d.csv"
    dependent.to_csv(path, index=False)
    return path


def test_gates_read_autos_p_value_and_interval(runner, csv_path):
    args = ["estimate", str(csv_path), "--x", "x", "--y", "y", "-e", "auto", "--steps", "200",
            "--format", "json"]
    out = runner.invoke(app, [*args, "--fail-if-independent", "0.1", "--permutations", "39"])
    assert out.exit_code == 0, out.stderr
    doc = json.loads(out.stdout)
    check = doc["gate"]["checks"][0]
    assert check["value"] == doc["results"][0]["p_value"]
    assert "auto permutation p-value" in out.stderr
    out = runner.invoke(app, [*args, "--fail-below", "0.9", "--gate-on", "ci", "--bootstrap",
                              "20"])
    assert out.exit_code == 3  # the interval's low end is far below 0.9 nats
    doc = json.loads(out.stdout)
    low = doc["results"][0]["ci_low"]
    assert doc["gate"]["checks"][0]["value"] == low and np.isfinite(low)


def test_a_floor_above_alpha_is_refused_with_the_fix(runner, csv_path):
    out = runner.invoke(app, ["estimate", str(csv_path), "--x", "x", "--y", "y", "-e", "auto",
                              "--steps", "200", "--permutations", "9",
                              "--fail-if-independent", "0.01"])
    assert out.exit_code == 2
    assert "below the smallest p-value auto's test can give" in out.stderr


def _wave(n=4000, freq=20, seed=0):
    import pandas as pd

    rng = np.random.default_rng(seed)
    x = rng.uniform(size=n)
    return pd.DataFrame({"x": x, "y": np.sin(2 * np.pi * freq * x) + 0.05 * rng.normal(size=n)})


def test_the_learning_curve_flags_an_estimate_still_growing_with_rows():
    from mitool.estimators.base import PreparedData
    from mitool.inference import learning_curve

    df = _wave()
    data = PreparedData(df[["x"]].to_numpy(), df[["y"]].to_numpy(), ["x"], ["y"],
                        np.array([False]), np.array([False]))
    curve = learning_curve("ksg", data, 3, 0)
    assert curve["rows"] == [2000, 4000] and not curve["converged"]
    assert curve["all_rows"] - curve["half_rows"] > 0.1  # 0.49 -> 0.65: 20 waves need rows
    noisy = np.sin(2 * np.pi * data.x) + 0.3 * np.random.default_rng(1).normal(size=(4000, 1))
    calm = learning_curve("ksg", data.with_y(noisy), 3, 0)  # one wave: settled at 2,000 rows
    assert calm["converged"]
    assert learning_curve("smile", data, 3, 0) is None  # no cheap statistic to recompute
    assert learning_curve("ksg", data.subset(np.arange(900)), 3, 0) is None  # too few rows


def test_the_default_run_warns_when_its_headline_has_not_converged():
    from mitool.estimators.config import NeuralConfig

    r = mitool.estimate(_wave(), "x", "y", neural=NeuralConfig(steps=100))
    curve = r.to_dict()["learning_curve"]
    assert curve["estimator"] == r.result("auto").details["chosen"] and not curve["converged"]
    assert any("the headline has not converged" in w for w in r.warnings)
    explicit = mitool.estimate(_wave(), "x", "y", "ksg")  # -e runs are left as asked
    assert "learning_curve" not in explicit.to_dict()
