"""Tiny uint8 image batches for the clustering tests (no files)."""

from __future__ import annotations

import numpy as np


def bars(n: int = 24, size: int = 8):
    """Noisy horizontal (even) and vertical (odd) bars: uint8 torch tensor (N, 1, S, S)."""
    import torch

    rng = np.random.default_rng(0)
    x = rng.integers(0, 40, size=(n, 1, size, size)).astype(np.uint8)
    for i in range(n):
        r = int(rng.integers(1, size - 1))
        if i % 2:
            x[i, 0, :, r] = 255
        else:
            x[i, 0, r, :] = 255
    return torch.from_numpy(x)
