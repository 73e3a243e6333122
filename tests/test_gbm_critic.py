"""``gbm``: the boosted classifier's critic read as a held-out DV bound (issue 24)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import mitool
from mitool.estimators import registry
from mitool.estimators.base import PreparedData
from mitool.estimators.gbm_critic import estimate
from mitool.inference import InferenceSpec


def _prep(x, y, y_discrete=False) -> PreparedData:
    x = np.asarray(x, float).reshape(len(x), -1)
    y = np.asarray(y, float).reshape(len(y), -1)
    return PreparedData(x, y, [f"x{i}" for i in range(x.shape[1])],
                        [f"y{i}" for i in range(y.shape[1])], np.zeros(x.shape[1], bool),
                        np.full(y.shape[1], y_discrete))


def _gaussian(n: int, rho: float, seed: int):
    rng = np.random.default_rng(seed)
    u = rng.standard_normal(n)
    return u, rho * u + math.sqrt(1 - rho**2) * rng.standard_normal(n)


def _plus_minus(n: int, sd: float, seed: int):
    """Y = S X + sd e with S = ±1 at random: no correlation, strong dependence."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    return x, rng.choice([-1.0, 1.0], n) * x + sd * rng.standard_normal(n)


def _plus_minus_truth(sd: float, draws: int = 400_000) -> float:
    """Monte Carlo E log p(x,y)/p(x)p(y) from the exact densities: p(y|x) the two-mode
    mixture 1/2 N(x, sd^2) + 1/2 N(-x, sd^2), p(y) = 1/2 N(0, 1 + sd^2) * 2 halves."""
    x, y = _plus_minus(draws, sd, 99)

    def norm(v, m, s):
        return np.exp(-0.5 * ((v - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))

    cond = 0.5 * norm(y, x, sd) + 0.5 * norm(y, -x, sd)
    marg = norm(y, 0.0, math.sqrt(1 + sd**2))
    return float(np.mean(np.log(cond / marg)))


def test_a_gaussian_pair_reads_close_below_the_truth():
    x, y = _gaussian(3000, 0.9, 0)  # truth -1/2 ln(1 - 0.81) = 0.830
    r = estimate(_prep(x, y), seed=0)
    assert 0.6 <= r.mi <= 0.88, r.details
    assert r.details["folds"] == 3 and len(r.details["fold_mi_raw"]) == 3
    cost = r.details["cost"]  # the cost model: rounds, seconds a round, pairs read
    assert cost["steps"] == sum(r.details["boosting_iterations"]) > 0
    assert cost["readout_pairs"] == 3000 * (r.details["readout_shifts"] + 1)
    assert cost["seconds_per_step"] > 0 and cost["training_seconds"] <= r.seconds


def test_independent_columns_read_about_zero():
    rng = np.random.default_rng(1)
    r = estimate(_prep(rng.standard_normal(3000), rng.standard_normal(3000)), seed=0)
    assert r.mi <= 0.03, r.details
    assert r.details["mi_raw"] < 0.03


def test_it_sees_a_dependence_the_gaussian_view_misses():
    from mitool.estimators.base import RunOptions
    from mitool.estimators.gcmi import run as gcmi_run

    truth = _plus_minus_truth(0.1)
    assert truth == pytest.approx(1.68, abs=0.02)
    data = _prep(*_plus_minus(3000, 0.1, 2))
    assert gcmi_run("gcmi", data, RunOptions()).mi < 0.05
    assert estimate(data, seed=0).mi >= 0.5 * truth


def test_the_same_seed_gives_the_same_number_and_a_discrete_side_works():
    rng = np.random.default_rng(3)
    label = rng.integers(0, 3, 1500)
    x = label[:, None] * 1.5 + rng.standard_normal((1500, 3))
    data = _prep(x, label, y_discrete=True)
    a, b = estimate(data, seed=4), estimate(data, seed=4)
    assert a.mi == b.mi and a.mi > 0.3


def test_registered_as_a_held_out_bound_tested_by_its_critic():
    e = registry.get("gbm")
    assert e.kind == registry.LOWER_BOUND and e.test == registry.TEST_CRITIC
    assert e.interval == registry.CI_LOWER_ONLY
    # the default's learned critic (issue 24), in auto's maximum as a bound may be
    assert e.auto_rank is not None and e.default_rank == 1 and e.worth_running is not None


def _student_mi(nu: float, dx: int, dy: int) -> float:
    """I(X;Y) of a multivariate Student-t with identity dispersion: all of it in the shared
    scale (G(a) = ln Γ(a/2) - a/2 ψ(a/2); as bmi's Student-t tasks)."""
    from scipy.special import digamma, gammaln

    def g(a):
        return gammaln(a / 2) - a / 2 * digamma(a / 2)

    return float(g(nu) + g(nu + dx + dy) - g(nu + dx) - g(nu + dy))


def test_the_t_copula_critic_reads_a_shared_scale():
    """Dependence only through a shared chi-square scale: the Gaussian copula sees nothing,
    trees on per-column scores learn it slowly; the Student-t copula critic (its ν chosen by
    likelihood on training rows) brings the bound to the truth, and off a t copula (a
    Gaussian) it is not fitted at all."""
    from mitool.estimators.gbm_critic import _TCopulaRatio

    rng = np.random.default_rng(0)
    g = rng.standard_normal((4000, 4))
    w = np.sqrt(rng.chisquare(2, 4000) / 2)[:, None]
    t = g / w  # 2x2 Student-t, 2 degrees of freedom
    truth = _student_mi(2, 2, 2)
    assert truth == pytest.approx(0.1931, abs=1e-4)
    r = estimate(_prep(t[:, :2], t[:, 2:]), seed=0)
    assert r.mi == pytest.approx(truth, abs=0.04)
    without = estimate(_prep(t[:, :2], t[:, 2:]), seed=0, options={"tcopula": False})
    assert without.mi < r.mi - 0.02
    assert _TCopulaRatio.fit(g[:, :2], g[:, 2:], 0) is None  # Gaussian: the Gaussian copula


def test_through_estimate_with_a_p_value_and_a_one_sided_interval():
    x, y = _gaussian(1000, 0.6, 5)
    frame = pd.DataFrame({"a": x, "b": y})
    res = mitool.estimate(frame, x="a", y="b", estimators="gbm", seed=0,
                          inference=InferenceSpec(permutations=19, bootstrap=5))
    d = res.result("gbm").details
    assert d["kind"] == registry.LOWER_BOUND
    assert d["p_value"] >= 3 / 20  # Bonferroni floor: 3 folds x 1/20
    assert len(d["fold_p_values"]) == 3
    assert d["ci_kind"] == "lower bound only" and d["ci_high"] is None
    assert 0 < d["ci_low"] < res.result("gbm").mi


def test_the_mixture_critic_stops_adding_modes_only_after_they_stop_paying():
    """The mode search stops after ``GMM_PATIENCE`` mode counts that lower no BIC (the large
    mixtures cost the most): on a Gaussian it stops at the small ones, on four well-apart
    modes it still reaches four."""
    from sklearn.mixture import GaussianMixture

    from mitool.estimators import gbm_critic

    fitted = []
    real_fit = GaussianMixture.fit

    def counting_fit(self, z, y=None):
        fitted.append(self.n_components)
        return real_fit(self, z)

    rng = np.random.default_rng(0)
    centres = np.array([[-4, -4, 0.0], [4, -4, 0], [-4, 4, 0], [4, 4, 0]])
    modes = centres[rng.integers(0, 4, 3000)] + rng.standard_normal((3000, 3))
    gauss = rng.standard_normal((3000, 3)) @ np.array([[1, 0.5, 0], [0, 1, 0.5], [0, 0, 1]])
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(GaussianMixture, "fit", counting_fit)
        four = gbm_critic._GmmRatio(modes[:, :2], modes[:, 2:], seed=0)
        fitted_four, fitted[:] = list(fitted), []
        one = gbm_critic._GmmRatio(gauss[:, :2], gauss[:, 2:], seed=0)
    assert four.k == 4
    assert one.k == 1
    assert max(fitted) == 3  # k = 2 and 3 lowered no BIC: 4, 6 and 8 never fitted
    assert sorted(set(fitted_four)) == [1, 2, 3, 4, 6, 8]  # two counts past the best, then no more
