"""k-NN estimators against analytically known MI (fixed seeds)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_selection import mutual_info_regression

from mitool.data import synthetic
from mitool.errors import UsageError
from mitool.estimators.config import KnnConfig
from mitool.estimators.discrete import plugin_mi
from mitool.estimators.knn import joint_codes, ksg_mi, mixed_mi


def test_ksg_1d_gaussian_within_005_nats():
    d = synthetic.gaussian(5000, 1, 1, mi=1.0, seed=1)
    assert ksg_mi(d.x, d.y) == pytest.approx(1.0, abs=0.05)


def test_ksg_3x3_gaussian_within_10_percent():
    d = synthetic.gaussian(5000, 3, 3, mi=1.0, seed=0)
    assert ksg_mi(d.x, d.y) == pytest.approx(1.0, rel=0.10)


def test_ksg_agrees_with_sklearn_on_1d():
    """Same algorithm, same k: within 0.02 nats on 5,000 rows (the issue's acceptance test)."""
    for seed in range(3):
        d = synthetic.gaussian(5000, 1, 1, mi=0.7, seed=seed)
        ours = ksg_mi(d.x, d.y, k=3, seed=seed)
        theirs = mutual_info_regression(d.x, d.y[:, 0], n_neighbors=3, random_state=seed)[0]
        assert abs(ours - theirs) < 0.02


def test_ksg_independent_is_near_zero():
    d = synthetic.independent(3000, 2, 2, seed=3)
    assert ksg_mi(d.x, d.y) < 0.03


def test_ksg_additive_uniform():
    d = synthetic.additive_uniform(5000, eps=0.25, seed=2)
    assert ksg_mi(d.x, d.y) == pytest.approx(d.mi, abs=0.05)


def test_ksg_is_seeded_and_clipped():
    d = synthetic.gaussian(1000, 2, 2, mi=0.3, seed=4)
    assert ksg_mi(d.x, d.y, seed=5) == ksg_mi(d.x, d.y, seed=5)
    rng = np.random.default_rng(0)
    assert ksg_mi(rng.normal(size=(50, 1)), rng.normal(size=(50, 1))) >= 0.0


def test_ksg_rejects_bad_k():
    d = synthetic.gaussian(10, 1, 1, mi=0.3, seed=4)
    with pytest.raises(UsageError, match="positive"):
        ksg_mi(d.x, d.y, k=0)
    with pytest.raises(UsageError, match="more rows than k"):
        ksg_mi(d.x, d.y, k=10)


def test_mixed_label_matches_truth():
    d = synthetic.discrete_label(5000, n_classes=4, shift=0.5, seed=5)
    assert mixed_mi(d.x, d.y[:, 0]) == pytest.approx(d.mi, abs=0.05)


def test_discrete_plugin_and_joint_codes():
    a = np.array([0, 0, 1, 1])
    assert plugin_mi(a, a) == pytest.approx(np.log(2))
    assert plugin_mi(a, np.array([0, 1, 0, 1])) == pytest.approx(0.0)
    codes = joint_codes(np.array([[0, 1], [0, 1], [1, 0], [1, 1]]))
    assert len(set(codes.tolist())) == 3 and codes[0] == codes[1]


def test_copula_transform_makes_ksg_invariant_to_monotone_maps():
    import mitool

    d = synthetic.transformed(synthetic.gaussian(3000, 2, 2, mi=0.8, seed=6), "cube", "exp")
    plain = mitool.estimate(d.to_frame(), "x*", "y*", "ksg").mi
    copula = mitool.estimate(d.to_frame(), "x*", "y*", "ksg", knn=KnnConfig(transform="copula")).mi
    assert copula == pytest.approx(0.8, rel=0.1)
    assert plain < 0.7  # the raw maps hurt plain KSG


def test_1d_marginal_counts_are_strictly_inside_the_radius():
    """The binary-search path must agree with a brute-force count, |x_i - x_j| < eps_i.

    The k-th joint neighbour sits at exactly eps in the marginal whose distance is the
    max-norm; comparing shifted bounds (p ± r) instead of distances counted it now and then.
    """
    from scipy.spatial import cKDTree

    from mitool.estimators.knn import _strict_counts, standardize

    wrong = total = 0
    for seed in range(4):
        d = synthetic.gaussian(2000, 1, 1, mi=1.0, seed=seed)
        rng = np.random.default_rng(seed)
        xs, ys = standardize(d.x, rng), standardize(d.y, rng)
        joint = np.hstack([xs, ys])
        eps = cKDTree(joint).query(joint, k=[4], p=np.inf)[0][:, 0]
        for side in (xs, ys):
            fast = _strict_counts(side, eps)
            brute = (np.abs(side[:, 0][:, None] - side[:, 0][None, :]) < eps[:, None]).sum(1) - 1
            wrong += int((fast != brute).sum())
            total += fast.size
    assert total == 16000
    assert wrong == 0


def test_ksg_reports_its_raw_value_beside_the_clipped_one():
    import mitool

    d = synthetic.independent(400, 1, 1, seed=5)
    r = mitool.estimate(d.to_frame(), "x", "y", "ksg").result("ksg")
    raw = r.details["mi_raw"]
    assert raw == pytest.approx(-0.0268, abs=1e-3)  # a negative bias near 0 stays visible
    assert r.mi == 0.0
    d = synthetic.gaussian(400, 1, 1, mi=0.5, seed=5)
    r = mitool.estimate(d.to_frame(), "x", "y", "ksg").result("ksg")
    assert r.details["mi_raw"] == r.mi > 0.3


@pytest.mark.parametrize("dx,dy", [(1, 1), (2, 3), (8, 8)])
def test_brute_force_and_kdtree_give_identical_answers(dx, dy):
    d = synthetic.gaussian(1500, dx, dy, mi=0.8, seed=dx + dy) if dx == dy else None
    if d is None:
        rng = np.random.default_rng(3)
        x = rng.normal(size=(1500, dx))
        y = x[:, :1] + rng.normal(size=(1500, dy))
    else:
        x, y = d.x, d.y
    a = ksg_mi(x, y, k=3, seed=1, clip=False, search="kdtree")
    b = ksg_mi(x, y, k=3, seed=1, clip=False, search="brute")
    assert a == b  # the same distances and strict counts, bit for bit
    labels = (x[:, 0] > 0).astype(int) + (x[:, -1] > 1)
    assert mixed_mi(y, labels, search="kdtree", clip=False) == mixed_mi(
        y, labels, search="brute", clip=False)


def test_the_search_is_chosen_by_dimension_and_reported():
    import mitool

    lo = synthetic.gaussian(800, 2, 2, mi=0.5, seed=0)
    hi = synthetic.gaussian(800, 10, 10, mi=0.5, seed=0)
    r_lo = mitool.estimate(lo.to_frame(), "x*", "y*", "ksg").result("ksg")
    r_hi = mitool.estimate(hi.to_frame(), "x*", "y*", "ksg").result("ksg")
    assert r_lo.details["neighbour_search"] == "kdtree"
    assert r_hi.details["neighbour_search"] == "brute"


def test_cpu_and_torch_distance_kernels_agree_exactly():
    """The CPU path (scipy cdist) and the torch kernel used on CUDA give the same float64s,
    so the estimate does not depend on the device."""
    import torch

    from mitool.estimators.neighbours import _cheb, _cheb_np

    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(37, 20)), rng.normal(size=(211, 20))
    assert np.array_equal(_cheb_np(a, b), _cheb(torch.from_numpy(a), torch.from_numpy(b)).numpy())


