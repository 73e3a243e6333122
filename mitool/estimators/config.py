"""Settings of the neural estimators (shared by the library API and the CLI)."""

from __future__ import annotations

from dataclasses import dataclass

CRITICS = ("concat", "separable")  # statistics networks (neural.critics builds them)
ACTIVATION_NAMES = ("relu", "elu", "gelu", "tanh")
NEURAL_TRANSFORMS = ("standardize", "copula", "asinh", "copula+asinh")  # per column: MI kept
READOUTS = ("dv", "nwj")  # KL bounds that read MI out of a JSD-trained critic
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
    # seconds for the whole estimate (--budget): the cheap estimators run first and take what
    # they need, then the learned critics train until the time left runs out (each stops at
    # its share and reads out its best checkpoint); None: no limit (--steps bounds training)
    budget: float | None = None

    def check_budget(self) -> None:
        """The budget alone (the use case checks it before any work, neural or not)."""
        from mitool.errors import UsageError

        if self.budget is not None and not self.budget > 0:
            raise UsageError(f"{{param}} must be a positive number of seconds, got {self.budget}",
                             parameter="budget", function="NeuralConfig")

    def validate(self, n_rows: int) -> None:
        """Raise UsageError, with the fix in the message, for settings that cannot work on
        ``n_rows`` rows (before any training)."""
        import math

        from mitool.errors import UsageError
        self.check_budget()
        hidden = parse_hidden(self.hidden) if isinstance(self.hidden, str) else self.hidden
        if not hidden or any(int(h) <= 0 for h in hidden):
            raise UsageError(f"hidden sizes must be positive integers, got {self.hidden!r}",
                             function="NeuralConfig", parameter="hidden")
        if self.critic not in CRITICS + ("auto",):
            raise UsageError(
                f"unknown critic {self.critic!r}; choose one of: auto, {', '.join(CRITICS)}"
            )
        if self.activation not in ACTIVATION_NAMES:
            raise UsageError(
                f"unknown activation {self.activation!r}; choose one of: {', '.join(ACTIVATION_NAMES)}"
            )
        if self.readout not in READOUTS:
            raise UsageError(f"unknown readout {self.readout!r}; choose one of: dv, nwj")
        if self.transform not in NEURAL_TRANSFORMS:
            raise UsageError(
                f"unknown transform {self.transform!r}; choose one of: {', '.join(NEURAL_TRANSFORMS)}"
            )
        if self.epochs is None and self.steps <= 0:
            raise UsageError(f"{{param}} must be a positive integer, got {self.steps}",
                                 function="NeuralConfig", parameter="steps")
        if self.epochs is not None and not (self.epochs > 0 and math.isfinite(self.epochs)):
            raise UsageError(f"{{param}} must be positive, got {self.epochs}",
                                 function="NeuralConfig", parameter="epochs")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise UsageError(f"{{param}} must be a positive number, got {self.lr}",
                                 function="NeuralConfig", parameter="lr")
        if self.folds is not None and (not isinstance(self.folds, int) or self.folds < 1
                                         or self.folds > 20):
            raise UsageError(f"{{param}} must be an integer from 1 (one split) to 20, got "
                             f"{self.folds}", function="NeuralConfig", parameter="folds")
        if not (0.0 < self.train_fraction <= 1.0):
            raise UsageError(f"train_fraction must be in (0, 1], got {self.train_fraction}")
        if not (0.0 < self.holdout < 1.0):
            raise UsageError(f"{{param}} must be a fraction strictly between 0 and 1, got "
                             f"{self.holdout}", function="NeuralConfig", parameter="holdout")
        if not (0.0 <= self.validation < 1.0):
            raise UsageError(f"validation fraction must be in [0, 1), got {self.validation}")
        if self.eval_every <= 0:
            raise UsageError(f"{{param}} must be a positive integer, got {self.eval_every}",
                                 function="NeuralConfig", parameter="eval_every")
        if self.patience < 0:
            raise UsageError(f"{{param}} must be 0 (no early stopping) or more, got "
                             f"{self.patience}", function="NeuralConfig", parameter="patience")
        if not (0.0 < self.ema_rate <= 1.0):
            raise UsageError(f"{{param}} must be in (0, 1], got {self.ema_rate}",
                                 function="NeuralConfig", parameter="ema_rate")
        if not self.smile_clip > 0:
            raise UsageError(f"smile clip must be positive, got {self.smile_clip}")
        if self.embed_dim <= 0:
            raise UsageError(f"embedding size must be positive, got {self.embed_dim}")
        if n_rows < MIN_ROWS:
            raise UsageError(f"neural estimators need at least {MIN_ROWS} rows, got {n_rows}")
        sp = split_sizes(self, n_rows)
        if self.validation > 0 and sp.n_val < MIN_VALIDATION:
            raise UsageError(
                f"{n_rows} rows with --holdout {self.holdout} leave {sp.n_train + sp.n_val} rows "
                f"to fit the critic, of which {sp.n_val} validation rows for early stopping; at "
                f"least {MIN_VALIDATION} validation rows are needed: lower --holdout or use more "
                "rows (held-out rows are never used to choose when to stop)"
            )
        if sp.n_heldout < 2 or sp.n_train < 2:
            raise UsageError(
                f"--holdout {self.holdout} leaves {sp.n_train} training and {sp.n_heldout} "
                f"held-out rows of {n_rows}; both need at least 2"
            )
        if self.batch_size is not None:
            if self.batch_size <= 0:
                raise UsageError(f"{{param}} must be a positive integer, got {self.batch_size}",
                                 function="NeuralConfig", parameter="batch_size")
            if self.batch_size > sp.n_train:
                raise UsageError(
                    f"--batch-size {self.batch_size} is larger than the {sp.n_train} training "
                    f"rows ({n_rows} rows, holdout {self.holdout}); use --batch-size "
                    f"{sp.n_train} or less"
                )
        elif sp.n_train < 2:
            raise UsageError("too few training rows for a batch")


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
                             function="KnnConfig", parameter="k")
        if self.transform is not None and self.transform not in KNN_TRANSFORMS:
            raise UsageError(f"unknown transform '{self.transform}'; choose standardize or "
                             "copula", function="KnnConfig", parameter="transform")
        if self.search not in METHODS:
            raise UsageError(f"unknown neighbour search '{self.search}'; choose from "
                             f"{', '.join(METHODS)}", function="KnnConfig", parameter="neighbours")


