"""Is rotation a nuisance in this folder? Measured from the images' own edge directions.

Digits and text are upright: most images share a dominant stroke direction, so a random
rotation of more than ~15 degrees would mix classes (6 and 9). Shapes thrown at any angle,
or textures, have no common direction: there the rotation is a nuisance the perturbations
must cover in full, or IIC clusters by angle. Per image, the gradient structure tensor gives
a dominant direction phi_i and a strength a_i; across the folder, |mean a e^{2i phi}| is
large when the images share a direction (upright sets) and |mean a e^{4i phi}| when they
share one of two perpendicular ones (horizontal and vertical bars). Both near zero: the
directions are spread all round, and the default rotation becomes the full circle.
Pure numpy.
"""

from __future__ import annotations

import numpy as np

# Measured on the benchmark families (docs/benchmarks.md): upright digits 0.86-0.91 and
# glyphs 0.68 for the first, rotated shapes 0.03 and textures 0.04; bars 1.0 for the second.
SHARED_DIRECTION = 0.2
SHARED_AXES = 0.5


def direction_coherence(images: np.ndarray) -> tuple[float, float]:
    """(coherence of one shared direction, of two perpendicular ones) of (N, C, S, S) images."""
    x = images.astype(np.float32).mean(axis=1)  # (N, S, S) gray
    gy = np.zeros_like(x)
    gx = np.zeros_like(x)
    gy[:, 1:-1] = (x[:, 2:] - x[:, :-2]) / 2
    gx[:, :, 1:-1] = (x[:, :, 2:] - x[:, :, :-2]) / 2
    w = gx ** 2 + gy ** 2
    z = (w * np.exp(2j * np.arctan2(gy, gx))).sum(axis=(1, 2))  # (N,) a_i e^{2i phi_i}
    z = z / (w.sum(axis=(1, 2)) + 1e-9)
    a = np.abs(z)
    if a.sum() <= 0:
        return 0.0, 0.0
    one = float(np.abs(z.sum()) / a.sum())
    two = float(np.abs((a * np.exp(2j * np.angle(z))).sum()) / a.sum())
    return one, two


def rotation_is_nuisance(coherence: tuple[float, float]) -> bool:
    """True when ``direction_coherence`` says the images share no direction (rotate them all
    round during training)."""
    one, two = coherence
    return one < SHARED_DIRECTION and two < SHARED_AXES
