"""Checking and resolving the neural settings before any work: bad values raise a
UsageError with the fix in the message.
"""

from __future__ import annotations

import torch

from mitool.estimators.config import NeuralConfig, parse_hidden  # noqa: F401 - its home


def resolve_critic(name: str, config: NeuralConfig) -> str:
    """``auto``: separable for InfoNCE (all B x B pairs cost one matrix product, and its
    ceiling is log of the number of candidates), concat for the DV/NWJ/JSD family."""
    if config.critic == "auto":
        return "separable" if name == "infonce" else "concat"
    return config.critic


def choose_threads(config: NeuralConfig, device: torch.device) -> int:
    """Torch CPU threads; default 1 (measured, benchmarks/neural_speed.py).

    On an idle 2-core machine 2 threads are ~1.5x faster for a 128x128 critic, but as soon as
    another process uses a core, OpenMP's spinning threads collapse to 5-8x SLOWER than one
    thread (65 vs 500 steps/s). One thread is the robust default; ``threads`` overrides it.
    """
    if config.threads is not None:
        return max(1, int(config.threads))
    return 1
