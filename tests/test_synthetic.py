"""The known-MI generators: closed forms, invariances and sanity against large-N estimates."""

from __future__ import annotations

import numpy as np
import pytest

from mitool.data import synthetic
from mitool.errors import UsageError
from mitool.estimators.knn import ksg_mi


def test_paired_gaussian_closed_form():
    d = synthetic.gaussian(10, 2, 2, mi=1.2, seed=0)
    rho = d.params["rho"]
    assert d.mi == pytest.approx(-np.log(1 - rho**2), rel=1e-9)  # 2 pairs × ½ log
    assert d.mi == pytest.approx(1.2, rel=1e-9)


@pytest.mark.parametrize("structure", ["dense", "sparse"])
def test_structures_hit_the_requested_mi(structure):
    d = synthetic.gaussian(20000, 4, 4, mi=0.8, structure=structure, seed=1)
    assert d.mi == pytest.approx(0.8, rel=1e-9)
    emp = np.corrcoef(np.hstack([d.x, d.y]).T)
    assert synthetic.gaussian_mi(emp, 4) == pytest.approx(0.8, abs=0.03)


def test_transform_keeps_truth_and_changes_data():
    d = synthetic.gaussian(100, 1, 1, mi=0.5, seed=0)
    t = synthetic.transformed(d, "cube", "exp")
    assert t.mi == d.mi
    np.testing.assert_allclose(t.x, d.x**3)
    assert np.all(t.y > 0)
    with pytest.raises(UsageError):
        synthetic.transformed(d, "nope", "exp")


def test_student_t_truth_matches_ksg_at_large_n():
    d = synthetic.student_t(20000, 1, 1, rho=0.0, dof=2.0, seed=0)
    assert d.mi > 0.05  # uncorrelated but dependent through the shared scale
    assert ksg_mi(d.x, d.y) == pytest.approx(d.mi, abs=0.02)


def test_additive_uniform_formula():
    d = synthetic.additive_uniform(10, eps=0.5)
    assert d.mi == pytest.approx(0.5)  # ε − log 2ε with ε = ½


def test_label_truth_exact_for_disjoint_classes():
    d = synthetic.discrete_label(100, n_classes=4, shift=1.0, seed=0)
    assert d.mi == pytest.approx(np.log(4))  # disjoint supports: X determines the class
    assert set(d.to_frame()["label"]) <= {f"class_{i}" for i in range(4)}


def test_unreachable_mi_is_an_error():
    with pytest.raises(UsageError, match="out of reach"):
        synthetic.gaussian(10, 1, 1, mi=50.0, structure="dense")
