"""The IIC objective: negative (entropy-weighted) mutual information of paired cluster assignments.

Pure function on tensors, no state. Reference: Ji, Henriques & Vedaldi (2019) and their
official code; the lambda weight is explained in docs/cluster.md.
"""

from __future__ import annotations

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

    Equals -(I(z; z') + (lambda - 1)(H(z) + H(z'))); its minimum for lambda = 1 is -log k,
    reached by a perfect one-to-one assignment into equally sized clusters. Entries are
    clamped (not written in place) before the log so empty cells give finite gradients.
    """
    import torch

    joint = joint.clamp_min(EPS)
    p_i = joint.sum(dim=1, keepdim=True)  # (k, 1) marginal of the first view
    p_j = joint.sum(dim=0, keepdim=True)  # (1, k) marginal of the second view
    return -(joint * (torch.log(joint) - lambda_entropy * torch.log(p_i)
                      - lambda_entropy * torch.log(p_j))).sum()


def iic_loss(p1: "torch.Tensor", p2: "torch.Tensor", lambda_entropy: float = 1.0) -> "torch.Tensor":
    """IIC loss of a batch of paired soft assignments p1, p2: (N, k) -> scalar tensor."""
    return iic_loss_from_joint(joint_matrix(p1, p2), lambda_entropy)
