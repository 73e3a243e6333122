"""Whether rotation is a nuisance, measured from the images' edge directions."""

from __future__ import annotations

import numpy as np
from PIL import Image

from mitool.cluster.orientation import direction_coherence, rotation_is_nuisance


def _bars(angles, size=24):
    """One bright bar through the centre of each image, at the given angles (degrees)."""
    out = []
    for a in angles:
        im = Image.new("L", (size, size), 0)
        im.paste(255, (size // 2 - 2, 3, size // 2 + 2, size - 3))
        out.append(np.asarray(im.rotate(float(a), resample=Image.Resampling.BILINEAR)))
    return np.stack(out)[:, None]  # (N, 1, S, S)


def test_upright_images_share_a_direction():
    rng = np.random.default_rng(0)
    upright = _bars(rng.uniform(-10, 10, 60))
    one, _ = direction_coherence(upright)
    assert one > 0.8 and not rotation_is_nuisance(direction_coherence(upright))


def test_images_at_any_angle_share_none():
    rng = np.random.default_rng(1)
    anywhere = _bars(rng.uniform(0, 360, 300))
    one, two = direction_coherence(anywhere)
    assert one < 0.2 and two < 0.3 and rotation_is_nuisance((one, two))


def test_horizontal_and_vertical_bars_share_two_axes():
    """Classes that differ only by orientation must not be rotated into each other."""
    hv = _bars([0, 90] * 30)
    one, two = direction_coherence(hv)
    assert one < 0.1 and two > 0.9 and not rotation_is_nuisance((one, two))
