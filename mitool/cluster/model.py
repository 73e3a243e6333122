"""A small CNN sized to the image, with IIC heads: k clusters and an over-clustering head.

The backbone halves the feature map until it is at most 4x4 and flattens it (flattening kept
more than global pooling on digits; see the calibration notes). Each head has several
sub-heads (independent linear + softmax layers); the lowest-loss one gives the answer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import torch


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to rebuild the network (saved as plain metadata beside the weights)."""

    channels: int
    image_size: int
    k: int
    overcluster: int  # 0 = no over-clustering head
    subheads: int
    widths: tuple[int, ...] = (32, 64, 128)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["widths"] = list(self.widths)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "ModelSpec":
        return cls(
            channels=int(d["channels"]), image_size=int(d["image_size"]), k=int(d["k"]),
            overcluster=int(d["overcluster"]), subheads=int(d["subheads"]),
            widths=tuple(int(w) for w in d["widths"]),
        )


def build_model(spec: ModelSpec) -> "torch.nn.Module":
    """The network for ``spec`` (classes defined lazily so this module imports without torch)."""
    import torch
    from torch import nn

    def block(c_in: int, c_out: int) -> list[nn.Module]:
        return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                nn.ReLU(inplace=True)]

    class ClusterNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            layers: list[nn.Module] = block(spec.channels, spec.widths[0])
            size, width, stage = spec.image_size, spec.widths[0], 1
            while size > 4:  # conv + 2x2 max-pool until the map is at most 4x4
                nxt = spec.widths[min(stage, len(spec.widths) - 1)]
                layers += block(width, nxt) + [nn.MaxPool2d(2)]
                size, width, stage = size // 2, nxt, stage + 1
            if stage < len(spec.widths):  # tiny images: still reach the last width
                layers += block(width, spec.widths[-1])
                width = spec.widths[-1]
            self.backbone = nn.Sequential(*layers, nn.Flatten())
            with torch.no_grad():
                n_features = self.backbone(
                    torch.zeros(2, spec.channels, spec.image_size, spec.image_size)
                ).shape[1]
            self.main = nn.ModuleList(nn.Linear(n_features, spec.k) for _ in range(spec.subheads))
            self.over = nn.ModuleList(
                nn.Linear(n_features, spec.overcluster) for _ in range(spec.subheads)
            ) if spec.overcluster > 0 else nn.ModuleList()

        def forward(self, x: torch.Tensor, head: str = "main") -> torch.Tensor:
            """x: (B, C, S, S) -> (subheads, B, k_head) cluster probabilities."""
            features = self.backbone(x)  # (B, F)
            heads = self.main if head == "main" else self.over
            return torch.stack([torch.softmax(h(features), dim=1) for h in heads])

    return ClusterNet()
