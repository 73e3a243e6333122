"""How the rows are shared out: training rows fit the critic, a validation slice of them
drives early stopping, and held-out rows give the reported estimate (and nothing else).

With ``folds = K > 1`` (cross-fitting) the rows are cut into K folds; each fold is held out
once, read by a critic trained (and early-stopped) on the other K−1 folds only, so every row
contributes to the estimate and each critic trains on (K−1)/K of the rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mitool.estimators.config import (  # noqa: F401 - the split sizes live with the config
    MIN_ROWS,
    MIN_VALIDATION,
    NeuralConfig,
    Split,
    resolve_folds,
    split_sizes,
)


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


def fold_splits(config: NeuralConfig, n_rows: int, seed: int) -> list[RowSplit]:
    """One RowSplit per critic: a single split, or one per fold when cross-fitting."""
    k = resolve_folds(config.folds, n_rows)
    if k <= 1:
        return [split_rows(split_sizes(config, n_rows), n_rows, seed)]
    order = np.random.default_rng(seed).permutation(n_rows)
    folds = np.array_split(order, k)
    out = []
    for f, held in enumerate(folds):
        fit = np.concatenate([folds[g] for g in range(k) if g != f])
        n_val = int(round(fit.size * config.validation)) if config.validation > 0 else 0
        out.append(RowSplit(fit[n_val:], fit[:n_val], held))
    return out
