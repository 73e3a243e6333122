"""Statistics networks (critics) T(x, y) and the input encoding they read.

Two critics: ``concat`` (an MLP on [x, y]; can represent any T, costs one forward pass per
pair) and ``separable`` (f(x)ᵀg(y); all B² pairs of a batch cost one matrix product, which
makes all-pairs bounds and held-out evaluation cheap).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
from scipy.special import ndtri

ACTIVATIONS = {"relu": nn.ReLU, "elu": nn.ELU, "gelu": nn.GELU, "tanh": nn.Tanh}


@dataclass
class Encoder:
    """Column encoding fitted on the training rows only, then applied to every row.

    Every map is a function of each column alone (monotone per column, so MI is unchanged):
    ``standardize`` (training mean/sd), ``copula`` (training empirical CDF -> standard-normal
    quantiles: heavy tails and odd margins stop hurting), ``asinh`` (asinh of the robustly
    standardised value: tails kept, but on a log scale) and ``copula+asinh`` (both, two
    inputs per column). ``radius`` adds one input per side, the log of the mean square of
    the side's robustly standardised columns: a function of X (or Y) alone, so MI is
    unchanged, that hands the critic dependence through a shared scale (Student-t) directly.
    Discrete columns (integer codes) are one-hot encoded; the number of levels is taken from
    all rows, which carries no information about the dependence between X and Y.
    """

    discrete: np.ndarray  # (d,) bool
    levels: list[int]  # per discrete column: number of codes
    mean: np.ndarray  # (d,) for continuous columns, after the power-of-two prescale
    scale: np.ndarray  # (d,)
    sorted_train: list[np.ndarray | None]  # copula only: sorted training values per column
    transform: str
    exponent: np.ndarray | None = None  # (d,) power of two that brings each column near 1
    center: np.ndarray | None = None  # (d,) median (robust standardisation for asinh/radius)
    spread: np.ndarray | None = None  # (d,) IQR / 1.349, sd where that is 0
    radius: bool = False

    @classmethod
    def fit(cls, values: np.ndarray, discrete: np.ndarray, train_rows: np.ndarray,
            transform: str = "standardize", radius: bool = False) -> Encoder:
        discrete = np.asarray(discrete, dtype=bool)
        m = np.abs(values).max(axis=0) if values.size else np.ones(values.shape[1])
        exponent = np.frexp(np.where(m > 0, m, 1.0))[1]  # mean/std never overflow (1e300)
        train = np.ldexp(values[train_rows], -exponent[None, :])
        levels = [int(values[:, j].max()) + 1 if discrete[j] else 0 for j in range(values.shape[1])]
        mean = train.mean(axis=0)
        scale = train.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        q25, center, q75 = np.percentile(train, [25, 50, 75], axis=0)
        spread = (q75 - q25) / 1.349
        spread = np.where(spread > 0, spread, scale)
        copula = transform in ("copula", "copula+asinh")
        sorted_train = [
            np.sort(train[:, j]) if (copula and not discrete[j]) else None
            for j in range(values.shape[1])
        ]
        use_radius = bool(radius and (~discrete).sum() >= 1)
        return cls(discrete, levels, mean, scale, sorted_train, transform, exponent, center,
                   spread, use_radius)

    @property
    def width(self) -> int:
        """Number of network inputs this encoder produces."""
        per = 2 if self.transform == "copula+asinh" else 1
        return int(sum(self.levels[j] if self.discrete[j] else per
                       for j in range(len(self.discrete))) + (1 if self.radius else 0))

    def __call__(self, values: np.ndarray) -> np.ndarray:
        """(n, d) raw values -> (n, width) float32 network input."""
        parts = []
        robust = []
        for j in range(values.shape[1]):
            col = values[:, j]
            if self.discrete[j]:
                codes = col.astype(np.int64).clip(0, self.levels[j] - 1)
                parts.append(np.eye(self.levels[j], dtype=np.float32)[codes])
                continue
            if self.exponent is not None:
                col = np.ldexp(col, -int(self.exponent[j]))  # the scale the fit saw
            r = (col - self.center[j]) / self.spread[j] if self.center is not None else col
            robust.append(r)
            ref = self.sorted_train[j]
            if ref is not None:
                # mid-rank of each value among the training values, ties averaged
                lo = np.searchsorted(ref, col, side="left")
                hi = np.searchsorted(ref, col, side="right")
                u = (0.5 * (lo + hi) + 0.5) / (len(ref) + 1)
                parts.append(ndtri(u).astype(np.float32)[:, None])
            elif self.transform == "standardize":
                z = (col - self.mean[j]) / self.scale[j]
                parts.append(z.astype(np.float32)[:, None])
            if self.transform in ("asinh", "copula+asinh"):
                parts.append(np.arcsinh(r).astype(np.float32)[:, None])
        if self.radius and robust:
            sq = np.mean(np.square(np.column_stack(robust)), axis=1)
            parts.append(np.log(sq + 1e-3).astype(np.float32)[:, None])  # (n, 1)
        return np.concatenate(parts, axis=1)


def mlp(d_in: int, hidden: tuple[int, ...], d_out: int, activation: str) -> nn.Sequential:
    act = ACTIVATIONS[activation]
    layers: list[nn.Module] = []
    for h in hidden:
        layers += [nn.Linear(d_in, h), act()]
        d_in = h
    layers.append(nn.Linear(d_in, d_out))
    return nn.Sequential(*layers)


class ConcatCritic(nn.Module):
    """T(x, y) = MLP([x, y])."""

    def __init__(self, dx: int, dy: int, hidden: tuple[int, ...], activation: str = "relu"):
        super().__init__()
        self.net = mlp(dx + dy, hidden, 1, activation)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        # x (B, dx), y (B, dy) -> (B,)
        return self.net(torch.cat([x, y], dim=1)).squeeze(1)

    def all_pairs(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        # x (B, dx), y (C, dy) -> (B, C); costs B*C forward passes
        b, c = x.shape[0], y.shape[0]
        xx = x[:, None, :].expand(b, c, x.shape[1])
        yy = y[None, :, :].expand(b, c, y.shape[1])
        return self.net(torch.cat([xx, yy], dim=2)).squeeze(2)


class SeparableCritic(nn.Module):
    """T(x, y) = f(x)ᵀ g(y): all pairs of a batch in one matrix product."""

    def __init__(self, dx: int, dy: int, hidden: tuple[int, ...], embed_dim: int = 32,
                 activation: str = "relu"):
        super().__init__()
        self.f = mlp(dx, hidden, embed_dim, activation)
        self.g = mlp(dy, hidden, embed_dim, activation)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return (self.f(x) * self.g(y)).sum(dim=1)

    def all_pairs(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        # x (B, dx), y (C, dy) -> (B, C)
        return self.f(x) @ self.g(y).T


def make_critic(kind: str, dx: int, dy: int, hidden: tuple[int, ...], activation: str,
                embed_dim: int) -> nn.Module:
    if kind == "concat":
        return ConcatCritic(dx, dy, hidden, activation)
    if kind == "separable":
        return SeparableCritic(dx, dy, hidden, embed_dim, activation)
    raise ValueError(f"unknown critic {kind!r}")
