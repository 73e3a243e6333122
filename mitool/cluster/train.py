"""Training the IIC heads and reading out the clustering.

Training is a number of optimiser steps per head (``budget.training_steps`` unless given),
in rounds: one pass over the images (at most ``round_steps`` batches) for the
over-clustering head, then one for the main head, the paper's alternation. Every batch holds
``batch_size`` distinct images, each repeated ``repeats`` times; both views are augmented and
forwarded separately so batch-norm statistics stay per view. Images stay uint8 on the device
until a batch is augmented. Losses stay on the device; the host waits for them once per round
(early stopping, history), never per step. On CUDA the forward passes run under autocast
(bfloat16, or float16 with a gradient scaler); the loss is always computed in float32.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mitool.cluster.augment import AugmentConfig, augment
from mitool.cluster.budget import Plateau, TrainPlan, steps_for_epochs, training_steps
from mitool.cluster.budget import schedule as make_schedule
from mitool.cluster.loss import iic_loss, iic_loss_from_joint, mutual_information_from_joint
from mitool.cluster.threads import ThreadGovernor
from mitool.errors import TrainingDivergedError

if TYPE_CHECKING:  # pragma: no cover
    import torch

Progress = Callable[[int, int, dict], None]
PlanCallback = Callable[[TrainPlan], None]


@dataclass
class TrainConfig:
    """Optimiser, batch and budget settings; defaults chosen with benchmarks/cluster.py."""

    steps: int | None = None  # optimiser steps per head; None: budget.training_steps(n)
    epochs: int | None = None  # or passes over the images per head (overrides the budget)
    batch_size: int = 64  # distinct images per batch (times repeats = samples per view)
    repeats: int = 4
    lr: float = 1e-3
    # 1.5, not the paper's 1: it stopped sub-heads merging two classes and leaving a cluster
    # empty (shapes 0.80 -> 1.00, scan digits 0.85 -> 0.88, 8x8 digits 0.86 -> 0.96; seed 0)
    lambda_entropy: float = 1.5
    # lambda rises from 1 to lambda_entropy over this share of the steps. Started at 1.5,
    # every sub-head sits at the uniform-output saddle first (loss -(2 lambda - 2) log k,
    # no information), 5 of 25 rounds on most runs, and on scan digits seed 2 it never left
    # (accuracy 0.23, early-stopped); at lambda 1 the same runs learn from the first round.
    lambda_ramp: float = 0.3
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    early_stop: bool = True  # stop when the best main sub-head's loss stops improving
    round_steps: int = 100  # at most this many steps per head before switching heads
    eval_passes: int = 2  # augmented passes used to score sub-heads after training
    eval_images: int = 10_000  # sub-heads are scored on at most this many images
    warmup_steps: int = 4  # untimed first steps (allocation, kernel selection)
    probe_steps: int = 6  # timed steps per thread count (or on the GPU) for the plan


@dataclass
class TrainReport:
    """What training did: per-round losses, steps, whether it stopped early, the plan."""

    history: list[float]  # best main sub-head's mean loss per round
    steps: int  # optimiser steps done, all heads
    planned_steps: int
    stopped_early: bool
    plan: TrainPlan | None
    seconds: float
    thread_probes: list[tuple[int, dict[int, float]]] = field(default_factory=list)
    threads: int = 0  # threads in use at the end (CPU)


class BatchStream:
    """Endless batches of indices into ``pool``: passes in a fresh random order each, with a
    small tail folded into the previous batch (tiny batches give noisy joint matrices)."""

    def __init__(self, pool: "torch.Tensor", batch_size: int) -> None:
        self.pool = pool
        self.batch_size = batch_size
        self._pending: list[torch.Tensor] = []

    @property
    def per_pass(self) -> int:
        n, b = self.pool.shape[0], self.batch_size
        cuts = len(range(0, n, b))
        return cuts - 1 if cuts > 1 and n - (cuts - 1) * b < b // 2 else cuts

    def __next__(self) -> "torch.Tensor":
        import torch

        if not self._pending:
            n = self.pool.shape[0]
            order = self.pool[torch.randperm(n, device=self.pool.device)]
            cuts = list(range(0, n, self.batch_size))
            if len(cuts) > 1 and n - cuts[-1] < self.batch_size // 2:
                cuts.pop()
            self._pending = [order[a:b] for a, b in zip(cuts, cuts[1:] + [n], strict=True)]
            self._pending.reverse()
        return self._pending.pop()

    def __iter__(self) -> Iterator["torch.Tensor"]:
        return self


def as_float(x: "torch.Tensor") -> "torch.Tensor":
    """uint8 images (0..255) -> float32 in [0, 1]; float input is returned as it is."""
    import torch

    return x.to(torch.float32).div_(255.0) if x.dtype == torch.uint8 else x


def _pair(images: "torch.Tensor", idx: "torch.Tensor", cfg: TrainConfig):
    """Two independently augmented views of the batch, each image repeated: 2 x (B*r, C, S, S)."""
    x = as_float(images[idx]).repeat(cfg.repeats, 1, 1, 1)
    return augment(x, cfg.augment), augment(x, cfg.augment)


def _autocast(device: "torch.device"):
    """Mixed precision on CUDA only (bfloat16 where supported); a no-op context elsewhere."""
    import contextlib

    import torch

    if device.type != "cuda":
        return contextlib.nullcontext(), None
    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    scaler = torch.amp.GradScaler("cuda") if dtype == torch.float16 else None
    return torch.autocast("cuda", dtype=dtype), scaler


def lambda_at(i: int, total: int, cfg: TrainConfig) -> float:
    """The entropy weight at step ``i`` of ``total``: from 1 (plain mutual information) up to
    ``cfg.lambda_entropy`` over the first ``cfg.lambda_ramp`` share of the steps; a weight at
    or below 1 is used from the start."""
    target = cfg.lambda_entropy
    if target <= 1.0 or cfg.lambda_ramp <= 0 or total <= 0:
        return target
    share = min(1.0, i / (cfg.lambda_ramp * total))
    return 1.0 + (target - 1.0) * share


def plan_steps(cfg: TrainConfig, n_train: int) -> int:
    """Steps per head this config asks for on ``n_train`` images."""
    if cfg.steps is not None:
        return cfg.steps
    if cfg.epochs is not None:
        return steps_for_epochs(cfg.epochs, n_train, cfg.batch_size)
    return training_steps(n_train)


def train(
    model: "torch.nn.Module",
    images: "torch.Tensor",
    cfg: TrainConfig,
    heads: tuple[str, ...] = ("over", "main"),
    progress: Progress | None = None,
    on_plan: PlanCallback | None = None,
    governor: ThreadGovernor | None = None,
    train_index: "torch.Tensor | None" = None,
    eval_cost: Callable[[float], float] | None = None,
) -> TrainReport:
    """Train ``model`` on uint8 or float images (N, C, S, S) on their device.

    ``train_index`` restricts training to those images (--max-images). ``governor`` (CPU)
    times thread counts during the warm-up and when steps slow down. ``on_plan`` receives the
    expected duration once the warm-up has been timed; ``eval_cost(seconds_per_step)`` adds
    the scoring that follows training to it.
    """
    import torch

    dev = images.device
    pool = train_index if train_index is not None else torch.arange(images.shape[0], device=dev)
    n_train = int(pool.shape[0])
    per_head = plan_steps(cfg, n_train)
    total = per_head * len(heads)
    streams = {h: BatchStream(pool, cfg.batch_size) for h in heads}
    round_len = max(1, min(cfg.round_steps, streams[heads[0]].per_pass))
    n_rounds = math.ceil(per_head / round_len)
    # no stop before 60 % of the budget; "no better" = less than 0.5 % of log k per window
    k_main = int(model.main[0].out_features)
    plateau = Plateau(min_checks=math.ceil(0.6 * n_rounds), min_delta=0.005 * math.log(k_main))
    optimiser = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    autocast, scaler = _autocast(dev)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)

    def step(head: str, lam: float) -> "torch.Tensor":
        v1, v2 = _pair(images, next(streams[head]), cfg)
        with autocast:
            p1 = model(v1, head)  # (H, B*r, k): per-view forward keeps BN stats per view
            p2 = model(v2, head)
        losses = torch.stack([iic_loss(a.float(), b.float(), lam)
                              for a, b in zip(p1, p2, strict=True)])  # (H,)
        loss = losses.mean()
        optimiser.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(optimiser)
            scaler.update()
        else:
            loss.backward()
            optimiser.step()
        return losses.detach()

    schedule = make_schedule(heads, per_head, round_len)

    start_all = time.perf_counter()
    model.train()
    history: list[float] = []
    acc: dict = {"sum": None, "count": 0, "round_start": start_all, "round_steps": 0}
    pos: dict = {"i": 0, "reprobe": False}  # reprobe: False or the last round's s/step

    def advance() -> bool:
        """Run the next scheduled step; True when training should stop (early stopping)."""
        head = schedule[pos["i"]]
        losses = step(head, lambda_at(pos["i"], total, cfg))
        pos["i"] += 1
        acc["round_steps"] += 1
        if head == "main":
            acc["sum"] = losses if acc["sum"] is None else acc["sum"] + losses
            acc["count"] += 1
        i = pos["i"]
        stop = False
        if head == "main" and (i == len(schedule) or schedule[i] != "main"):
            best = float((acc["sum"] / acc["count"]).min())  # the one host sync per round
            if not math.isfinite(best):
                raise TrainingDivergedError(
                    f"IIC loss became {best} after {i} steps; try a smaller --lr")
            history.append(best)
            acc["sum"], acc["count"] = None, 0
            stop = cfg.early_stop and budgeted and plateau.update(best) and i < len(schedule)
            now = time.perf_counter()
            per_step = (now - acc["round_start"]) / max(1, acc["round_steps"])
            if governor is not None and governor.due(per_step, now):
                pos["reprobe"] = per_step
            acc["round_start"], acc["round_steps"] = now, 0
        if progress is not None:
            fields: dict = {"stage": "training"}
            if history:
                fields["loss"] = history[-1]
            progress(i, total, fields)
        return stop

    def probe(current: float | None = None) -> tuple[dict[int, float], bool]:
        """Time cfg.probe_steps real steps per thread count (CPU) or once (GPU); a re-probe
        passes the current count's time from the last round and times only the others."""
        active = governor is not None and governor.active
        tries = (governor.others() if current is not None else governor.candidates) \
            if active else (0,)
        timings: dict[int, float] = {governor.current: current} \
            if active and current is not None else {}
        for threads in tries:
            if pos["i"] >= len(schedule):
                break
            if threads:
                torch.set_num_threads(threads)
            sync()
            start, n = time.perf_counter(), 0
            fastest = min(timings.values()) if timings else None
            while n < cfg.probe_steps and pos["i"] < len(schedule):
                n += 1
                if advance():
                    return timings, True
                if fastest is not None and n == 1:  # hopeless under load: one step is enough
                    sync()
                    if time.perf_counter() - start > 3 * fastest:
                        break
            sync()
            timings[threads] = (time.perf_counter() - start) / n
        if governor is not None and governor.active and timings:
            torch.set_num_threads(governor.choose(timings, pos["i"], time.perf_counter()))
        acc["round_start"], acc["round_steps"] = time.perf_counter(), 0
        return timings, False

    budgeted = cfg.steps is None and cfg.epochs is None
    plan: TrainPlan | None = None
    stopped = False
    while pos["i"] < len(schedule) and not stopped:
        if pos["i"] == min(cfg.warmup_steps, len(schedule) - 1) and plan is None:
            timings, stopped = probe()
            if timings:
                per_step = timings.get(governor.current if governor is not None
                                       and governor.active else 0, min(timings.values()))
                plan = TrainPlan(
                    steps=total, seconds_per_step=per_step,
                    eval_seconds=eval_cost(per_step) if eval_cost is not None else 0.0,
                    n_images=int(images.shape[0]), n_train=n_train,
                    image_size=int(images.shape[-1]), device=dev.type,
                    threads=torch.get_num_threads() if dev.type == "cpu" else 0,
                    steps_per_head=dict.fromkeys(heads, per_head),
                )
                if on_plan is not None:
                    on_plan(plan)
            continue
        if pos["reprobe"]:
            current, pos["reprobe"] = pos["reprobe"], False
            _, stopped = probe(current)
            continue
        stopped = advance()
    if progress is not None and pos["i"] < total:
        progress(total, total, {"stage": "training", **({"loss": history[-1]} if history else {})})
    return TrainReport(
        history=history, steps=pos["i"], planned_steps=total, stopped_early=stopped, plan=plan,
        seconds=time.perf_counter() - start_all,
        thread_probes=list(governor.history) if governor is not None else [],
        threads=torch.get_num_threads() if dev.type == "cpu" else 0,
    )


