"""Training engine of the neural MI estimators (MINE, MINE-biased, JSD, NWJ, InfoNCE, SMILE).

Rows are split three ways: the critic trains on the training rows, early stopping watches a
validation slice of them, and the REPORTED estimate is evaluated on held-out rows that played
no part in training or in choosing when to stop (so it carries no selection bias and the
permutation null on the same rows is a fair comparison). Everything lives on one device as
tensors; the hot loop has no host syncs (``.item()`` only at evaluation points).
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from mitool.device import resolve_device
from mitool.errors import TrainingDivergedError, UsageError
from mitool.estimators.base import EstimatorResult, PreparedData, ProgressCallback
from mitool.estimators.config import NeuralConfig
from mitool.estimators.neural.critics import Encoder, make_critic
from mitool.estimators.neural.readouts import (
    REPORTED_READOUTS,
    SPREAD_GROUPS,
    evaluate,
    readout,
    readout_kind,
    standard_error,
)
from mitool.estimators.neural.settings import (
    choose_threads,
    parse_hidden,
    resolve_critic,
    validate_config,
)
from mitool.estimators.neural.splits import effective_batch, split_rows, split_sizes
from mitool.estimators.neural.training import train_critic

NEURAL_ESTIMATORS = ("mine", "mine-biased", "jsd", "nwj", "infonce", "smile")
BOUND_NAMES = {
    "mine": "Donsker-Varadhan (MINE, moving-average gradient correction)",
    "mine-biased": "Donsker-Varadhan",
    "nwj": "NWJ (f-divergence)",
    "infonce": "InfoNCE",
    "smile": "SMILE (DV with clipped partition term)",
    "jsd": "Jensen-Shannon objective, KL readout",
}
CURVE_POINTS = 100


def _downsample(curve: list[dict], points: int = CURVE_POINTS) -> list[dict]:
    if len(curve) <= points:
        return curve
    keep = np.unique(np.linspace(0, len(curve) - 1, points).round().astype(int))
    return [curve[i] for i in keep]


def estimate_neural(
    name: str,
    data: PreparedData,
    config: NeuralConfig | None = None,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    permutations: int = 0,
) -> EstimatorResult:
    """Train a critic with bound ``name`` and read MI out (nats) on the held-out rows."""
    if name not in NEURAL_ESTIMATORS:
        raise UsageError(
            f"unknown neural estimator {name!r}; choose from: {', '.join(NEURAL_ESTIMATORS)}"
        )
    config = config or NeuralConfig()
    validate_config(config, data.n)
    if permutations < 0:
        raise UsageError(f"--permutations must be 0 or more, got {permutations}")
    hidden = parse_hidden(config.hidden) if isinstance(config.hidden, str) else tuple(
        int(h) for h in config.hidden)
    device = resolve_device(config.device)
    old_threads = torch.get_num_threads()
    threads = choose_threads(config, device)
    torch.set_num_threads(threads)
    try:
        return _estimate(name, data, config, hidden, seed, device, threads, progress,
                         permutations)
    finally:
        torch.set_num_threads(old_threads)


def _estimate(name, data, config, hidden, seed, device, threads, progress, permutations):
    t_start = time.perf_counter()
    sp = split_sizes(config, data.n)
    parts = split_rows(sp, data.n, seed)
    train_rows, val_rows, held_rows = parts.train, parts.validation, parts.heldout

    enc_x = Encoder.fit(data.x, data.x_discrete, train_rows, config.transform)
    enc_y = Encoder.fit(data.y, data.y_discrete, train_rows, config.transform)
    X = torch.from_numpy(enc_x(data.x)).to(device)  # (n, wx) float32
    Y = torch.from_numpy(enc_y(data.y)).to(device)  # (n, wy)

    def rows(r):
        idx = torch.from_numpy(r).to(device)
        return X[idx], Y[idx]

    x_tr, y_tr = rows(train_rows)
    x_val, y_val = rows(val_rows)  # may be empty: then no early stopping
    x_ho, y_ho = rows(held_rows)

    torch.manual_seed(seed)
    critic_kind = resolve_critic(name, config)
    separable = critic_kind == "separable"
    critic = make_critic(critic_kind, X.shape[1], Y.shape[1], hidden, config.activation,
                         config.embed_dim).to(device)
    gen = torch.Generator(device=device).manual_seed(seed)
    eval_gen = torch.Generator(device=device)

    batch = effective_batch(config, sp.n_train)
    if config.epochs is not None:
        total = max(1, math.ceil(config.epochs * sp.n_train / batch))
    else:
        total = int(config.steps)
    kind = readout_kind(name, config)
    clip = config.smile_clip

    def stats(x, y, shifts, eval_seed):
        return evaluate(critic, x, y, separable, shifts, clip, eval_gen, eval_seed)

    def validate(step: int) -> float:
        return float(readout(kind, stats(x_val, y_val, config.eval_shifts, seed + step), clip))

    warnings: list[str] = []
    early_stopping = sp.n_val > 0  # never on the held-out rows (they give the estimate)
    run = train_critic(name, critic, x_tr, y_tr, validate if early_stopping else None, config,
                       total, batch, separable, gen, progress)
    steps_run = run.steps_run

    if run.diverged_at is not None:
        if run.best_state is None:  # nothing finite to fall back to
            raise TrainingDivergedError(
                f"{name}: training diverged (non-finite critic values) by step {run.diverged_at} "
                f"before any finite evaluation; lower --lr (now {config.lr}) or try "
                "--estimator jsd/smile, which are bounded and more stable"
            )
        warnings.append(
            f"training diverged at step {run.diverged_at} (non-finite values); the estimate uses "
            f"the best critic from step {run.best_step}; consider a lower --lr"
        )
    if run.best_state is not None:
        critic.load_state_dict(run.best_state)

    # ---- final readout on the held-out rows only
    st = stats(x_ho, y_ho, config.final_shifts, seed + 1_000_003)
    mi_raw = float(readout(kind, st, clip))
    if not math.isfinite(mi_raw):
        raise TrainingDivergedError(
            f"{name}: the trained critic gives a non-finite estimate on the held-out rows; "
            f"lower --lr (now {config.lr}) or use --estimator jsd/smile"
        )
    mi = max(0.0, mi_raw)
    spread = standard_error(kind, st, clip)
    readouts = {label: float(readout(k, st, clip))
                for label, k in REPORTED_READOUTS[name].items()}

    if name == "infonce":
        candidates = float(st["cnt"].min()) + 1
        ceiling = math.log(candidates)
        ceiling_why = f"log of {int(candidates)} candidates per positive (InfoNCE)"
    else:
        ceiling = math.log(sp.n_heldout)
        ceiling_why = f"log of {sp.n_heldout} held-out rows (DV-type bound)"
    near_ceiling = mi > ceiling - 1.0

    null_mi: list[float] = []
    null_raw: list[float] = []
    if permutations:
        pgen = torch.Generator(device=device).manual_seed(seed + 7919)
        for p in range(permutations):
            perm = torch.randperm(sp.n_heldout, generator=pgen, device=device)
            stp = stats(x_ho, y_ho[perm], config.final_shifts, seed + 2_000_003 + p)
            v = float(readout(kind, stp, clip))
            null_raw.append(v)  # non-finite draws count as >= observed in the p-value
            null_mi.append(max(0.0, v) if math.isfinite(v) else v)

    # ---- warnings
    if near_ceiling:
        warnings.append(
            f"estimate {mi:.3f} nats is within 1 nat of its ceiling {ceiling:.2f} ({ceiling_why}); "
            "the true MI may be higher" + (": more rows raise the ceiling" if name != "infonce"
                                            else ": use a DV-type estimator")
        )
    converged = run.stopped_early or (
        run.best_step <= steps_run - config.patience * config.eval_every)
    if early_stopping and run.diverged_at is None and not converged:
        warnings.append(
            f"training did not converge in {steps_run} steps (validation estimate still rising "
            f"at the end); raise --steps or --lr"
        )
    if mi < 0.02:
        warnings.append(
            "estimate is ~0: X and Y may be independent, or training collapsed (heavy tails "
            "or odd marginals: try the copula transform; compare with ksg)"
        )

    seconds = time.perf_counter() - t_start
    details = {
        "bound": BOUND_NAMES[name],
        "readout": config.readout if name == "jsd" else None,
        "readouts": readouts,
        "mi_raw": mi_raw,
        "n_train": sp.n_train,
        "n_validation": sp.n_val,
        "n_heldout": sp.n_heldout,
        "steps_run": steps_run,
        "max_steps": total,
        "best_step": run.best_step,
        "stopped_early": run.stopped_early,
        "early_stopping": early_stopping,
        "ceiling": ceiling,
        "ceiling_reason": ceiling_why,
        "near_ceiling": near_ceiling,
        "spread": spread,
        "spread_kind": f"standard error across {min(SPREAD_GROUPS, sp.n_heldout // 2)} "
                       "groups of held-out rows",
        "curve": _downsample(run.curve),
        "steps_per_second": steps_run / run.loop_seconds if run.loop_seconds > 0 else None,
        "device": str(device),
        "threads": threads if device.type == "cpu" else None,
        "critic": critic_kind,
        "hidden": list(hidden),
        "batch_size": batch,
        "lr": config.lr,
        "transform": config.transform,
        "seed": seed,
    }
    if name == "mine":
        details["ema_rate"] = config.ema_rate
    if permutations:
        details["null_mi"] = null_mi
        details["null_mi_raw"] = null_raw
        details["permutation_scheme"] = "trained critic on shuffled held-out rows"
    notes = [
        f"{BOUND_NAMES[name]}; MI read out on {sp.n_heldout} held-out rows never used for "
        f"training or early stopping"
    ]
    if config.transform == "copula":
        notes.append("inputs mapped to normal scores per column (Gaussian copula; MI unchanged)")
    if not early_stopping:
        notes.append(f"early stopping is off (no validation rows): the critic after all "
                     f"{steps_run} steps is read out")
    return EstimatorResult(
        estimator=name, mi=mi, seconds=seconds, notes=notes, warnings=warnings, details=details
    )
