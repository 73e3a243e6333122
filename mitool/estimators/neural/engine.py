"""Training engine of the neural MI estimators (MINE, MINE-biased, JSD, NWJ, InfoNCE, SMILE).

Rows are split three ways: the critic trains on the training rows, early stopping watches a
validation slice of them, and the REPORTED estimate is evaluated on held-out rows that played
no part in training or in choosing when to stop (so it carries no selection bias and the
permutation null on the same rows is a fair comparison). Everything lives on one device as
tensors; the hot loop has no host syncs (``.item()`` only at evaluation points).
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from mitool.device import bound_heap, resolve_device
from mitool.errors import TrainingDivergedError, UsageError
from mitool.estimators.base import EstimatorResult, PreparedData, ProgressCallback, RunOptions
from mitool.estimators.config import NeuralConfig, resolve_folds
from mitool.estimators.neural.critics import Encoder, make_critic
from mitool.estimators.neural.readouts import (
    CONCAT_PAIRS,
    EVAL_BLOCK,
    REPORTED_READOUTS,
    SPREAD_GROUPS,
    evaluate,
    readout,
    readout_kind,
    readout_plan,
    standard_error,
)
from mitool.estimators.neural.settings import (
    choose_threads,
    parse_hidden,
    resolve_critic,
)
from mitool.estimators.neural.splits import RowSplit, effective_batch, fold_splits
from mitool.estimators.neural.training import TrainingRun, train_critic

BOUND_NAMES = {
    "mine": "Donsker-Varadhan (MINE, moving-average gradient correction)",
    "mine-biased": "Donsker-Varadhan",
    "nwj": "NWJ (f-divergence)",
    "infonce": "InfoNCE",
    "smile": "SMILE (DV with clipped partition term)",
    "jsd": "Jensen-Shannon objective, KL readout",
}
CURVE_POINTS = 100
VAL_ROWS = 4096  # validation readouts use at most this many rows (cost independent of N)
PERMUTATION_ROWS = 20_000  # permutation nulls use at most this many held-out rows
# marginal pairs per row in the observed statistic and in each null draw: the test stays
# exact (both are read the same way), and 100 permutations cost 1/4 of a 128-pair readout
# each (at N = 1,000 smile with 100 permutations: 31 s -> ~20 s CPU)
PERMUTATION_SHIFTS = 32


def _downsample(curve: list[dict], points: int = CURVE_POINTS) -> list[dict]:
    if len(curve) <= points:
        return curve
    keep = np.unique(np.linspace(0, len(curve) - 1, points).round().astype(int))
    return [curve[i] for i in keep]


def expected_seconds(name: str, data: PreparedData, config: NeuralConfig | None = None) -> float:
    """A quick forecast of one estimate's wall time on this machine: a few timed training
    steps and one timed readout pass, scaled to the steps, folds and readout budget."""
    config = config or NeuralConfig()
    config = dataclasses.replace(config, folds=resolve_folds(config.folds, data.n))
    hidden = parse_hidden(config.hidden) if isinstance(config.hidden, str) else tuple(
        int(h) for h in config.hidden)
    device = resolve_device(config.device)
    old = torch.get_num_threads()
    torch.set_num_threads(choose_threads(config, device))
    try:
        wx = int(data.x.shape[1]) + (1 if config.radius else 0)
        wy = int(data.y.shape[1]) + (1 if config.radius else 0)
        critic = make_critic(resolve_critic(name, config), wx, wy, hidden, config.activation,
                             config.embed_dim).to(device)
        opt = torch.optim.Adam(critic.parameters(), lr=config.lr)
        b = effective_batch(config, max(2, data.n // 2))
        xb, yb = torch.randn(b, wx, device=device), torch.randn(b, wy, device=device)
        t0 = 0.0
        for i in range(25):  # 5 untimed warm-up steps (allocations, first-call costs)
            if i == 5:
                t0 = time.perf_counter()
            loss = -critic(torch.cat([xb, xb]), torch.cat([yb, yb.roll(1, 0)])).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        per_step = (time.perf_counter() - t0) / 20
        with torch.no_grad():
            xr = torch.randn(1 << 15, wx, device=device)
            yr = torch.randn(1 << 15, wy, device=device)
            t0 = time.perf_counter()
            critic(xr, yr)
            per_pair = (time.perf_counter() - t0) / (1 << 15)
    finally:
        torch.set_num_threads(old)
    steps = config.steps if config.epochs is None else config.epochs * data.n / b
    held = data.n // max(1, config.folds)
    pairs = min(CONCAT_PAIRS, held * (config.final_shifts + 1))
    evals = steps / config.eval_every * min(VAL_ROWS, data.n) * (config.eval_shifts + 1)
    return float(max(1, config.folds) * (steps * per_step + (pairs + evals) * per_pair))


def run(name: str, data: PreparedData, opts: RunOptions) -> EstimatorResult:
    """The registry's runner for every neural bound (``mitool.estimators.registry``)."""
    return estimate_neural(name, data, opts.neural, opts.seed, progress=opts.progress,
                           permutations=opts.permutations, deadline=opts.deadline)


