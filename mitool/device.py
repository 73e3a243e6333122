"""Choosing the torch device and thread count."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mitool.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    import torch


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


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask, not the machine's count)."""
    import os

    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


_HEAP_BOUNDED = False
MMAP_THRESHOLD = 1 << 17  # bytes: glibc's own default, before it adapts it upwards


def bound_heap() -> None:
    """Make glibc return large freed blocks to the system (Linux/glibc only; once).

    glibc raises its mmap threshold when the first big block is freed, so every later big
    temporary (the 16 MB activations of a readout pass) comes from the heap, which fragments
    and does not shrink: reading a critic out on 500,000 held-out rows peaked at 3.4 GB RSS
    for 0.3 GB of live data. Pinning the threshold keeps the peak at the live data
    (benchmarks/scale.py: 1,000,000 rows, default estimate)."""
    global _HEAP_BOUNDED
    if _HEAP_BOUNDED:
        return
    _HEAP_BOUNDED = True
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, MMAP_THRESHOLD)  # -3: M_MMAP_THRESHOLD
    except (OSError, AttributeError):  # not glibc (musl, ...): nothing to tune
        pass
