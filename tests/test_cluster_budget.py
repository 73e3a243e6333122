"""The compute budget, the step schedule, early stopping, the ETA plan and the thread governor:
pure rules checked with plain numbers (no timing, no training)."""

from __future__ import annotations

import math

import pytest

from mitool.cluster import budget
from mitool.cluster.budget import (
    Plateau,
    TrainPlan,
    format_duration,
    schedule,
    steps_for_epochs,
    training_steps,
)
from mitool.cluster.threads import ThreadGovernor, candidate_threads


def test_budget_grows_sub_linearly_with_the_number_of_images():
    assert training_steps(budget.BASE_IMAGES) == budget.BASE_STEPS
    n_small, n_big = 1_800, 60_000
    ratio = training_steps(n_big) / training_steps(n_small)
    assert ratio == pytest.approx((n_big / n_small) ** budget.EXPONENT, rel=0.01)
    assert 1 < ratio < n_big / n_small
    assert training_steps(1) == budget.MIN_STEPS
    assert training_steps(10**9) == budget.MAX_STEPS
    steps = [training_steps(n) for n in (100, 1_000, 10_000, 100_000)]
    assert steps == sorted(steps)
    with pytest.raises(ValueError):
        training_steps(0)


def test_epochs_override_counts_passes():
    assert steps_for_epochs(25, 1797, 64) == 25 * 28  # 28 batches a pass (tail folded in)
    assert steps_for_epochs(2, 24, 16) == 2  # 24 images: one batch of 16 + a folded tail
    assert steps_for_epochs(3, 10, 64) == 3  # fewer images than a batch: one batch a pass


def test_schedule_alternates_heads_and_gives_each_its_budget():
    order = schedule(("over", "main"), per_head=5, round_len=2)
    assert order == ["over", "over", "main", "main"] * 2 + ["over", "main"]
    assert order.count("over") == order.count("main") == 5
    assert schedule(("main",), 3, 10) == ["main"] * 3
    assert schedule(("over", "main"), 0, 4) == []


def test_plateau_compares_windows_so_noise_does_not_stop_slow_progress():
    p = Plateau(window=3, min_delta=0.01, min_checks=6)
    # falling 0.01 a round with +-0.02 noise: windows of 3 keep improving by ~0.03
    noisy = [-1.0 - 0.01 * i + (0.02 if i % 2 else -0.02) for i in range(12)]
    assert not any(p.update(v) for v in noisy)
    flat = Plateau(window=3, min_delta=0.01, min_checks=6)
    decisions = [flat.update(v) for v in (-1.0, -1.2, -1.3, -1.35, -1.36, -1.36, -1.36, -1.36)]
    # last window against the one before: better by 0.19, then 0.08, then 0.023: go on
    assert decisions == [False] * 8
    assert flat.update(-1.36) is True  # (-1.35, -1.36, -1.36) -> (-1.36,) * 3: 0.003 < 0.01


def test_plateau_never_stops_before_min_checks():
    p = Plateau(window=2, min_delta=1.0, min_checks=5)
    assert [p.update(0.0) for _ in range(6)] == [False] * 4 + [True, True]


def _plan(**changes) -> TrainPlan:
    base = dict(steps=1400, seconds_per_step=0.1, eval_seconds=10.0, n_images=1797,
                n_train=1797, image_size=16, device="cpu", threads=1,
                steps_per_head={"over": 700, "main": 700})
    base.update(changes)
    return TrainPlan(**base)


def test_plan_expected_duration_and_summary():
    plan = _plan()
    assert plan.expected_seconds == pytest.approx(1400 * 0.1 + 10.0)
    line = plan.summary()
    assert "700 over + 700 main steps" in line and "1,797 images at 16 px" in line
    assert "2 min 30 s" in line and "100 ms per step" in line and "1 thread" in line
    assert plan.advice() == []  # short jobs get no advice


def test_long_cpu_jobs_are_told_what_would_save_time():
    plan = _plan(steps=5400, seconds_per_step=0.3, eval_seconds=60.0, n_images=60_000,
                 n_train=60_000, image_size=28)
    assert plan.expected_seconds > budget.LONG_JOB_SECONDS
    tips = plan.advice()
    assert len(tips) == 3
    assert tips[0].startswith("--image-size 16 would take about")
    smaller = (16 / 28) ** 2 * plan.expected_seconds
    assert format_duration(smaller) in tips[0]
    assert tips[1].startswith("--max-images 15000")
    assert "--device cuda" in tips[2]
    assert _plan(steps=54_000, device="cuda").advice() == []  # a GPU run needs no advice


def test_format_duration():
    assert format_duration(44.6) == "45 s"
    assert format_duration(200) == "3 min 20 s"
    assert format_duration(3900) == "1 h 05 min"


def test_candidate_threads():
    assert candidate_threads(1) == (1,)
    assert candidate_threads(2) == (1, 2)
    assert candidate_threads(16) == (1, 2, 8, 16)


def test_governor_keeps_the_fastest_and_prefers_fewer_threads_on_a_tie():
    g = ThreadGovernor((1, 2))
    assert g.choose({1: 0.20, 2: 0.11}) == 2  # idle machine: two threads nearly 2x faster
    assert g.choose({1: 0.20, 2: 0.19}) == 1  # within 10 %: fewer threads (less contention)
    assert g.choose({1: 0.20, 2: 1.60}) == 1  # a busy neighbour: two threads 8x slower
    assert len(g.history) == 3 and g.expected == 0.20


def test_governor_asks_for_a_new_probe_when_steps_slow_down_or_time_passes():
    g = ThreadGovernor((1, 2), slowdown=1.5, reprobe_seconds=100.0)
    g.choose({1: 0.2, 2: 0.1}, now=0.0)
    assert not g.due(0.12, now=10.0)
    assert g.due(0.16, now=10.0)  # 1.6x slower than measured: the machine got busier
    assert g.due(0.10, now=100.0)  # and every 100 s anyway (a neighbour may have finished)
    single = ThreadGovernor((1,))
    single.choose({1: 0.2})
    assert not single.active and not single.due(10.0, now=1e6)


def test_governor_needs_candidates():
    with pytest.raises(ValueError):
        ThreadGovernor(())
    assert math.isclose(ThreadGovernor((2, 1, 2)).candidates[0], 1)


def test_governor_backs_off_when_probes_keep_the_same_count():
    g = ThreadGovernor((1, 2), reprobe_seconds=100.0)
    g.choose({1: 0.2, 2: 0.5}, now=0.0)
    assert g.others() == (2,)
    g.choose({1: 0.2, 2: 0.6}, now=100.0)  # same answer: wait twice as long next time
    assert g.reprobe_seconds == 200.0 and not g.due(0.2, now=250.0) and g.due(0.2, now=300.0)
    g.choose({1: 0.4, 2: 0.2}, now=300.0)  # the neighbour left: two threads again
    assert g.current == 2 and g.reprobe_seconds == 200.0
