"""The IIC loss against hand-computed joint matrices, its minimum, and degenerate inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from mitool.cluster.loss import (
    iic_loss,
    iic_loss_from_joint,
    joint_matrix,
    min_possible_loss,
    mutual_information_from_joint,
)

P1 = torch.tensor([[0.8, 0.2], [0.3, 0.7]], dtype=torch.float64)
P2 = torch.tensor([[0.6, 0.4], [0.1, 0.9]], dtype=torch.float64)
# By hand: sum_i outer(p1_i, p2_i) = [[.51, .59], [.19, .71]]; symmetrised [[.51, .39], [.39, .71]];
# divided by its total 2.0:
HAND_JOINT = [[0.255, 0.195], [0.195, 0.355]]
HAND_MARGINAL = [0.45, 0.55]


def _hand_mi() -> float:
    return sum(
        HAND_JOINT[a][b] * math.log(HAND_JOINT[a][b] / (HAND_MARGINAL[a] * HAND_MARGINAL[b]))
        for a in range(2) for b in range(2)
    )


def test_joint_matrix_matches_hand_computation():
    joint = joint_matrix(P1, P2)
    assert joint.numpy() == pytest.approx(np.array(HAND_JOINT), abs=1e-12)


def test_loss_is_minus_mutual_information():
    expected = -_hand_mi()
    assert expected == pytest.approx(-0.0226162, abs=1e-6)  # the number itself, worked out once
    assert iic_loss(P1, P2).item() == pytest.approx(expected, abs=1e-12)


def test_lambda_adds_marginal_entropies():
    entropy = -sum(p * math.log(p) for p in HAND_MARGINAL)
    for lam in (0.5, 2.0):
        expected = -(_hand_mi() + (lam - 1.0) * 2 * entropy)
        assert iic_loss(P1, P2, lambda_entropy=lam).item() == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("k", [2, 3, 10])
def test_perfect_one_to_one_assignment_reaches_minus_log_k(k):
    labels = torch.arange(4 * k) % k
    onehot = torch.nn.functional.one_hot(labels, k).double()
    assert iic_loss(onehot, onehot).item() == pytest.approx(-math.log(k), abs=1e-9)
    # The joint is symmetrised, so both views must use the same cluster names: a cyclic
    # relabelling of one view is penalised (for k > 2), a swap of two names (k = 2) is not.
    shifted = onehot.roll(1, dims=1)
    expected = -math.log(k) if k == 2 else -math.log(k / 2)
    assert iic_loss(onehot, shifted).item() == pytest.approx(expected, abs=1e-9)


def test_loss_never_below_minus_log_k_on_random_inputs():
    gen = torch.Generator().manual_seed(1)
    for _ in range(20):
        a = torch.softmax(torch.randn(64, 5, generator=gen) * 3, dim=1)
        b = torch.softmax(torch.randn(64, 5, generator=gen) * 3, dim=1)
        assert iic_loss(a, b).item() >= -math.log(5) - 1e-6


@pytest.mark.parametrize("k", [2, 3, 10])
@pytest.mark.parametrize("lam", [0.6, 1.0, 1.5, 2.0])
def test_min_possible_loss_is_reached_and_never_beaten(k, lam):
    """-(2 lambda - 1) log k: a perfect assignment reaches it, random ones stay above it."""
    assert min_possible_loss(10, 2.0) == pytest.approx(-3 * math.log(10))  # -6.91, not -2.30
    labels = torch.arange(4 * k) % k
    onehot = torch.nn.functional.one_hot(labels, k).double()
    best = min_possible_loss(k, lam)
    assert iic_loss(onehot, onehot, lam).item() == pytest.approx(best, abs=1e-9)
    gen = torch.Generator().manual_seed(k)
    for _ in range(20):
        a = torch.softmax(torch.randn(64, k, generator=gen, dtype=torch.float64) * 3, dim=1)
        b = torch.softmax(torch.randn(64, k, generator=gen, dtype=torch.float64) * 3, dim=1)
        assert iic_loss(a, b, lam).item() >= best - 1e-9


@pytest.mark.parametrize("lam", [0.3, 0.5])
def test_small_lambda_makes_one_cluster_optimal(lam):
    """For lambda <= 1/2 the minimum is 0, reached by collapse; a perfect split scores worse."""
    k = 4
    assert min_possible_loss(k, lam) == 0.0
    collapsed = torch.zeros(32, k, dtype=torch.float64)
    collapsed[:, 0] = 1.0
    onehot = torch.nn.functional.one_hot(torch.arange(32) % k, k).double()
    assert iic_loss(collapsed, collapsed, lam).item() == pytest.approx(0.0, abs=1e-9)
    assert iic_loss(onehot, onehot, lam).item() >= -1e-12


def test_mutual_information_of_a_perfect_split_is_log_k():
    joint = torch.eye(5, dtype=torch.float64) / 5
    assert mutual_information_from_joint(joint).item() == pytest.approx(math.log(5), abs=1e-9)


def test_collapsed_and_uniform_outputs_carry_no_information():
    k = 4
    collapsed = torch.zeros(32, k)
    collapsed[:, 0] = 1.0  # every image in cluster 0: empty cells are clamped, not NaN
    loss = iic_loss(collapsed, collapsed)
    assert torch.isfinite(loss) and loss.item() == pytest.approx(0.0, abs=1e-6)
    uniform = torch.full((32, k), 1.0 / k)
    assert iic_loss(uniform, uniform).item() == pytest.approx(0.0, abs=1e-6)


def test_gradients_are_finite_with_empty_clusters():
    logits = torch.tensor([[10.0, -10.0, -10.0], [9.0, -9.0, -9.0]], requires_grad=True)
    p = torch.softmax(logits, dim=1)
    iic_loss(p, p).backward()
    assert torch.isfinite(logits.grad).all()


def test_joint_input_clamped_before_log():
    joint = torch.tensor([[0.5, 0.0], [0.0, 0.5]])
    assert iic_loss_from_joint(joint).item() == pytest.approx(-math.log(2), abs=1e-6)


@pytest.mark.parametrize(
    "a, b",
    [
        (torch.ones(4, 3) / 3, torch.ones(4, 2) / 2),  # different k
        (torch.ones(3) / 3, torch.ones(3) / 3),  # not (N, k)
        (torch.ones(0, 3), torch.ones(0, 3)),  # empty batch
    ],
)
def test_bad_shapes_raise(a, b):
    with pytest.raises(ValueError):
        iic_loss(a, b)
