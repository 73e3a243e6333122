"""Checking and resolving the neural settings before any work: bad values raise a
UsageError with the fix in the message.
"""

from __future__ import annotations

import math

import torch

from mitool.errors import UsageError
from mitool.estimators.config import NeuralConfig
from mitool.estimators.neural.critics import ACTIVATIONS, CRITICS, TRANSFORMS
from mitool.estimators.neural.readouts import READOUTS
from mitool.estimators.neural.splits import MIN_ROWS, MIN_VALIDATION, split_sizes


def parse_hidden(text: str) -> tuple[int, ...]:
    """Hidden layer sizes from "128,128" or "128x2" (or a single "64")."""
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


def validate_config(config: NeuralConfig, n_rows: int) -> None:
    """Raise UsageError, with the fix in the message, for settings that cannot work."""
    hidden = parse_hidden(config.hidden) if isinstance(config.hidden, str) else config.hidden
    if not hidden or any(int(h) <= 0 for h in hidden):
        raise UsageError(f"hidden sizes must be positive integers, got {config.hidden!r}")
    if config.critic not in CRITICS + ("auto",):
        raise UsageError(
            f"unknown critic {config.critic!r}; choose one of: auto, {', '.join(CRITICS)}"
        )
    if config.activation not in ACTIVATIONS:
        raise UsageError(
            f"unknown activation {config.activation!r}; choose one of: {', '.join(ACTIVATIONS)}"
        )
    if config.readout not in READOUTS:
        raise UsageError(f"unknown readout {config.readout!r}; choose one of: dv, nwj")
    if config.transform not in TRANSFORMS:
        raise UsageError(
            f"unknown transform {config.transform!r}; choose one of: {', '.join(TRANSFORMS)}"
        )
    if config.epochs is None and config.steps <= 0:
        raise UsageError(f"--steps must be a positive integer, got {config.steps}")
    if config.epochs is not None and not (config.epochs > 0 and math.isfinite(config.epochs)):
        raise UsageError(f"--epochs must be positive, got {config.epochs}")
    if not (config.lr > 0 and math.isfinite(config.lr)):
        raise UsageError(f"--lr must be a positive number, got {config.lr}")
    if config.folds is not None and (not isinstance(config.folds, int) or config.folds < 1
                                     or config.folds > 20):
        raise UsageError(f"--folds must be an integer from 1 (one split) to 20, got "
                         f"{config.folds}")
    if not (0.0 < config.train_fraction <= 1.0):
        raise UsageError(f"train_fraction must be in (0, 1], got {config.train_fraction}")
    if not (0.0 < config.holdout < 1.0):
        raise UsageError(f"--holdout must be a fraction strictly between 0 and 1, got "
                         f"{config.holdout}")
    if not (0.0 <= config.validation < 1.0):
        raise UsageError(f"validation fraction must be in [0, 1), got {config.validation}")
    if config.eval_every <= 0:
        raise UsageError(f"--eval-every must be a positive integer, got {config.eval_every}")
    if config.patience < 0:
        raise UsageError(f"--patience must be 0 (no early stopping) or more, got "
                         f"{config.patience}")
    if not (0.0 < config.ema_rate <= 1.0):
        raise UsageError(f"--ema-rate must be in (0, 1], got {config.ema_rate}")
    if not config.smile_clip > 0:
        raise UsageError(f"smile clip must be positive, got {config.smile_clip}")
    if config.embed_dim <= 0:
        raise UsageError(f"embedding size must be positive, got {config.embed_dim}")
    if n_rows < MIN_ROWS:
        raise UsageError(f"neural estimators need at least {MIN_ROWS} rows, got {n_rows}")
    sp = split_sizes(config, n_rows)
    if config.validation > 0 and sp.n_val < MIN_VALIDATION:
        raise UsageError(
            f"{n_rows} rows with --holdout {config.holdout} leave {sp.n_train + sp.n_val} rows "
            f"to fit the critic, of which {sp.n_val} validation rows for early stopping; at "
            f"least {MIN_VALIDATION} validation rows are needed: lower --holdout or use more "
            "rows (held-out rows are never used to choose when to stop)"
        )
    if sp.n_heldout < 2 or sp.n_train < 2:
        raise UsageError(
            f"--holdout {config.holdout} leaves {sp.n_train} training and {sp.n_heldout} "
            f"held-out rows of {n_rows}; both need at least 2"
        )
    if config.batch_size is not None:
        if config.batch_size <= 0:
            raise UsageError(f"--batch-size must be a positive integer, got {config.batch_size}")
        if config.batch_size > sp.n_train:
            raise UsageError(
                f"--batch-size {config.batch_size} is larger than the {sp.n_train} training "
                f"rows ({n_rows} rows, holdout {config.holdout}); use --batch-size "
                f"{sp.n_train} or less"
            )
    elif sp.n_train < 2:
        raise UsageError("too few training rows for a batch")


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
