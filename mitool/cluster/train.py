"""Training the IIC heads and reading out the clustering.

One epoch = one pass over the images for the over-clustering head, then one for the main
head (the paper's alternation). Every batch holds ``batch_size`` distinct images, each
repeated ``repeats`` times; both views are augmented and forwarded separately so batch-norm
statistics stay per view. Losses stay on the device; ``.item()`` only at logging points.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mitool.cluster.augment import AugmentConfig, augment
from mitool.cluster.loss import iic_loss, iic_loss_from_joint
from mitool.errors import TrainingDivergedError

if TYPE_CHECKING:  # pragma: no cover
    import torch

Progress = Callable[[int, int, dict], None]


@dataclass
class TrainConfig:
    """Optimiser and batch settings; defaults chosen with benchmarks/cluster.py on 2 CPU cores."""

    epochs: int = 25
    batch_size: int = 64  # distinct images per batch (times repeats = samples per view)
    repeats: int = 4
    lr: float = 1e-3
    lambda_entropy: float = 1.0
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    eval_passes: int = 2  # augmented passes used to score sub-heads after training


def _batches(n: int, batch_size: int, device: "torch.device") -> list["torch.Tensor"]:
    """A random permutation of range(n) cut into batches (last short one merged if tiny)."""
    import torch

    order = torch.randperm(n, device=device)
    cuts = list(range(0, n, batch_size))
    if len(cuts) > 1 and n - cuts[-1] < batch_size // 2:
        cuts.pop()  # fold a small tail into the previous batch: tiny batches give noisy joints
    return [order[a:b] for a, b in zip(cuts, cuts[1:] + [n], strict=True)]


def _pair(images: "torch.Tensor", idx: "torch.Tensor", cfg: TrainConfig):
    """Two independently augmented views of the batch, each image repeated: 2 x (B*r, C, S, S)."""
    x = images[idx].repeat(cfg.repeats, 1, 1, 1)
    return augment(x, cfg.augment), augment(x, cfg.augment)


def train(
    model: "torch.nn.Module",
    images: "torch.Tensor",
    cfg: TrainConfig,
    heads: tuple[str, ...] = ("over", "main"),
    progress: Progress | None = None,
) -> list[float]:
    """Train ``model`` on images (N, C, S, S) on their device; return main-head loss per epoch."""
    import torch

    n = images.shape[0]
    optimiser = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    steps_per_pass = len(_batches(n, cfg.batch_size, images.device))
    total = cfg.epochs * steps_per_pass * len(heads)
    done = 0
    history: list[float] = []
    model.train()
    for epoch in range(cfg.epochs):
        for head in heads:
            running = torch.zeros((), device=images.device)
            for idx in _batches(n, cfg.batch_size, images.device):
                v1, v2 = _pair(images, idx, cfg)
                p1 = model(v1, head)  # (H, B*r, k): per-view forward keeps BN stats per view
                p2 = model(v2, head)
                loss = sum(iic_loss(a, b, cfg.lambda_entropy) for a, b in zip(p1, p2, strict=True))
                loss = loss / p1.shape[0]  # mean over sub-heads
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                running = running + loss.detach()
                done += 1
            if head == "main":
                mean_loss = (running / steps_per_pass).item()  # one sync per epoch
                if not math.isfinite(mean_loss):
                    raise TrainingDivergedError(
                        f"IIC loss became {mean_loss} in epoch {epoch + 1}; try a smaller --lr"
                    )
                history.append(mean_loss)
            if progress is not None:
                fields = {"stage": "training", "epoch": f"{epoch + 1}/{cfg.epochs}"}
                if history:
                    fields["loss"] = history[-1]
                progress(done, total, fields)
    return history


def score_subheads(
    model: "torch.nn.Module", images: "torch.Tensor", cfg: TrainConfig
) -> list[float]:
    """IIC loss of each main sub-head on fresh augmented pairs of the whole set (lower = better).

    The joint matrix is accumulated over all batches and passes before the loss, so the score
    is the dataset-level mutual information, not a mean of noisy per-batch values. Uses no labels.
    """
    import torch

    model.eval()
    joint = None
    with torch.no_grad():
        for _ in range(max(1, cfg.eval_passes)):
            for idx in _batches(images.shape[0], cfg.batch_size, images.device):
                v1, v2 = _pair(images, idx, cfg)
                p1, p2 = model(v1, "main"), model(v2, "main")  # (H, B*r, k)
                batch_joint = torch.einsum("hbi,hbj->hij", p1, p2)  # (H, k, k)
                joint = batch_joint if joint is None else joint + batch_joint
        assert joint is not None
        joint = (joint + joint.transpose(1, 2)) / 2
        joint = joint / joint.sum(dim=(1, 2), keepdim=True)
        losses = torch.stack([iic_loss_from_joint(j, cfg.lambda_entropy) for j in joint])
    return [float(v) for v in losses.cpu().tolist()]


def predict(
    model: "torch.nn.Module", images: "torch.Tensor", subhead: int, batch_size: int = 1024
) -> tuple["torch.Tensor", "torch.Tensor"]:
    """Cluster and confidence (max probability) of each clean image, one sub-head: (N,), (N,)."""
    import torch

    model.eval()
    probs = []
    with torch.no_grad():
        for start in range(0, images.shape[0], batch_size):
            probs.append(model(images[start:start + batch_size], "main")[subhead])  # (b, k)
    p = torch.cat(probs)  # (N, k)
    confidence, cluster = p.max(dim=1)
    return cluster, confidence
