"""The training loop: minibatch steps on the training rows, validation readouts every
``eval_every`` steps, the best critic kept, early stopping on the validation slice.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from mitool.estimators.base import ProgressCallback
from mitool.estimators.config import NeuralConfig
from mitool.estimators.neural import bounds


def train_objective(name: str, critic, xb: torch.Tensor, yb: torch.Tensor, separable: bool,
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
        # the training curve shows the bound the estimate is read out with
        obj = bounds.jsd(t_joint, t_marg)
        shown = bounds.nwj_shifted if config.readout == "nwj" else bounds.dv
        return -obj, shown(t_joint, t_marg).detach(), log_ema
    else:  # pragma: no cover - validated earlier
        raise ValueError(name)
    return -value, value.detach(), log_ema


@dataclass
class TrainingRun:
    """What the loop did: the validation curve, the best checkpoint and how it ended."""

    curve: list[dict] = field(default_factory=list)
    best_step: int = 0
    best_state: dict | None = None
    stopped_early: bool = False
    diverged_at: int | None = None
    steps_run: int = 0
    loop_seconds: float = 0.0
    out_of_time: bool = False  # stopped at its deadline (--budget) before its last step


class BatchSampler:
    """Minibatches of distinct training rows: one shuffle per pass, cut into batches.

    Drawing rows with replacement would put the same row twice in a batch, and a
    "negative" pair made from a copy of the positive row is a positive. The tail of a pass
    shorter than a batch is dropped (the next pass reshuffles), so every batch is distinct.
    """

    def __init__(self, n_rows: int, batch: int, generator: torch.Generator,
                 device: torch.device) -> None:
        if not 1 <= batch <= n_rows:
            raise ValueError(f"batch {batch} must be between 1 and the {n_rows} rows")
        self.n_rows, self.batch, self.gen, self.device = n_rows, batch, generator, device
        self._order = torch.empty(0, dtype=torch.long, device=device)
        self._pos = 0

    def next(self) -> torch.Tensor:
        """(batch,) row indices, all distinct."""
        if self._pos + self.batch > self._order.shape[0]:
            self._order = torch.randperm(self.n_rows, generator=self.gen, device=self.device)
            self._pos = 0
        idx = self._order[self._pos:self._pos + self.batch]
        self._pos += self.batch
        return idx


def train_critic(
    name: str,
    critic: torch.nn.Module,
    x_tr: torch.Tensor,
    y_tr: torch.Tensor,
    validate: Callable[[int], float] | None,
    config: NeuralConfig,
    total: int,
    batch: int,
    separable: bool,
    gen: torch.Generator,
    progress: ProgressCallback | None = None,
    deadline: float | None = None,
) -> TrainingRun:
    """Train ``critic`` for at most ``total`` steps, and past ``deadline`` (a
    ``time.perf_counter()`` value) no further than the next evaluation point, so the best
    checkpoint is always one that validation saw.

    ``validate(step)`` gives the validation estimate (nats) that picks the best checkpoint
    and drives early stopping; with ``validate=None`` (no validation rows) there is no early
    stopping and the last critic is the result (``best_state`` stays None).
    """
    device = x_tr.device
    opt = torch.optim.Adam(critic.parameters(), lr=config.lr)
    sampler = BatchSampler(x_tr.shape[0], batch, gen, device)
    run = TrainingRun()
    best_val, bad_evals = -math.inf, 0
    log_ema = None
    train_sum = torch.zeros((), device=device)
    train_count = 0
    t_loop = time.perf_counter()
    step = 0
    for step in range(1, total + 1):
        idx = sampler.next()
        xb, yb = x_tr[idx], y_tr[idx]  # (B, wx), (B, wy)
        loss, value, log_ema = train_objective(name, critic, xb, yb, separable, config, log_ema)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        train_sum += value
        train_count += 1
        if step % config.eval_every != 0 and step != total:
            continue
        out_of_time = deadline is not None and time.perf_counter() >= deadline
        # ---- evaluation point: the only host syncs of the loop
        val = validate(step) if validate is not None else None
        train_val = float(train_sum) / max(train_count, 1)
        train_sum.zero_()
        train_count = 0
        if not (math.isfinite(train_val) and (val is None or math.isfinite(val))):
            run.diverged_at = step
            break
        run.curve.append({"step": step, "train": train_val, "validation": val})
        if progress is not None:
            progress(step, total, {"stage": name, "mi": val if val is not None else train_val})
        if val is None:
            run.best_step = step
            if out_of_time and step < total:
                run.out_of_time = True
                break
            continue
        if val > best_val + config.min_delta:
            best_val, run.best_step, bad_evals = val, step, 0
            run.best_state = copy.deepcopy(critic.state_dict())
        else:
            bad_evals += 1
            if config.patience and bad_evals >= config.patience:
                run.stopped_early = True
                break
        if out_of_time and step < total:
            run.out_of_time = True
            break
    run.loop_seconds = time.perf_counter() - t_loop
    run.steps_run = step
    return run
