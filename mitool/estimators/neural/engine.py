"""Training engine of the neural MI estimators (MINE, MINE-biased, JSD, NWJ, InfoNCE, SMILE).

Rows are split three ways: the critic trains on the training rows, early stopping watches a
validation slice of them, and the REPORTED estimate is evaluated on held-out rows that played
no part in training or in choosing when to stop (so it carries no selection bias and the
permutation null on the same rows is a fair comparison). Everything lives on one device as
tensors; the hot loop has no host syncs (``.item()`` only at evaluation points).
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from mitool.device import resolve_device
from mitool.errors import TrainingDivergedError, UsageError
from mitool.estimators.base import EstimatorResult, PreparedData, ProgressCallback
from mitool.estimators.config import NeuralConfig
from mitool.estimators.neural import bounds
from mitool.estimators.neural.critics import ACTIVATIONS, CRITICS, TRANSFORMS, Encoder, make_critic

NEURAL_ESTIMATORS = ("mine", "mine-biased", "jsd", "nwj", "infonce", "smile")
READOUTS = ("dv", "nwj")
BOUND_NAMES = {
    "mine": "Donsker-Varadhan (MINE, moving-average gradient correction)",
    "mine-biased": "Donsker-Varadhan",
    "nwj": "NWJ (f-divergence)",
    "infonce": "InfoNCE",
    "smile": "SMILE (DV with clipped partition term)",
    "jsd": "Jensen-Shannon objective, KL readout",
}
MIN_ROWS = 20
EVAL_BLOCK = 4096  # separable critic: all pairs inside blocks of at most this many rows
SPREAD_GROUPS = 10  # held-out rows are cut into this many groups for the standard error
CURVE_POINTS = 100


# ----------------------------------------------------------------------------- settings

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


# ----------------------------------------------------------------------------- maths helpers

def _train_objective(name: str, critic, xb: torch.Tensor, yb: torch.Tensor, separable: bool,
                     config: NeuralConfig, log_ema):
    """One batch -> (loss to minimise, training value in nats (detached), new log-EMA)."""
    if name == "infonce" and not separable:
        # concat critic: B x B pairs would cost B^2 forward passes; score each positive
        # against K rows of the (random) batch instead: (B, K+1), ceiling log(K+1)
        b = xb.shape[0]
        k = min(config.negatives, b - 1)
        rows = (torch.arange(b, device=xb.device)[None, :]
                + torch.arange(1, k + 1, device=xb.device)[:, None]) % b  # (K, B)
        t = critic(xb.repeat(k + 1, 1), torch.cat([yb, yb[rows.reshape(-1)]]))
        scores = t.reshape(k + 1, b).T  # (B, K+1), positive in column 0
        value = (scores[:, 0] - torch.logsumexp(scores, dim=1)).mean() + math.log(k + 1)
        return -value, value.detach(), log_ema
    if separable:
        scores = critic.all_pairs(xb, yb)  # (B, B)
        if name == "infonce":
            value = bounds.infonce(scores)
            return -value, value.detach(), log_ema
        t_joint, t_marg = bounds.split_scores(scores)
    else:
        b = xb.shape[0]
        # one forward pass over [joint; marginal]: y rolled by one row of a random batch
        t = critic(torch.cat([xb, xb]), torch.cat([yb, yb.roll(1, dims=0)]))  # (2B,)
        t_joint, t_marg = t[:b], t[b:]
    if name == "mine":
        loss, value, log_ema = bounds.mine_ema_loss(t_joint, t_marg, log_ema, config.ema_rate)
        return loss, value, log_ema
    if name == "mine-biased":
        value = bounds.dv(t_joint, t_marg)
    elif name == "nwj":
        value = bounds.nwj(t_joint, t_marg)
    elif name == "smile":
        # Song & Ermon's reference code: the value is clipped DV, the gradient is the JS
        # objective's (training on the clipped DV alone lets the joint scores grow unbounded)
        js = bounds.jsd(t_joint, t_marg)
        value = bounds.smile(t_joint, t_marg, config.smile_clip).detach()
        return -js, value, log_ema
    elif name == "jsd":
        obj = bounds.jsd(t_joint, t_marg)
        return -obj, bounds.dv(t_joint, t_marg).detach(), log_ema
    else:  # pragma: no cover - validated earlier
        raise ValueError(name)
    return -value, value.detach(), log_ema


@torch.no_grad()
def _row_stats(critic, x: torch.Tensor, y: torch.Tensor, separable: bool, shifts: int,
               clip: float, gen: torch.Generator) -> dict[str, torch.Tensor]:
    """Per-row statistics from which every bound is read out on (x, y).

    t (n,): joint score; lse (n,): logsumexp of that row's marginal scores; lse_clip (n,):
    the same on clipped scores; cnt (n,): number of marginal scores; nce (n,): InfoNCE term.
    Separable critics score all pairs within blocks of <= EVAL_BLOCK rows; concat critics
    score each x_i against ``shifts`` other rows of its block (distinct random shifts).
    """
    n = x.shape[0]
    n_blocks = max(1, math.ceil(n / EVAL_BLOCK))
    out: dict[str, list[torch.Tensor]] = {k: [] for k in ("t", "lse", "lse_clip", "cnt", "nce")}
    for idx in torch.arange(n, device=x.device).tensor_split(n_blocks):
        xb, yb = x[idx], y[idx]  # (b, d)
        b = xb.shape[0]
        if separable:
            s = critic.all_pairs(xb, yb)  # (b, b)
            t = s.diagonal().clone()
            eye = torch.eye(b, dtype=torch.bool, device=x.device)
            m = s.masked_fill(eye, -math.inf)
            mc = s.clamp(-clip, clip).masked_fill(eye, -math.inf)
            cnt = torch.full((b,), float(b - 1), device=x.device)
        else:
            k = min(shifts, b - 1)
            ks = (torch.randperm(b - 1, generator=gen, device=gen.device)[:k] + 1).to(x.device)
            rows = (torch.arange(b, device=x.device)[None, :] + ks[:, None]) % b  # (k, b)
            xx = xb.repeat(k + 1, 1)
            yy = torch.cat([yb, yb[rows.reshape(-1)]])
            scores = critic(xx, yy).reshape(k + 1, b).T  # (b, k+1): joint then k marginals
            t = scores[:, 0]
            m = scores[:, 1:]
            mc = m.clamp(-clip, clip)
            cnt = torch.full((b,), float(k), device=x.device)
        out["t"].append(t)
        out["lse"].append(torch.logsumexp(m, dim=1))
        out["lse_clip"].append(torch.logsumexp(mc, dim=1))
        out["cnt"].append(cnt)
        # InfoNCE: the positive among itself and the row's marginal candidates
        lse_all = torch.logaddexp(torch.logsumexp(m, dim=1), t)
        out["nce"].append(t - lse_all + torch.log(cnt + 1))
    return {k: torch.cat(v) for k, v in out.items()}


def _readout(kind: str, st: dict[str, torch.Tensor], clip: float) -> torch.Tensor:
    """A bound (0-d tensor, nats) from per-row stats (or a subset of rows)."""
    if kind == "infonce":
        return st["nce"].mean()
    log_total = torch.log(st["cnt"].sum())
    if kind == "smile":
        return st["t"].mean() - (torch.logsumexp(st["lse_clip"], 0) - log_total)
    lme = torch.logsumexp(st["lse"], 0) - log_total  # log E_marg[e^T], pooled over all pairs
    if kind == "nwj":
        return st["t"].mean() - torch.exp(lme - 1.0)
    return st["t"].mean() - lme  # dv


def _readout_kind(name: str, config: NeuralConfig) -> str:
    if name in ("mine", "mine-biased"):
        return "dv"
    if name == "jsd":
        return config.readout
    return name  # nwj, smile, infonce


def _spread(kind: str, st: dict[str, torch.Tensor], clip: float) -> float:
    """Standard error of the estimate from SPREAD_GROUPS disjoint groups of held-out rows."""
    n = st["t"].shape[0]
    g = min(SPREAD_GROUPS, n // 2)
    if g < 2:
        return float("nan")
    vals = torch.stack([
        _readout(kind, {k: v[i] for k, v in st.items()}, clip)
        for i in torch.arange(n, device=st["t"].device).tensor_split(g)
    ])
    return float(vals.std() / math.sqrt(g))


def _downsample(curve: list[dict], points: int = CURVE_POINTS) -> list[dict]:
    if len(curve) <= points:
        return curve
    keep = np.unique(np.linspace(0, len(curve) - 1, points).round().astype(int))
    return [curve[i] for i in keep]


# ----------------------------------------------------------------------------- engine

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
    rng = np.random.default_rng(seed)
    order = rng.permutation(data.n)
    train_rows = order[: sp.n_train]
    val_rows = order[sp.n_train: sp.n_train + sp.n_val]
    held_rows = order[sp.n_train + sp.n_val:]

    enc_x = Encoder.fit(data.x, data.x_discrete, train_rows, config.transform)
    enc_y = Encoder.fit(data.y, data.y_discrete, train_rows, config.transform)
    X = torch.from_numpy(enc_x(data.x)).to(device)  # (n, wx) float32
    Y = torch.from_numpy(enc_y(data.y)).to(device)  # (n, wy)

    def rows(r):
        idx = torch.from_numpy(r).to(device)
        return X[idx], Y[idx]

    x_tr, y_tr = rows(train_rows)
    x_val, y_val = rows(val_rows) if sp.n_val > 0 else rows(held_rows)
    x_ho, y_ho = rows(held_rows)

    torch.manual_seed(seed)
    critic_kind = resolve_critic(name, config)
    separable = critic_kind == "separable"
    critic = make_critic(critic_kind, X.shape[1], Y.shape[1], hidden, config.activation,
                         config.embed_dim).to(device)
    opt = torch.optim.Adam(critic.parameters(), lr=config.lr)
    gen = torch.Generator(device=device).manual_seed(seed)
    eval_gen = torch.Generator(device=device)

    batch = effective_batch(config, sp.n_train)
    if config.epochs is not None:
        total = max(1, math.ceil(config.epochs * sp.n_train / batch))
    else:
        total = int(config.steps)
    kind = _readout_kind(name, config)
    clip = config.smile_clip

    def evaluate(x, y, shifts, eval_seed):
        eval_gen.manual_seed(eval_seed)
        critic.eval()
        st = _row_stats(critic, x, y, separable, shifts, clip, eval_gen)
        critic.train()
        return st

    curve: list[dict] = []
    warnings: list[str] = []
    best_val, best_step, best_state = -math.inf, 0, None
    bad_evals, stopped_early, diverged_at = 0, False, None
    log_ema = None
    train_sum = torch.zeros((), device=device)
    train_count = 0
    t_loop = time.perf_counter()
    step = 0
    for step in range(1, total + 1):
        idx = torch.randint(sp.n_train, (batch,), generator=gen, device=device)
        xb, yb = x_tr[idx], y_tr[idx]  # (B, wx), (B, wy)
        loss, value, log_ema = _train_objective(name, critic, xb, yb, separable, config, log_ema)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        train_sum += value
        train_count += 1
        if step % config.eval_every != 0 and step != total:
            continue
        # ---- evaluation point: the only host syncs of the loop
        st = evaluate(x_val, y_val, config.eval_shifts, seed + step)
        val = float(_readout(kind, st, clip))
        train_val = float(train_sum) / max(train_count, 1)
        train_sum.zero_()
        train_count = 0
        if not (math.isfinite(val) and math.isfinite(train_val)):
            diverged_at = step
            break
        curve.append({"step": step, "train": train_val, "heldout": val})
        if progress is not None:
            progress(step, total, {"stage": name, "mi": val})
        if val > best_val + config.min_delta:
            best_val, best_step, bad_evals = val, step, 0
            best_state = copy.deepcopy(critic.state_dict())
        else:
            bad_evals += 1
            if config.patience and bad_evals >= config.patience:
                stopped_early = True
                break
    loop_seconds = time.perf_counter() - t_loop
    steps_run = step

    if diverged_at is not None:
        if best_state is None:
            raise TrainingDivergedError(
                f"{name}: training diverged (non-finite critic values) by step {diverged_at} "
                f"before any finite evaluation; lower --lr (now {config.lr}) or try "
                "--estimator jsd/smile, which are bounded and more stable"
            )
        warnings.append(
            f"training diverged at step {diverged_at} (non-finite values); the estimate uses "
            f"the best critic from step {best_step}; consider a lower --lr"
        )
    if best_state is not None:
        critic.load_state_dict(best_state)

    # ---- final readout on the held-out rows only
    st = evaluate(x_ho, y_ho, config.final_shifts, seed + 1_000_003)
    mi_raw = float(_readout(kind, st, clip))
    if not math.isfinite(mi_raw):
        raise TrainingDivergedError(
            f"{name}: the trained critic gives a non-finite estimate on the held-out rows; "
            f"lower --lr (now {config.lr}) or use --estimator jsd/smile"
        )
    mi = max(0.0, mi_raw)
    spread = _spread(kind, st, clip)
    readouts = {}
    if kind in ("dv", "nwj"):
        readouts = {"dv": float(_readout("dv", st, clip)), "nwj": float(_readout("nwj", st, clip))}

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
            stp = evaluate(x_ho, y_ho[perm], config.final_shifts, seed + 2_000_003 + p)
            v = float(_readout(kind, stp, clip))
            null_raw.append(v if math.isfinite(v) else 0.0)
            null_mi.append(max(0.0, null_raw[-1]))

    # ---- warnings
    if near_ceiling:
        warnings.append(
            f"estimate {mi:.3f} nats is within 1 nat of its ceiling {ceiling:.2f} ({ceiling_why}); "
            "the true MI may be higher" + (": more rows raise the ceiling" if name != "infonce"
                                            else ": use a DV-type estimator")
        )
    converged = stopped_early or (best_step <= steps_run - config.patience * config.eval_every)
    if diverged_at is None and not converged:
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
        "readout": kind if name == "jsd" else None,
        "readouts": readouts,
        "mi_raw": mi_raw,
        "n_train": sp.n_train,
        "n_validation": sp.n_val,
        "n_heldout": sp.n_heldout,
        "steps_run": steps_run,
        "max_steps": total,
        "best_step": best_step,
        "stopped_early": stopped_early,
        "ceiling": ceiling,
        "ceiling_reason": ceiling_why,
        "near_ceiling": near_ceiling,
        "spread": spread,
        "spread_kind": f"standard error across {min(SPREAD_GROUPS, sp.n_heldout // 2)} "
                       "groups of held-out rows",
        "curve": _downsample(curve),
        "steps_per_second": steps_run / loop_seconds if loop_seconds > 0 else None,
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
    return EstimatorResult(
        estimator=name, mi=mi, seconds=seconds, notes=notes, warnings=warnings, details=details
    )
