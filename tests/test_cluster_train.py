"""The training loop on tiny uint8 inputs: the default budget sizes the run, the timed warm-up
gives a plan consistent with what follows, early stopping ends a run before its budget, and
the images stay uint8 (one byte per pixel) on the device. A few seconds in all."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from tiny_images import bars  # noqa: E402

from mitool.cluster import budget  # noqa: E402
from mitool.cluster.augment import AugmentConfig  # noqa: E402
from mitool.cluster.model import ModelSpec, build_model  # noqa: E402
from mitool.cluster.train import TrainConfig, lambda_at, train  # noqa: E402

LIGHT = AugmentConfig(rotation=0.0, scale=(1.0, 1.0), translate=0.0, gamma=0.0)


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models are fastest on one thread (two crawl on a busy CI machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _model(size: int = 8) -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model(ModelSpec(channels=1, image_size=size, k=2, overcluster=4, subheads=2,
                                 widths=(8, 16)))


def test_default_budget_sizes_the_run_and_the_plan_matches_it(monkeypatch):
    monkeypatch.setattr(budget, "BASE_STEPS", 20)
    monkeypatch.setattr(budget, "MIN_STEPS", 5)
    images = bars()
    before = images.clone()
    plans = []
    cfg = TrainConfig(batch_size=8, repeats=2, augment=LIGHT, early_stop=False)
    report = train(_model(), images, cfg, on_plan=plans.append)
    per_head = budget.training_steps(24)
    assert per_head == round(20 * (24 / budget.BASE_IMAGES) ** budget.EXPONENT) or per_head == 5
    assert report.planned_steps == report.steps == 2 * per_head
    assert report.stopped_early is False
    (plan,) = plans  # one plan, from the timed warm-up, before the rest of training
    assert plan is report.plan
    assert plan.steps == report.planned_steps and plan.steps_per_head == {"over": per_head,
                                                                        "main": per_head}
    assert plan.n_images == plan.n_train == 24 and plan.image_size == 8
    assert plan.seconds_per_step > 0
    assert plan.expected_seconds == pytest.approx(plan.steps * plan.seconds_per_step
                                                  + plan.eval_seconds)
    # the images are read, never converted in place: still uint8, same bytes
    assert images.dtype == torch.uint8 and torch.equal(images, before)


def test_progress_counts_every_step_and_ends_at_the_total(monkeypatch):
    monkeypatch.setattr(budget, "BASE_STEPS", 12)
    monkeypatch.setattr(budget, "MIN_STEPS", 6)
    ticks = []
    cfg = TrainConfig(batch_size=8, repeats=2, augment=LIGHT, early_stop=False)
    report = train(_model(), bars(), cfg,
                   progress=lambda done, total, fields: ticks.append((done, total)))
    done = [d for d, _ in ticks]
    assert done == sorted(done) and done[-1] == ticks[-1][1] == report.planned_steps
    assert {t for _, t in ticks} == {report.planned_steps}  # the ETA's denominator never moves


def test_early_stop_ends_before_the_budget_and_says_so(monkeypatch):
    """Constant images carry no structure: the loss is flat from the start, so the windowed
    plateau rule stops before the budget; the progress bar still ends at 100 %."""
    monkeypatch.setattr(budget, "BASE_STEPS", 200)  # 55 steps per head at 24 images
    monkeypatch.setattr(budget, "MIN_STEPS", 5)
    images = torch.full((24, 1, 8, 8), 128, dtype=torch.uint8)
    ticks = []
    cfg = TrainConfig(batch_size=8, repeats=2, augment=LIGHT, round_steps=2)
    report = train(_model(), images, cfg, progress=lambda d, t, f: ticks.append((d, t)))
    assert report.planned_steps == 2 * budget.training_steps(24)
    assert report.stopped_early is True and report.steps < report.planned_steps
    assert ticks[-1] == (report.planned_steps, report.planned_steps)
    # an explicit step count is a promise: no early stop
    fixed = train(_model(), images, TrainConfig(steps=12, batch_size=8, repeats=2,
                                                augment=LIGHT, round_steps=2))
    assert fixed.steps == fixed.planned_steps == 24 and fixed.stopped_early is False


def test_lambda_rises_from_one_to_its_target_over_the_ramp():
    """Started at lambda > 1, sub-heads sit at the uniform-output saddle; from 1 they do not."""
    cfg = TrainConfig(lambda_entropy=1.5, lambda_ramp=0.3)
    assert lambda_at(0, 1000, cfg) == 1.0
    assert lambda_at(150, 1000, cfg) == pytest.approx(1.25)
    assert lambda_at(300, 1000, cfg) == lambda_at(999, 1000, cfg) == 1.5
    values = [lambda_at(i, 1000, cfg) for i in range(1000)]
    assert values == sorted(values)
    assert lambda_at(0, 1000, TrainConfig(lambda_entropy=0.8)) == 0.8  # at or below 1: as given
    assert lambda_at(0, 1000, TrainConfig(lambda_entropy=2.0, lambda_ramp=0.0)) == 2.0
