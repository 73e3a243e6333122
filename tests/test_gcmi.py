"""gcmi against analytic values: Gaussians at several dimensions, independence, monotone maps."""

from __future__ import annotations

import numpy as np
import pytest

import mitool
from mitool.data import synthetic
from mitool.inference import InferenceSpec


def gcmi(d, **kw):
    return mitool.estimate(d.to_frame(), "x*", "y*", "gcmi", **kw).result("gcmi")


@pytest.mark.parametrize("dim,mi,structure", [(1, 0.5, "paired"), (3, 1.0, "paired"),
                                              (10, 2.0, "paired"), (5, 1.0, "dense"),
                                              (20, 1.0, "sparse")])
def test_exact_on_gaussians_at_any_dimension(dim, mi, structure):
    est = [gcmi(synthetic.gaussian(4000, dim, dim, mi=mi, structure=structure, seed=s)).mi
           for s in range(3)]
    assert np.mean(est) == pytest.approx(mi, abs=max(0.03, 0.03 * mi))


def test_bias_correction_removes_the_dxdy_over_2n_excess():
    """20 x 20 independent columns, N = 1,000: the plug-in is 400/2000 = 0.2 nats high."""
    raw, plug = [], []
    for s in range(5):
        r = gcmi(synthetic.independent(1000, 20, 20, seed=s))
        raw.append(r.details["mi_raw"])
        plug.append(r.details["mi_plugin"])
    assert np.mean(plug) == pytest.approx(0.2, abs=0.03)
    assert abs(np.mean(raw)) < 0.02


def test_monotone_maps_change_nothing():
    d = synthetic.gaussian(3000, 3, 3, mi=1.0, seed=4)
    plain = gcmi(d).mi
    warped = gcmi(synthetic.transformed(d, "cube", "exp")).mi
    assert warped == pytest.approx(plain, abs=1e-9)  # ranks are all it sees


def test_analytic_p_value_is_calibrated_and_powerful():
    null = [gcmi(synthetic.independent(300, 2, 2, seed=s)).details["p_value_analytic"]
            for s in range(200)]
    assert 0.02 <= np.mean(np.array(null) < 0.05) <= 0.09
    dep = gcmi(synthetic.gaussian(300, 2, 2, mi=0.2, seed=1))
    assert dep.details["p_value_analytic"] < 1e-4


def test_a_lower_bound_for_one_column_pairs_and_blind_to_rings():
    rng = np.random.default_rng(0)
    t = rng.uniform(0, 2 * np.pi, 4000)
    import pandas as pd

    ring = pd.DataFrame({"x": np.cos(t) + 0.05 * rng.normal(size=4000),
                         "y": np.sin(t) + 0.05 * rng.normal(size=4000)})
    g = mitool.estimate(ring, "x", "y", "gcmi,ksg")
    assert g.result("gcmi").details["lower_bound"] is True
    assert g.result("gcmi").mi < 0.05 < 0.5 < g.result("ksg").mi  # no linear trace at all


def gaussian_view_of_label_mixture(n_classes: int = 4, shift: float = 0.5) -> float:
    """What gcmi converges to on ``synthetic.discrete_label``: X's normal scores
    z = Phi^-1(F(X)) (F the mixture's CDF) have variance 1, so with the label as indicator
    columns the one canonical correlation is R^2 = sum_c p_c E[z | c]^2 (the between-class
    share of the variance), and gcmi -> -1/2 log(1 - R^2)."""
    from scipy.integrate import quad
    from scipy.special import ndtri

    starts = np.arange(n_classes) * shift

    def z(x):
        return ndtri(np.clip(x - starts, 0, 1).sum() / n_classes)

    means = [quad(z, a, a + 1, limit=200)[0] for a in starts]  # each class is U(a, a + 1)
    r2 = float(np.mean(np.square(means)))
    return -0.5 * np.log(1 - r2)


def test_discrete_side_and_permutations():
    d = synthetic.discrete_label(3000, n_classes=4, seed=2)
    r = mitool.estimate(d.to_frame(), "x", "label", "gcmi", inference=InferenceSpec(permutations=50, bootstrap=30))
    g = r.result("gcmi")
    # The Gaussian-channel view of this uniform mixture is 0.6826 nats (true MI 0.866): at
    # N = 400,000 gcmi gives 0.682; at N = 3,000 over seeds 0-29 mean 0.685, sd 0.0064,
    # range 0.674-0.698, and 0.679 at seed 2. +-0.03 is about 4.5 sd.
    limit = gaussian_view_of_label_mixture()
    assert limit == pytest.approx(0.6826, abs=1e-4) and limit < d.mi - 0.15
    assert g.mi == pytest.approx(limit, abs=0.03)
    assert g.details["dims"] == [1, 3] and g.details["p_value"] == pytest.approx(1 / 51)
    assert g.details["ci_low"] < g.mi < g.details["ci_high"]


def test_a_many_level_category_needs_no_indicator_matrix(monkeypatch):
    """Above DENSE_INDICATOR_CELLS the level indicators are not built (4,043 levels x 336k
    rows would be 10.9 GB); the group-mean path gives the dense path's numbers."""
    from mitool.estimators import gcmi
    from mitool.estimators.base import PreparedData

    rng = np.random.default_rng(4)
    codes = rng.integers(0, 60, 4000).astype(float)
    y = np.column_stack([np.sin(codes) + rng.normal(size=4000), rng.normal(size=4000)])
    data = PreparedData(codes[:, None], y, ["c"], ["y0", "y1"], np.array([True]),
                        np.array([False, False]))
    dense = gcmi.gcmi_statistic(data)
    monkeypatch.setattr(gcmi, "DENSE_INDICATOR_CELLS", 0)
    monkeypatch.setattr(gcmi, "gaussian_scores", _no_indicators(gcmi.gaussian_scores))
    fast = gcmi.gcmi_statistic(data)
    for key in ("mi_raw", "mi_plugin", "p_value_analytic", "chi2"):
        assert fast[key] == pytest.approx(dense[key], rel=1e-9, abs=1e-12)
    assert fast["dims"] == dense["dims"] == [59, 2] and fast["df"] == dense["df"]
    assert dense["mi_raw"] > 0.2


def _no_indicators(scores):
    def guarded(values, discrete):
        assert not np.asarray(discrete).any(), "level indicators were built"
        return scores(values, discrete)
    return guarded
