"""How the rows are shared out: training rows fit the critic, a validation slice of them
drives early stopping, and held-out rows give the reported estimate (and nothing else).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mitool.estimators.config import NeuralConfig

MIN_ROWS = 20
MIN_VALIDATION = 2  # a concat critic needs a second row to form a marginal pair


@dataclass
class Split:
    n_train: int
    n_val: int
    n_heldout: int


def split_sizes(config: NeuralConfig, n_rows: int) -> Split:
    n_heldout = int(round(n_rows * config.holdout))
    n_fit = n_rows - n_heldout
    n_val = int(round(n_fit * config.validation)) if config.validation > 0 else 0
    return Split(n_fit - n_val, n_val, n_heldout)


def effective_batch(config: NeuralConfig, n_train: int) -> int:
    """``batch_size=None`` means min(256, training rows)."""
    return config.batch_size if config.batch_size is not None else min(256, n_train)


@dataclass
class RowSplit:
    """Row indices of the three parts (a seeded random permutation of all rows)."""

    train: np.ndarray  # (n_train,)
    validation: np.ndarray  # (n_val,)
    heldout: np.ndarray  # (n_heldout,)


def split_rows(sizes: Split, n_rows: int, seed: int) -> RowSplit:
    order = np.random.default_rng(seed).permutation(n_rows)
    a, b = sizes.n_train, sizes.n_train + sizes.n_val
    return RowSplit(order[:a], order[a:b], order[b:])
