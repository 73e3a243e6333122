"""Refitting the main head on frozen features: fresh heads find the split a stuck head misses,
only lower-loss heads replace trained ones, and the report says what happened."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from tiny_images import bars  # noqa: E402

from mitool.cluster.augment import AugmentConfig  # noqa: E402
from mitool.cluster.loss import min_possible_loss  # noqa: E402
from mitool.cluster.model import ModelSpec, build_model  # noqa: E402
from mitool.cluster.refit import (  # noqa: E402
    RefitConfig,
    fit_heads,
    fit_seconds,
    head_scores,
    refit_main_head,
    replacements,
)

LIGHT = AugmentConfig(rotation=0.0, scale=(1.0, 1.0), translate=0.0, gamma=0.0)


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _blobs(k: int = 4, per: int = 60, d: int = 8, views: int = 4, noise: float = 0.15):
    """Views of k well-separated classes: (R, n, D) features and the (n,) classes."""
    g = torch.Generator().manual_seed(0)
    centres = torch.randn(k, d, generator=g) * 3
    labels = torch.arange(k).repeat_interleave(per)
    base = centres[labels] + 0.3 * torch.randn(k * per, d, generator=g)
    views_ = torch.stack([base + noise * torch.randn(k * per, d, generator=g)
                          for _ in range(views)])
    return views_, labels


def _stuck_head(views: torch.Tensor, labels: torch.Tensor, k: int):
    """A head that merges classes 0 and 1 and splits class k-1 by a feature's sign."""
    n, d = views.shape[1], views.shape[2]
    target = labels.clone()
    target[labels == 1] = 0
    split = labels == k - 1
    target[split & (views[0, :, 0] > views[0, split, 0].median())] = 1
    # least-squares linear map from features to a sharp one-hot code of the stuck assignment
    x = torch.cat([views[0], torch.ones(n, 1)], dim=1)
    y = torch.nn.functional.one_hot(target, k).float() * 20 - 10
    sol = torch.linalg.lstsq(x, y).solution  # (D + 1, k)
    return sol[:d].unsqueeze(0), sol[d:].view(1, 1, k)


def test_fresh_heads_reach_the_floor_a_stuck_head_misses():
    k, lam = 4, 1.5
    views, labels = _blobs(k)
    w_stuck, b_stuck = _stuck_head(views, labels, k)
    (stuck,), _ = head_scores(views, w_stuck, b_stuck, lam)
    weight, bias = fit_heads(views, k, lam, RefitConfig(heads=4, steps=300, lr=1e-2),
                             torch.Generator().manual_seed(0))
    fresh, mis = head_scores(views, weight, bias, lam)
    floor = min_possible_loss(k, lam)
    best = int(np.argmin(fresh))
    assert fresh[best] < stuck - 0.2  # the stuck head sits far above the best fresh one
    assert fresh[best] == pytest.approx(floor, abs=0.05)
    assert mis[best] == pytest.approx(math.log(k), abs=0.05)
    # the lowest-loss fresh head recovers the classes (up to renaming)
    pred = torch.softmax(torch.einsum("nd,dk->nk", views[0], weight[best]) + bias[best], -1)
    pred = pred.argmax(1)
    pure = sum(int(torch.bincount(pred[labels == c]).max()) for c in range(k))
    assert pure == len(labels) and len(set(pred.tolist())) == k


def test_replacements_keep_the_lowest_losses_of_both_lists():
    trained = [-2.8, -2.5, -3.1, -2.9]
    fresh = [-2.6, -3.2, -3.0, -2.0]
    swaps = replacements(trained, fresh)
    assert swaps == [(1, 1), (0, 2)]  # worst slot gets the best fresh head, while it is lower
    kept = trained.copy()
    for slot, m in swaps:
        kept[slot] = fresh[m]
    assert sorted(kept) == sorted(trained + fresh)[:4]
    assert replacements([-3.0, -3.1], [-2.0, -2.9]) == []  # fresh heads worse: nothing changes
    assert replacements([-1.0], [float("nan")]) == []  # a non-finite loss never replaces


def test_refit_replaces_uniform_sub_heads_and_writes_them_into_the_model():
    torch.manual_seed(0)
    model = build_model(ModelSpec(channels=1, image_size=8, k=2, overcluster=0, subheads=3,
                                  widths=(8, 16)))
    with torch.no_grad():  # sub-heads 0 and 2 give uniform outputs: loss -(2*1.5-2) log 2
        for s in (0, 2):
            model.main[s].weight.zero_()
            model.main[s].bias.zero_()
    keep = model.main[1].weight.detach().clone()
    images = bars(32)
    report = refit_main_head(model, images, LIGHT, 1.5, RefitConfig(heads=4, steps=300, lr=3e-2),
                             seed=0)
    assert report.images == 32 and len(report.trained_losses) == 3
    assert len(report.fresh_losses) == 4 and report.seconds > 0
    assert report.trained_losses[0] == pytest.approx(-math.log(2), abs=1e-4)
    assert report.replaced == sorted(s for s, _ in replacements(report.trained_losses,
                                                                report.fresh_losses))
    assert {0, 2} <= set(report.replaced)  # the uniform heads are the first to go
    for s in (0, 2):
        assert model.main[s].weight.abs().sum() > 0  # now a fitted head
    if 1 not in report.replaced:
        assert torch.equal(model.main[1].weight, keep)
    # the images were read, not converted: still uint8
    assert images.dtype == torch.uint8


def test_refit_samples_at_most_max_images():
    torch.manual_seed(0)
    model = build_model(ModelSpec(channels=1, image_size=8, k=2, overcluster=0, subheads=2,
                                  widths=(8, 16)))
    report = refit_main_head(model, bars(32), LIGHT, 1.5,
                             RefitConfig(heads=2, steps=5, max_images=10), seed=0)
    assert report.images == 10


def test_fit_seconds_is_a_positive_forecast_that_grows_with_the_steps():
    cfg = RefitConfig(heads=4, steps=100, batch_size=64)
    one = fit_seconds(32, 3, cfg)
    assert one > 0
    assert fit_seconds(32, 3, RefitConfig(heads=4, steps=1000, batch_size=64)) > one


def test_fresh_heads_below_the_margin_leave_the_trained_ones_alone():
    """A lower loss by less than margin x log k is not enough (where the loss and the classes
    disagree, a slightly lower loss can be a worse partition)."""
    torch.manual_seed(0)
    model = build_model(ModelSpec(channels=1, image_size=8, k=2, overcluster=0, subheads=2,
                                  widths=(8, 16)))
    with torch.no_grad():
        for s in (0, 1):
            model.main[s].weight.zero_()
            model.main[s].bias.zero_()
    before = [h.weight.detach().clone() for h in model.main]
    cfg = RefitConfig(heads=4, steps=300, lr=3e-2, margin=2.0)  # 2 log 2 = 1.39 nats
    report = refit_main_head(model, bars(32), LIGHT, 1.5, cfg, seed=0)
    assert min(report.fresh_losses) < min(report.trained_losses) - 0.5  # lower, not by 1.39
    assert report.replaced == []
    assert all(torch.equal(h.weight, w) for h, w in zip(model.main, before, strict=True))