def parse_hidden(text: str) -> tuple[int, ...]:
    """Hidden layer sizes from "128,128" or "128x2" (or a single "64")."""
    from mitool.errors import UsageError

    s = str(text).strip().lower().replace(" ", "")
    try:
        if "x" in s:
            width, _, depth = s.partition("x")
            sizes = (int(width),) * int(depth)
        else:
            sizes = tuple(int(p) for p in s.split(",") if p != "")
    except ValueError:
        sizes = ()
    if not sizes or any(h <= 0 for h in sizes) or any(h > 100_000 for h in sizes):
        raise UsageError(
            f"cannot parse hidden sizes {text!r}: use positive layer widths like '128,128' "
            "or '128x2' (width x depth)"
        )
    return sizes


MIN_ROWS = 20
MIN_VALIDATION = 2  # a concat critic needs a second row to form a marginal pair


@dataclass
class Split:
    n_train: int
    n_val: int
    n_heldout: int


def split_sizes(config: NeuralConfig, n_rows: int) -> Split:
    """Sizes of one split (with folds: the fold with the most held-out rows)."""
    folds = resolve_folds(config.folds, n_rows)
    if folds > 1:
        n_heldout = -(-n_rows // folds)  # ceil
    else:
        n_heldout = int(round(n_rows * config.holdout))
    n_fit = n_rows - n_heldout
    n_val = int(round(n_fit * config.validation)) if config.validation > 0 else 0
    return Split(n_fit - n_val, n_val, n_heldout)