@pytest.mark.parametrize("case", ["gaussian", "strong", "cauchy", "ties", "tiny", "big"])
def test_grid_search_gives_the_kdtree_answer_bit_for_bit(case):
    """The compiled quantile grid (one column against one) must find the same k-th
    neighbour distances and strict counts as the kd-tree, whatever the marginals."""
    from scipy.spatial import cKDTree

    from mitool.estimators.knn_grid import ksg_grid

    rng = np.random.default_rng(7)
    n = {"tiny": 4, "big": 60_000}.get(case, 3000)
    x = rng.normal(size=n)
    y = 0.5 * x + rng.normal(size=n)
    if case == "strong":
        y = x + 1e-3 * rng.normal(size=n)
    elif case == "cauchy":  # heavy tails: most quantile bins are far apart
        x, y = rng.standard_cauchy(n), rng.standard_cauchy(n) + x
    elif case == "ties":  # many exact ties, no jitter: distances of 0 included
        x, y = np.round(x, 1), np.round(y, 1)
    k = 3
    eps, nx, ny = ksg_grid(x, y, k)
    joint = np.column_stack([x, y])
    want = cKDTree(joint).query(joint, k=[k + 1], p=np.inf)[0][:, 0]
    assert np.array_equal(eps, want)
    for side, got in ((x, nx), (y, ny)):
        if n <= 3000:
            brute = (np.abs(side[:, None] - side[None, :]) < eps[:, None]).sum(1)
            brute -= eps > 0  # the point itself is inside any positive radius
            assert np.array_equal(got, brute)
    a = ksg_mi(x[:, None], y[:, None], k=k, seed=2, clip=False, search="grid")
    b = ksg_mi(x[:, None], y[:, None], k=k, seed=2, clip=False, search="kdtree")
    assert a == b


def test_grid_is_the_search_for_one_column_against_one_and_only_there():
    import mitool
    from mitool.errors import UsageError

    one = synthetic.gaussian(800, 1, 1, mi=0.5, seed=0)
    r = mitool.estimate(one.to_frame(), "x*", "y*", "ksg").result("ksg")
    assert r.details["neighbour_search"] == "grid"
    assert r.mi == pytest.approx(0.5, abs=0.08)
    two = synthetic.gaussian(800, 2, 2, mi=0.5, seed=0)
    with pytest.raises(UsageError, match="one continuous column against one"):
        mitool.estimate(two.to_frame(), "x*", "y*", "ksg", knn=KnnConfig(search="grid"))


def test_grid_search_threads_give_the_same_answer():
    """Spans on several threads (the default) and one thread (a pairs worker) agree."""
    from mitool.estimators import neighbours

    d = synthetic.gaussian(50_000, 1, 1, mi=1.0, seed=4)
    many = ksg_mi(d.x, d.y, clip=False)
    neighbours.set_threads(1)
    try:
        one = ksg_mi(d.x, d.y, clip=False)
    finally:
        neighbours.set_threads(None)
    assert many == one
    assert many == pytest.approx(1.0, abs=0.02)


def test_integer_digamma_matches_scipy():
    """KSG's ψ at integers, from one cumulative sum (no scipy.special import)."""
    from scipy.special import digamma as scipy_digamma

    from mitool.estimators.knn import digamma

    n = np.arange(1, 300_001)
    assert np.max(np.abs(digamma(n) - scipy_digamma(n))) < 1e-11
    assert float(digamma(1)) == pytest.approx(-0.5772156649015329, abs=1e-15)
    with pytest.raises(ValueError):
        digamma(np.array([0.5]))