@dataclass
class HeadScores:
    """Per head: the IIC loss and the mutual information I(z; z') of every sub-head."""

    losses: dict[str, list[float]]
    mutual_information: dict[str, list[float]]


def score_subheads(
    model: "torch.nn.Module", images: "torch.Tensor", cfg: TrainConfig,
    heads: tuple[str, ...] = ("main",), index: "torch.Tensor | None" = None,
) -> HeadScores:
    """IIC loss and MI of each sub-head on fresh augmented pairs of the images (or ``index``).

    The joint matrix is accumulated over all batches and passes before the loss, so the score
    is the dataset-level mutual information, not a mean of noisy per-batch values. Uses no labels.
    """
    import torch

    dev = images.device
    pool = index if index is not None else torch.arange(images.shape[0], device=dev)
    stream = BatchStream(pool, cfg.batch_size)
    autocast, _ = _autocast(dev)
    model.eval()
    joints: dict[str, torch.Tensor] = {}
    with torch.no_grad():
        for _ in range(max(1, cfg.eval_passes) * stream.per_pass):
            v1, v2 = _pair(images, next(stream), cfg)
            with autocast:
                out1, out2 = model.all_heads(v1), model.all_heads(v2)
            for h in heads:
                p1, p2 = out1[h].float(), out2[h].float()  # (H, B*r, k)
                j = torch.einsum("hbi,hbj->hij", p1, p2)  # (H, k, k)
                joints[h] = j if h not in joints else joints[h] + j
    losses: dict[str, list[float]] = {}
    mis: dict[str, list[float]] = {}
    for h, joint in joints.items():
        joint = (joint + joint.transpose(1, 2)) / 2
        joint = joint / joint.sum(dim=(1, 2), keepdim=True)
        losses[h] = [float(v) for v in torch.stack(
            [iic_loss_from_joint(j, cfg.lambda_entropy) for j in joint]).cpu().tolist()]
        mis[h] = [float(v) for v in torch.stack(
            [mutual_information_from_joint(j) for j in joint]).cpu().tolist()]
    return HeadScores(losses=losses, mutual_information=mis)


def predict(
    model: "torch.nn.Module", images: "torch.Tensor", subheads: dict[str, int],
    batch_size: int = 1024,
) -> dict[str, tuple["torch.Tensor", "torch.Tensor"]]:
    """Cluster and confidence (max probability) of each clean image for one sub-head per head:
    head -> ((N,), (N,))."""
    import torch

    autocast, _ = _autocast(images.device)
    model.eval()
    probs: dict[str, list[torch.Tensor]] = {h: [] for h in subheads}
    with torch.no_grad():
        for start in range(0, images.shape[0], batch_size):
            with autocast:
                out = model.all_heads(as_float(images[start:start + batch_size]))
            for h, s in subheads.items():
                probs[h].append(out[h][s].float())  # (b, k)
    result = {}
    for h, chunks in probs.items():
        confidence, cluster = torch.cat(chunks).max(dim=1)
        result[h] = (cluster, confidence)
    return result
