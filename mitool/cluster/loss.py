"""The IIC objective: negative (entropy-weighted) mutual information of paired cluster assignments.

Pure function on tensors, no state. Reference: Ji, Henriques & Vedaldi (2019) and their
official code; the lambda weight is explained in docs/cluster.md.
"""

from __future__ import annotations

import math
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import torch

# Floor for joint-matrix entries before the log (as the official code: float epsilon).
EPS = sys.float_info.epsilon


def joint_matrix(p1: "torch.Tensor", p2: "torch.Tensor") -> "torch.Tensor":
    """Symmetrised, normalised joint distribution of two soft assignments.

    p1, p2: (N, k) rows of probabilities for an image and its perturbed copy -> (k, k).
    """
    if p1.dim() != 2 or p1.shape != p2.shape:
        raise ValueError(f"expected two (N, k) tensors of equal shape, got {tuple(p1.shape)} "
                         f"and {tuple(p2.shape)}")
    if p1.shape[0] == 0 or p1.shape[1] == 0:
        raise ValueError("cannot build a joint matrix from an empty batch")
    joint = p1.transpose(0, 1) @ p2  # (k, k): sum over the batch of outer products
    joint = (joint + joint.transpose(0, 1)) / 2
    return joint / joint.sum()


def iic_loss_from_joint(joint: "torch.Tensor", lambda_entropy: float = 1.0) -> "torch.Tensor":
    """-sum P (log P - lambda log Pi - lambda log Pj) for a normalised (k, k) joint matrix.

    Equals -(I(z; z') + (lambda - 1)(H(z) + H(z'))); its minimum is ``min_possible_loss``
    (-log k for lambda = 1, reached by a perfect one-to-one assignment into equally sized
    clusters). Entries are clamped (not written in place) before the log so empty cells give
    finite gradients.
    """
    import torch

    joint = joint.clamp_min(EPS)
    p_i = joint.sum(dim=1, keepdim=True)  # (k, 1) marginal of the first view
    p_j = joint.sum(dim=0, keepdim=True)  # (1, k) marginal of the second view
    return -(joint * (torch.log(joint) - lambda_entropy * torch.log(p_i)
                      - lambda_entropy * torch.log(p_j))).sum()


def min_possible_loss(k: int, lambda_entropy: float = 1.0) -> float:
    """The lowest value ``iic_loss_from_joint`` can take for k clusters and weight lambda.

    With the symmetrised joint P (both marginals equal p) the loss is H(P) - 2 lambda H(p), and
    H(P) >= H(p), with equality when both views always agree (P diagonal). So for a given
    marginal the minimum is (1 - 2 lambda) H(p). For lambda > 1/2 it falls as H(p) grows:
    -(2 lambda - 1) log k, at k equally used clusters (-log k for lambda = 1, -3 log k for
    lambda = 2). For lambda <= 1/2 it is 0, reached by putting every image in one cluster:
    such a lambda rewards collapse (the CLI refuses it).
    """
    return -max(0.0, 2.0 * lambda_entropy - 1.0) * math.log(k)


def mutual_information_from_joint(joint: "torch.Tensor") -> "torch.Tensor":
    """I(z; z') in nats of a normalised (k, k) joint matrix (clamped like the loss)."""
    return -iic_loss_from_joint(joint, 1.0)


def iic_loss(p1: "torch.Tensor", p2: "torch.Tensor", lambda_entropy: float = 1.0) -> "torch.Tensor":
    """IIC loss of a batch of paired soft assignments p1, p2: (N, k) -> scalar tensor."""
    return iic_loss_from_joint(joint_matrix(p1, p2), lambda_entropy)
