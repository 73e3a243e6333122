"""Settings of the neural estimators (shared by the library API and the CLI)."""

from __future__ import annotations

from dataclasses import dataclass

CROSSFIT_MAX_ROWS = 100_000  # from here on, the default is one split (folds=None)


def resolve_folds(folds: int | None, n_rows: int) -> int:
    """The number of cross-fitting folds for ``n_rows`` rows (``folds=None``: by the rows)."""
    if folds is not None:
        return folds
    return 3 if n_rows < CROSSFIT_MAX_ROWS else 1


@dataclass
class NeuralConfig:
    """Training settings for the neural MI estimators (mine, mine-biased, jsd, nwj, infonce, smile).

    Defaults are the ones benchmarks/accuracy.py found best on 2 CPU cores; see
    docs/benchmarks.md.
    """

    steps: int = 3000  # maximum optimiser steps (early stopping may end sooner)
    epochs: float | None = None  # alternative to steps: passes over the training rows
    batch_size: int | None = None  # None = min(256, training rows)
    lr: float = 1e-3
    hidden: tuple[int, ...] = (128, 128)
    critic: str = "auto"  # auto (separable for infonce, else concat) | concat | separable
    activation: str = "relu"  # relu | elu | gelu | tanh
    embed_dim: int = 32  # output size of f and g for the separable critic
    holdout: float = 0.5  # fraction of rows held out for the reported estimate (folds == 1)
    # cross-fitting: every row held out once by a critic trained on the other folds; 3 folds
    # cut bmi's tune-half MAE from 0.044 to 0.037 at 3x the time (docs/benchmarks.md).
    # None = by the rows: 3 below CROSSFIT_MAX_ROWS, else one split (half of 10^5 rows held
    # out already pins the readout down; three trainings would triple the time for nothing)
    folds: int | None = None
    validation: float = 0.2  # fraction of the non-held-out rows watched by early stopping
    # train on this fraction of the training rows only (validation and held-out rows stay the
    # same): the learning curve behind the neural interval (mitool.inference.neural_ci)
    train_fraction: float = 1.0
    eval_every: int = 100  # steps between validation evaluations
    patience: int = 10  # evaluations without improvement before stopping (0 = never stop)
    min_delta: float = 1e-3  # nats: smaller validation gains do not count as improvement
    ema_rate: float = 0.01  # MINE's moving-average rate for the bias-corrected gradient
    smile_clip: float = 5.0  # SMILE's clip of the critic in the partition term
    readout: str = "dv"  # KL bound used to read MI out of the JSD critic: dv | nwj
    transform: str = "copula"  # copula | standardize | asinh | copula+asinh (per column: MI unchanged)
    # one more input per side, its log mean square: bmi tune-half MAE 0.098 -> 0.044 (the
    # Student-t tasks, where X and Y share a scale, from 0/9 to 7/9 within tolerance)
    radius: bool = True
    eval_shifts: int = 16  # concat critic: marginal pairs per row at validation points
    final_shifts: int = 128  # concat critic: marginal pairs per row in the held-out readout
    negatives: int = 63  # concat critic, InfoNCE training: negatives per positive
    device: str = "auto"  # auto | cpu | cuda
    threads: int | None = None  # torch CPU threads; None = mitool's choice


KNN_TRANSFORMS = ("standardize", "copula")


@dataclass(frozen=True)
class KnnConfig:
    """Settings of the k-NN estimators (ksg, sklearn).

    ``transform``: None is plain KSG on standardized columns (the reference estimator); a
    name (standardize, copula) applies to ksg and the neural estimators alike. ``search``:
    ksg's neighbour search, auto (by dimension), grid (one column against one), kdtree or
    brute; the same answer either way.
    """

    k: int = 3
    transform: str | None = None
    search: str = "auto"

    def validate(self) -> None:
        from mitool.errors import UsageError
        from mitool.estimators.neighbours import METHODS

        if not isinstance(self.k, int) or isinstance(self.k, bool) or self.k < 1:
            raise UsageError(f"{{param}} must be a positive integer, got {self.k}",
                             parameter="k")
        if self.transform is not None and self.transform not in KNN_TRANSFORMS:
            raise UsageError(f"unknown transform '{self.transform}'; choose standardize or "
                             "copula", parameter="transform")
        if self.search not in METHODS:
            raise UsageError(f"unknown neighbour search '{self.search}'; choose from "
                             f"{', '.join(METHODS)}", parameter="neighbours")
