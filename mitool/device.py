"""Choosing the torch device and thread count."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mitool.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def resolve_device(name: str = "auto") -> "torch.device":
    """Map ``auto|cpu|cuda[:N]`` to a torch.device; asking for CUDA without one is a usage error."""
    import torch

    name = (name or "auto").strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise UsageError(
                f"--device {name} was requested but CUDA is not available on this machine; "
                "use --device cpu or --device auto"
            )
        return torch.device(name)
    raise UsageError(f"unknown device '{name}'; choose one of: auto, cpu, cuda")
