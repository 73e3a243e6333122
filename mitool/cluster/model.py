"""A small CNN sized to the image, with IIC heads: k clusters and an over-clustering head.

The stem is one convolution, strided from 16 px (2, or 4 from 40 px) so that no wide layer runs
at the full resolution; then conv + 2x2 max-pool stages until the map is at most 4x4. The head
reads that map either flattened (``flat``: keeps where things are, best for centred objects
such as the 8x8 digits) or pooled over positions (``pool``: global average and max, for
objects that move around the frame, where position is a nuisance). Each head has several
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
    stem_stride: int = 1  # models saved before this field existed used 1 and "flat"
    head: str = "flat"  # "flat" or "pool" (see the module docstring)
    standardize: bool = False  # each image to mean 0, std 1 first: paper/ink level, contrast

    def __post_init__(self) -> None:
        if self.head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {self.head!r}")
        if self.stem_stride not in (1, 2, 4):
            raise ValueError(f"stem_stride must be 1, 2 or 4, got {self.stem_stride}")

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
            stem_stride=int(d.get("stem_stride", 1)), head=str(d.get("head", "flat")),
            # "standardise": the key's spelling in model files saved before it was renamed
            standardize=bool(d.get("standardize", d.get("standardise", False))),
        )


HEADS = ("flat", "pool")


def default_stem_stride(image_size: int) -> int:
    """1 below 16 px (the 8x8 digits keep their full-resolution stem), 2 up to 32 px, 4 from
    40 px: the first wide stage then runs at 8-16 px whatever the working side."""
    return 1 if image_size < 16 else 2 if image_size < 40 else 4


def build_model(spec: ModelSpec) -> "torch.nn.Module":
    """The network for ``spec`` (classes defined lazily so this module imports without torch)."""
    import torch
    from torch import nn

    def block(c_in: int, c_out: int, stride: int = 1) -> list[nn.Module]:
        size = 3 if stride <= 2 else 5  # the kernel covers every input pixel at stride 4 too
        return [nn.Conv2d(c_in, c_out, size, stride=stride, padding=size // 2, bias=False),
                nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]

    class GlobalPool(nn.Module):
        """(B, C, h, w) -> (B, 2C): mean and max over positions, so position is not read."""

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.cat((x.mean(dim=(2, 3)), x.amax(dim=(2, 3))), dim=1)

    class ClusterNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            stride = spec.stem_stride
            layers: list[nn.Module] = block(spec.channels, spec.widths[0], stride)
            size = -(-spec.image_size // stride)  # the stem's output side (ceil)
            width, stage = spec.widths[0], 1
            while size > 4:  # conv + 2x2 max-pool until the map is at most 4x4
                nxt = spec.widths[min(stage, len(spec.widths) - 1)]
                layers += block(width, nxt) + [nn.MaxPool2d(2)]
                size, width, stage = size // 2, nxt, stage + 1
            if stage < len(spec.widths):  # tiny images: still reach the last width
                layers += block(width, spec.widths[-1])
                width = spec.widths[-1]
            reader = nn.Flatten() if spec.head == "flat" else GlobalPool()
            self.backbone = nn.Sequential(*layers, reader)
            with torch.no_grad():
                n_features = self.backbone(
                    torch.zeros(2, spec.channels, spec.image_size, spec.image_size)
                ).shape[1]
            self.main = nn.ModuleList(nn.Linear(n_features, spec.k) for _ in range(spec.subheads))
            self.over = nn.ModuleList(
                nn.Linear(n_features, spec.overcluster) for _ in range(spec.subheads)
            ) if spec.overcluster > 0 else nn.ModuleList()

        def features(self, x: torch.Tensor) -> torch.Tensor:
            """x: (B, C, S, S) in [0, 1] -> (B, F)."""
            if spec.standardize:  # per image: removes paper level and contrast, keeps shape
                mean = x.mean(dim=(1, 2, 3), keepdim=True)
                std = x.std(dim=(1, 2, 3), keepdim=True)
                x = (x - mean) / (std + 0.02)
            return self.backbone(x)

        def forward(self, x: torch.Tensor, head: str = "main") -> torch.Tensor:
            """x: (B, C, S, S) -> (subheads, B, k_head) cluster probabilities."""
            features = self.features(x)  # (B, F)
            heads = self.main if head == "main" else self.over
            return torch.stack([torch.softmax(h(features), dim=1) for h in heads])

        def all_heads(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
            """Both heads from one backbone pass: name -> (subheads, B, k_head)."""
            features = self.features(x)  # (B, F)
            out = {"main": torch.stack([torch.softmax(h(features), dim=1) for h in self.main])}
            if len(self.over):
                out["over"] = torch.stack([torch.softmax(h(features), dim=1) for h in self.over])
            return out

    return ClusterNet()