def estimate_neural(
    name: str,
    data: PreparedData,
    config: NeuralConfig | None = None,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    permutations: int = 0,
    deadline: float | None = None,
) -> EstimatorResult:
    """Train a critic with bound ``name`` and read MI out (nats) on the held-out rows;
    with ``deadline`` (a ``time.perf_counter()`` value) training stops in time for it."""
    if name not in BOUND_NAMES:
        raise UsageError(
            f"unknown neural estimator {name!r}; choose from: {', '.join(BOUND_NAMES)}"
        )
    config = config or NeuralConfig()
    config.validate(data.n)
    bound_heap()  # big readouts must not leave the heap fragmented at GBs
    config = dataclasses.replace(config, folds=resolve_folds(config.folds, data.n))
    if permutations < 0:
        raise UsageError(f"{{param}} must be 0 or more, got {permutations}",
                         parameter="permutations", function="InferenceSpec")
    hidden = parse_hidden(config.hidden) if isinstance(config.hidden, str) else tuple(
        int(h) for h in config.hidden)
    device = resolve_device(config.device)
    old_threads = torch.get_num_threads()
    threads = choose_threads(config, device)
    torch.set_num_threads(threads)
    try:
        return _estimate(name, data, config, hidden, seed, device, threads, progress,
                         permutations, deadline)
    finally:
        torch.set_num_threads(old_threads)


@dataclass
class FoldResult:
    """One critic: trained on some rows, read out on held-out rows it never saw."""

    parts: RowSplit
    mi_raw: float
    spread: float
    readouts: dict[str, float]
    run: TrainingRun
    total: int
    batch: int
    final_shifts: int
    final_block: int
    candidates: int  # InfoNCE: candidates per positive
    val_used: int
    warnings: list[str]
    perm_rows: int = 0
    perm_observed: float | None = None
    null_raw: list[float] = field(default_factory=list)


