"""Augmentations (batch, per-sample, in range) and the model's shapes for several image sizes."""

from __future__ import annotations

import pytest
import torch

from mitool.cluster.augment import AugmentConfig, augment
from mitool.cluster.model import ModelSpec, build_model

NONE = AugmentConfig(rotation=0.0, scale=(1.0, 1.0), translate=0.0, brightness=0.0,
                     contrast=0.0, noise=0.0, colour=False, gamma=0.0)


def test_zero_strength_is_identity():
    x = torch.rand(5, 3, 8, 8)
    assert torch.allclose(augment(x, NONE), x, atol=1e-5)


def test_flip_only_mirrors_some_images():
    torch.manual_seed(0)
    x = torch.rand(64, 1, 6, 6)
    out = augment(x, AugmentConfig(rotation=0.0, scale=(1.0, 1.0), translate=0.0, flip=True,
                                   brightness=0.0, contrast=0.0, noise=0.0,
                                   colour=False, gamma=0.0))
    same = torch.isclose(out, x, atol=1e-5).flatten(1).all(1)
    mirrored = torch.isclose(out, x.flip(-1), atol=1e-5).flatten(1).all(1)
    assert (same | mirrored).all() and 10 < int(mirrored.sum()) < 54


def test_default_augment_is_per_sample_and_in_range():
    torch.manual_seed(0)
    x = torch.rand(1, 1, 8, 8).repeat(16, 1, 1, 1)  # one image, 16 copies
    out = augment(x, AugmentConfig())
    assert out.shape == x.shape and out.dtype == x.dtype
    assert 0.0 <= out.min() and out.max() <= 1.0
    assert not torch.allclose(out[0], out[1])  # every copy perturbed differently


@pytest.mark.parametrize("size, channels, stride, head", [
    (4, 1, 1, "flat"), (8, 1, 1, "flat"), (13, 3, 1, "flat"), (32, 3, 1, "flat"),
    (16, 1, 2, "pool"), (28, 1, 2, "pool"), (27, 3, 2, "flat"), (64, 3, 4, "pool"),
])
def test_model_shapes(size, channels, stride, head):
    spec = ModelSpec(channels=channels, image_size=size, k=3, overcluster=7, subheads=2,
                     stem_stride=stride, head=head)
    model = build_model(spec)
    x = torch.rand(5, channels, size, size)
    main, over = model(x, "main"), model(x, "over")
    assert main.shape == (2, 5, 3) and over.shape == (2, 5, 7)
    assert torch.allclose(main.sum(-1), torch.ones(2, 5), atol=1e-5)
    assert ModelSpec.from_dict(spec.to_dict()) == spec


def test_colour_jitter_changes_hue_but_not_gray_images():
    torch.manual_seed(0)
    colour_only = AugmentConfig(rotation=0.0, scale=(1.0, 1.0), translate=0.0, brightness=0.0,
                                contrast=0.0, noise=0.0, colour=True, gamma=0.0)
    gray = torch.rand(8, 1, 5, 5).repeat(1, 3, 1, 1)  # R = G = B
    assert torch.allclose(augment(gray, colour_only), gray, atol=1e-5)
    red = torch.zeros(32, 3, 5, 5)
    red[:, 0] = 0.8
    out = augment(red, colour_only)
    assert (out[:, 1:].amax(dim=(1, 2, 3)) > 0.3).any()  # some copies are no longer red
    assert 0.0 <= out.min() and out.max() <= 1.0


def test_gamma_changes_stroke_weight_but_keeps_black_and_white():
    torch.manual_seed(0)
    tone_only = AugmentConfig(rotation=0.0, scale=(1.0, 1.0), translate=0.0, brightness=0.0,
                              contrast=0.0, noise=0.0, colour=False, gamma=0.4)
    x = torch.tensor([0.0, 0.25, 0.5, 1.0]).view(1, 1, 1, 4).repeat(64, 1, 1, 1)
    out = augment(x, tone_only)
    assert torch.allclose(out[..., 0], torch.zeros(64, 1, 1), atol=1e-2)  # 1e-4 ** g, small
    assert torch.allclose(out[..., 3], torch.ones(64, 1, 1))
    mid = out[:, 0, 0, 2]
    assert mid.min() < 0.45 and mid.max() > 0.55  # gamma in [e^-0.4, e^0.4]: 0.5 -> 0.38..0.66
    assert (mid >= 0.5 ** 1.4919 - 1e-5).all() and (mid <= 0.5 ** 0.6703 + 1e-5).all()
