"""One seed helper for everything random in mitool (numpy, python, torch)."""

from __future__ import annotations

import random

import numpy as np


def seed_everything(seed: int) -> np.random.Generator:
    """Seed python, numpy and (if already imported or importable) torch; return a numpy Generator.

    torch is seeded only when it is installed; importing it here is fine because every caller
    that needs reproducible torch already pays for the import.
    """
    random.seed(seed)
    np.random.seed(seed % (2**32))
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a hard dependency
        pass
    else:
        torch.manual_seed(seed)
    return np.random.default_rng(seed)