def _fold(name, data, config, hidden, seed, device, progress, permutations, parts: RowSplit,
          stage: str, deadline: float | None = None) -> FoldResult:
    """Train one critic on ``parts.train`` (early stopping on ``parts.validation``) and read
    it out on ``parts.heldout``; with ``permutations``, also on shuffles of those rows."""
    train_rows, val_rows, held_rows = parts.train, parts.validation, parts.heldout
    if config.train_fraction < 1.0:  # a learning-curve point: fewer training rows, same rest
        train_rows = train_rows[:max(2, int(round(train_rows.size * config.train_fraction)))]
    enc_x = Encoder.fit(data.x, data.x_discrete, train_rows, config.transform, config.radius)
    enc_y = Encoder.fit(data.y, data.y_discrete, train_rows, config.transform, config.radius)
    X = torch.from_numpy(enc_x(data.x)).to(device)  # (n, wx) float32
    Y = torch.from_numpy(enc_y(data.y)).to(device)  # (n, wy)

    def rows(r):
        idx = torch.from_numpy(r).to(device)
        return X[idx], Y[idx]

    x_tr, y_tr = rows(train_rows)
    # validation readouts watch a fixed sample of at most VAL_ROWS rows: their cost must not
    # grow with the table (may be empty: then no early stopping)
    if val_rows.size > VAL_ROWS:
        val_rows = np.sort(np.random.default_rng([seed, 17]).choice(val_rows, VAL_ROWS,
                                                                    replace=False))
    x_val, y_val = rows(val_rows)
    x_ho, y_ho = rows(held_rows)
    n_ho = int(held_rows.size)

    torch.manual_seed(seed)
    critic_kind = resolve_critic(name, config)
    separable = critic_kind == "separable"
    critic = make_critic(critic_kind, X.shape[1], Y.shape[1], hidden, config.activation,
                         config.embed_dim).to(device)
    gen = torch.Generator(device=device).manual_seed(seed)
    eval_gen = torch.Generator(device=device)

    batch = effective_batch(config, int(train_rows.size))
    if config.epochs is not None:
        total = max(1, math.ceil(config.epochs * train_rows.size / batch))
    else:
        total = int(config.steps)
    kind = readout_kind(name, config)
    clip = config.smile_clip

    def stats(x, y, shifts, eval_seed, block=EVAL_BLOCK):
        return evaluate(critic, x, y, separable, shifts, clip, eval_gen, eval_seed, block)

    def validate(step: int) -> float:
        return float(readout(kind, stats(x_val, y_val, config.eval_shifts, seed + step), clip))

    def report(done, all_, fields):
        if progress is not None:
            progress(done, all_, {**fields, "stage": stage})

    warnings: list[str] = []
    early_stopping = val_rows.size > 0  # never on the held-out rows (they give the estimate)
    run = train_critic(name, critic, x_tr, y_tr, validate if early_stopping else None, config,
                       total, batch, separable, gen, report, deadline=deadline)

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

    # ---- final readout on the held-out rows only, within a fixed budget of scored pairs
    final_shifts, final_block = readout_plan(n_ho, separable, config.final_shifts)
    st = stats(x_ho, y_ho, final_shifts, seed + 1_000_003, final_block)
    mi_raw = float(readout(kind, st, clip))
    if not math.isfinite(mi_raw):
        raise TrainingDivergedError(
            f"{name}: the trained critic gives a non-finite estimate on the held-out rows; "
            f"lower --lr (now {config.lr}) or use --estimator jsd/smile"
        )
    out = FoldResult(
        parts=parts, mi_raw=mi_raw, spread=standard_error(kind, st, clip),
        readouts={label: float(readout(k, st, clip))
                  for label, k in REPORTED_READOUTS[name].items()},
        run=run, total=total, batch=batch, final_shifts=final_shifts, final_block=final_block,
        candidates=int(st["cnt"].min()) + 1, val_used=int(val_rows.size), warnings=warnings,
    )
    if permutations:
        # the test compares the readout with readouts on shuffled held-out rows; on a big
        # table both use the same fixed sample of PERMUTATION_ROWS held-out rows
        cap = max(2, PERMUTATION_ROWS // max(1, config.folds))
        xp, yp, out.perm_rows, out.perm_observed = x_ho, y_ho, n_ho, mi_raw
        if n_ho > cap:
            pick = torch.from_numpy(np.sort(np.random.default_rng([seed, 23]).choice(
                n_ho, cap, replace=False))).to(device)
            xp, yp, out.perm_rows = x_ho[pick], y_ho[pick], cap
        p_shifts, p_block = readout_plan(out.perm_rows, separable,
                                         min(config.final_shifts, PERMUTATION_SHIFTS))
        if out.perm_rows < n_ho or p_shifts != final_shifts:
            out.perm_observed = float(readout(kind, stats(xp, yp, p_shifts, seed + 1_000_003,
                                                          p_block), clip))
        pgen = torch.Generator(device=device).manual_seed(seed + 7919)
        for p in range(permutations):
            perm = torch.randperm(out.perm_rows, generator=pgen, device=device)
            stp = stats(xp, yp[perm], p_shifts, seed + 2_000_003 + p, p_block)
            out.null_raw.append(float(readout(kind, stp, clip)))  # non-finite: >= observed
    return out


def _fold_deadline(deadline: float | None, folds_left: int) -> float | None:
    """This fold's share of the time left: an equal part of it, less READOUT_RESERVE for the
    readouts after training (the held-out pass and any permutations)."""
    if deadline is None:
        return None
    now = time.perf_counter()
    return now + max(0.0, deadline - now) * (1 - READOUT_RESERVE) / folds_left


READOUT_RESERVE = 0.15  # share of a budget kept for reading the critics out


def _estimate(name, data, config, hidden, seed, device, threads, progress, permutations,
              deadline=None):
    t_start = time.perf_counter()
    splits = fold_splits(config, data.n, seed)
    k = len(splits)
    folds = [
        _fold(name, data, config, hidden, seed + 1009 * f, device, progress, permutations,
              parts, name if k == 1 else f"{name} fold {f + 1}/{k}",
              _fold_deadline(deadline, k - f))
        for f, parts in enumerate(splits)
    ]
    first = folds[0]
    # pool the folds: each is an independent held-out estimate, weighted by its rows
    w = np.array([f.parts.heldout.size for f in folds], dtype=np.float64)
    w = w / w.sum()
    mi_raw = float(np.dot(w, [f.mi_raw for f in folds]))
    spread = float(np.sqrt(np.sum((w * np.array([f.spread for f in folds])) ** 2)))
    readouts = {label: float(np.dot(w, [f.readouts[label] for f in folds]))
                for label in first.readouts}
    mi = max(0.0, mi_raw)
    n_heldout = int(sum(f.parts.heldout.size for f in folds))
    warnings = list(dict.fromkeys(wn for f in folds for wn in f.warnings))
    early_stopping = first.val_used > 0
    steps_run = first.run.steps_run

    if name == "infonce":
        candidates = min(f.candidates for f in folds)
        ceiling = math.log(candidates)
        ceiling_why = f"log of {candidates} candidates per positive (InfoNCE)"
    else:
        smallest = int(min(f.parts.heldout.size for f in folds))
        ceiling = math.log(smallest)
        ceiling_why = (f"log of {smallest} held-out rows (DV-type bound)" if k == 1 else
                       f"log of {smallest} held-out rows per fold (DV-type bound)")
    near_ceiling = mi > ceiling - 1.0

    # ---- warnings
    if near_ceiling:
        warnings.append(
            f"estimate {mi:.3f} nats is within 1 nat of its ceiling {ceiling:.2f} ({ceiling_why}); "
            "the true MI may be higher" + (": more rows raise the ceiling" if name != "infonce"
                                            else ": use a DV-type estimator")
        )
    timed_out = [f for f in folds if f.run.out_of_time]
    if timed_out:
        warnings.append(
            f"stopped at the time budget (--budget) after {timed_out[0].run.steps_run} of "
            f"{timed_out[0].total} steps; as a held-out bound it stays below the truth, but more "
            "time may raise it")
    unconverged = [f for f in folds if f.val_used > 0 and f.run.diverged_at is None
                   and not f.run.out_of_time
                   and not (f.run.stopped_early or f.run.best_step
                            <= f.run.steps_run - config.patience * config.eval_every)]
    if unconverged:
        warnings.append(
            f"training did not converge in {unconverged[0].run.steps_run} steps (validation "
            f"estimate still rising at the end); raise --steps or --lr"
        )
    if mi < 0.02:
        warnings.append(
            "estimate is ~0: X and Y may be independent, or training collapsed (heavy tails "
            "or odd marginals: try the copula transform; compare with ksg)"
        )

    loop_seconds = sum(f.run.loop_seconds for f in folds)
    seconds = time.perf_counter() - t_start
    details = {
        "bound": BOUND_NAMES[name],
        "readout": config.readout if name == "jsd" else None,
        "readouts": readouts,
        "mi_raw": mi_raw,
        "folds": k,
        "n_train": int(first.parts.train.size),
        "n_validation": int(first.parts.validation.size),
        "validation_rows_used": first.val_used,
        "n_heldout": n_heldout,
        "steps_run": steps_run,
        "max_steps": first.total,
        "best_step": first.run.best_step,
        "stopped_early": first.run.stopped_early,
        "early_stopping": early_stopping,
        "ceiling": ceiling,
        "ceiling_reason": ceiling_why,
        "near_ceiling": near_ceiling,
        "spread": spread,
        "spread_kind": f"standard error across {min(SPREAD_GROUPS, n_heldout // 2)} "
                       "groups of held-out rows" + ("" if k == 1 else ", pooled over folds"),
        "curve": _downsample(first.run.curve),
        "steps_per_second": (sum(f.run.steps_run for f in folds) / loop_seconds
                             if loop_seconds > 0 else None),
        "device": str(device),
        "threads": threads if device.type == "cpu" else None,
        "critic": resolve_critic(name, config),
        "hidden": list(hidden),
        "batch_size": first.batch,
        "lr": config.lr,
        "transform": config.transform,
        "radius": config.radius,
        "seed": seed,
        "readout_shifts": None if resolve_critic(name, config) == "separable"
        else first.final_shifts,
        "readout_block": first.final_block,
        "out_of_time": bool(timed_out),
        # what the run cost, and what it would cost again: the steps do not grow with the
        # rows, the held-out readout grows with them up to a fixed budget of scored pairs
        "cost": {"seconds_per_step": (loop_seconds / max(1, sum(f.run.steps_run for f in folds))),
                 "steps": int(sum(f.run.steps_run for f in folds)),
                 "readout_pairs": int(sum(f.parts.heldout.size * (f.final_shifts + 1)
                                          for f in folds)),
                 "training_seconds": loop_seconds,
                 "other_seconds": max(0.0, seconds - loop_seconds)},
    }
    if k > 1:
        details["fold_mi_raw"] = [f.mi_raw for f in folds]
        details["fold_steps_run"] = [f.run.steps_run for f in folds]
    if name == "mine":
        details["ema_rate"] = config.ema_rate
    if permutations:
        null_raw = [float(np.dot(w, draws)) for draws in zip(*(f.null_raw for f in folds),
                                                              strict=True)]
        details["null_mi"] = [max(0.0, v) if math.isfinite(v) else v for v in null_raw]
        details["null_mi_raw"] = null_raw
        details["permutation_statistic"] = float(np.dot(w, [f.perm_observed for f in folds]))
        if k > 1:  # each fold's own exact test; the pooled sum is not one (see inference)
            details["fold_permutation_statistic"] = [f.perm_observed for f in folds]
            details["fold_null_mi_raw"] = [list(f.null_raw) for f in folds]
        perm_rows = sum(f.perm_rows for f in folds)
        details["permutation_scheme"] = (
            "trained critic on shuffled held-out rows"
            + ("" if k == 1 else " (each fold's critic on its own fold, shuffled within it; "
               "the smallest of the folds' p-values times the number of folds, Bonferroni)")
            + (f" (a fixed sample of {perm_rows:,} of them, for the observed value too)"
               if perm_rows < n_heldout else ""))
    where = (f"{n_heldout} held-out rows never used for training or early stopping" if k == 1
             else f"all {n_heldout} rows, each by one of {k} critics trained without it "
                  "(cross-fitting)")
    notes = [f"{BOUND_NAMES[name]}; MI read out on {where}"]
    if config.transform == "copula":
        notes.append("inputs mapped to normal scores per column (Gaussian copula; MI unchanged)")
    if config.radius:
        notes.append("each side's log mean square is an extra input (a function of that side: "
                     "MI unchanged)")
    if not early_stopping:
        notes.append(f"early stopping is off (no validation rows): the critic after all "
                     f"{steps_run} steps is read out")
    return EstimatorResult(
        estimator=name, mi=mi, seconds=seconds, notes=notes, warnings=warnings, details=details
    )
