"""Refitting the main head on the trained features: many fresh linear heads, the best kept.

Why: with the entropy weight above 1, IIC's k-cluster head often settles where one cluster
holds two classes and another class is split in two (or two classes swap halves), with
I(z; z') stuck near 83 % of log k, while the over-clustering head, on the same features,
never mixes two classes. The features are right; the linear head is stuck, and training
longer does not free it (shapes, 3 seeds: 0.84 with early stopping, 0.86 without). A linear
head on frozen features is cheap, so after training many fresh ones are fitted with the same
IIC loss on precomputed features of augmented views; when the best is lower than the best
trained sub-head (by more than scoring noise), those with lower losses replace trained ones.
The loss, not labels, decides.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from mitool.cluster.augment import AugmentConfig, augment
from mitool.cluster.loss import iic_loss_from_joint, mutual_information_from_joint

if TYPE_CHECKING:  # pragma: no cover
    import torch


@dataclass(frozen=True)
class RefitConfig:
    """How many fresh heads, how long they train, on how many images and views."""

    heads: int = 16  # fresh linear heads, trained together as one batched tensor
    steps: int = 500  # 300 left fewer heads at the best loss; 1,000 found no better ones
    lr: float = 1e-3
    views: int = 4  # augmented views per image, featurised once
    batch_size: int = 256  # as good as 512 at half the cost
    max_images: int = 3000  # a seeded sample of the images beyond this (memory: views x n x D)
    # lambda rises from 1 to its target over this share of the steps (training does, from
    # 0.3). Off here: from frozen features a ramp led the heads into worse partitions
    # (stuck shapes heads freed 1-3 of 16 times against 7-11 without; digits' best fresh
    # head 0.86-0.92 accurate against 0.96-0.97 without; tune data, docs/benchmarks.md).
    lambda_ramp: float = 0.0
    # fresh heads are adopted only when the best beats the best trained sub-head by this share
    # of log k: more than the scoring noise of the two losses on the same views. Adopted
    # heads were as accurate or better on the tune data at gains of 0.036-0.041 log k
    # (digits), and freed stuck heads at 0.17-0.26 log k (shapes).
    margin: float = 0.01


def view_features(model: "torch.nn.Module", images: "torch.Tensor", index: "torch.Tensor",
                  aug: AugmentConfig, views: int, batch: int = 512) -> "torch.Tensor":
    """Eval-mode backbone features of ``views`` augmented copies of images[index]: (R, n, D)."""
    import torch

    from mitool.cluster.train import as_float

    model.eval()
    out = []
    with torch.no_grad():
        for _ in range(views):
            parts = [model.features(augment(as_float(images[index[i:i + batch]]), aug))
                     for i in range(0, index.shape[0], batch)]
            out.append(torch.cat(parts).float())  # (n, D)
    return torch.stack(out)  # (R, n, D)


def _probs(features: "torch.Tensor", weight: "torch.Tensor", bias: "torch.Tensor"):
    """(n, D) features, (M, D, k) weights, (M, 1, k) biases -> (M, n, k) probabilities."""
    import torch

    return torch.softmax(torch.einsum("nd,mdk->mnk", features, weight) + bias, dim=-1)


def _joints(p1: "torch.Tensor", p2: "torch.Tensor") -> "torch.Tensor":
    """(M, n, k) paired probabilities -> (M, k, k) symmetrised, normalised joint matrices."""
    import torch

    j = torch.einsum("mni,mnj->mij", p1, p2)
    j = (j + j.transpose(1, 2)) / 2
    return j / j.sum(dim=(1, 2), keepdim=True)


def fit_heads(features: "torch.Tensor", k: int, lambda_entropy: float, cfg: RefitConfig,
              generator: "torch.Generator | None" = None) -> tuple["torch.Tensor", "torch.Tensor"]:
    """Train ``cfg.heads`` fresh linear heads on (R, n, D) view features with the IIC loss:
    each step pairs two different views of a random batch. -> weights (M, D, k), biases (M, 1, k).
    """
    import torch

    r, n, d = features.shape
    if r < 2:
        raise ValueError("need at least two views to pair")
    dev = features.device
    weight = (torch.randn(cfg.heads, d, k, generator=generator, device="cpu") * 0.01).to(dev)
    weight.requires_grad_(True)
    bias = torch.zeros(cfg.heads, 1, k, device=dev, requires_grad=True)
    opt = torch.optim.Adam([weight, bias], lr=cfg.lr)
    size = min(cfg.batch_size, n)
    ramp = cfg.lambda_ramp * cfg.steps
    for i in range(cfg.steps):
        lam = lambda_entropy if lambda_entropy <= 1 or i >= ramp else \
            1.0 + (lambda_entropy - 1.0) * i / ramp
        idx = torch.randint(0, n, (size,), generator=generator).to(dev)
        a = int(torch.randint(0, r, (1,), generator=generator))
        b = (a + 1 + int(torch.randint(0, r - 1, (1,), generator=generator))) % r
        joints = _joints(_probs(features[a, idx], weight, bias),
                         _probs(features[b, idx], weight, bias))  # (M, k, k)
        loss = torch.stack([iic_loss_from_joint(j, lam) for j in joints]).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return weight.detach(), bias.detach()


def fit_seconds(d: int, k: int, cfg: RefitConfig, device: "torch.device | str" = "cpu",
                probe_steps: int = 3) -> float:
    """Expected seconds of ``fit_heads`` for D-dimensional features: a few steps on random
    features, timed (own generator: the run's random stream is left as it was)."""
    import torch

    generator = torch.Generator().manual_seed(0)
    features = torch.randn(2, cfg.batch_size, d, generator=generator).to(device)
    fit_heads(features, k, 1.0, replace(cfg, steps=1), generator)  # untimed: allocation
    start = time.perf_counter()
    fit_heads(features, k, 1.0, replace(cfg, steps=probe_steps), generator)
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / probe_steps * cfg.steps


def head_scores(features: "torch.Tensor", weight: "torch.Tensor", bias: "torch.Tensor",
                lambda_entropy: float) -> tuple[list[float], list[float]]:
    """IIC loss and I(z; z') of each head on all consecutive view pairs (0,1), (1,2), ...,
    (R-1,0) of every image, from one dataset-level joint matrix per head."""
    import torch

    r = features.shape[0]
    total = None
    with torch.no_grad():
        probs = [_probs(features[i], weight, bias) for i in range(r)]  # R x (M, n, k)
        for i in range(r):
            j = torch.einsum("mni,mnj->mij", probs[i], probs[(i + 1) % r])
            total = j if total is None else total + j
        total = (total + total.transpose(1, 2)) / 2
        total = total / total.sum(dim=(1, 2), keepdim=True)
        losses = torch.stack([iic_loss_from_joint(j, lambda_entropy) for j in total])
        mis = torch.stack([mutual_information_from_joint(j) for j in total])
    return [float(v) for v in losses.cpu()], [float(v) for v in mis.cpu()]


def linear_as_head(linear: "torch.nn.Linear") -> tuple["torch.Tensor", "torch.Tensor"]:
    """A trained sub-head (nn.Linear D -> k) as (1, D, k) weight and (1, 1, k) bias."""
    return linear.weight.detach().t().unsqueeze(0), linear.bias.detach().view(1, 1, -1)


def replacements(trained: list[float], fresh: list[float]) -> list[tuple[int, int]]:
    """(slot, fresh head) pairs so that the slots end up holding the lowest losses of both
    lists together: the best fresh head replaces the worst trained one while it is lower."""
    slots = sorted(range(len(trained)), key=lambda s: -trained[s])  # worst first
    candidates = sorted(range(len(fresh)), key=lambda m: fresh[m])  # best first
    out = []
    for slot, m in zip(slots, candidates, strict=False):
        if not fresh[m] < trained[slot]:
            break
        out.append((slot, m))
    return out


@dataclass
class RefitReport:
    """What the refit did: the trained and the fresh heads' losses, and which were replaced."""

    trained_losses: list[float]
    fresh_losses: list[float]
    replaced: list[int]  # sub-head slots now holding a fresh head
    images: int
    seconds: float

    def to_dict(self) -> dict:
        return {"trained_losses": self.trained_losses, "fresh_losses": self.fresh_losses,
                "replaced": self.replaced, "images": self.images, "seconds": self.seconds}


def refit_main_head(model: "torch.nn.Module", images: "torch.Tensor", aug: AugmentConfig,
                    lambda_entropy: float, cfg: RefitConfig,
                    index: "torch.Tensor | None" = None, seed: int = 0) -> RefitReport:
    """Fit fresh main heads on the frozen features. When the best of them beats the best
    trained sub-head by ``cfg.margin`` x log k, every fresh head with a lower loss than a
    trained sub-head takes that sub-head's place (worst replaced first). In place on ``model``.

    Trained and fresh heads are scored on the same view features, so their losses compare.
    """
    import torch

    start = time.perf_counter()
    dev = images.device
    generator = torch.Generator().manual_seed(seed)
    pool = index if index is not None else torch.arange(images.shape[0], device=dev)
    if pool.shape[0] > cfg.max_images:
        pick = torch.randperm(pool.shape[0], generator=generator)[:cfg.max_images].to(dev)
        pool = pool[pick]
    features = view_features(model, images, pool, aug, cfg.views)  # (R, n, D)
    k = int(model.main[0].out_features)
    weight, bias = fit_heads(features, k, lambda_entropy, cfg, generator)
    fresh, _ = head_scores(features, weight, bias, lambda_entropy)
    trained_w = [linear_as_head(h) for h in model.main]
    trained, _ = head_scores(features, torch.cat([w for w, _ in trained_w]),
                             torch.cat([b for _, b in trained_w]), lambda_entropy)
    k_log = math.log(k)
    adopt = min(fresh) < min(trained) - cfg.margin * k_log
    swaps = replacements(trained, fresh) if adopt else []
    with torch.no_grad():
        for slot, m in swaps:
            model.main[slot].weight.copy_(weight[m].t())
            model.main[slot].bias.copy_(bias[m, 0])
    replaced = [slot for slot, _ in swaps]
    return RefitReport(trained_losses=trained, fresh_losses=fresh, replaced=sorted(replaced),
                       images=int(pool.shape[0]), seconds=time.perf_counter() - start)
