"""Framing: the square around an object, the ground colour, polarity, and when a folder is framed."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mitool.cluster.framing import (
    MARGIN,
    frame,
    object_is_darker,
    object_square,
    should_frame,
    square_share,
)
from mitool.cluster.images import load_folder


def _scan(size=40, box=(5, 20, 8, 14), paper=220, ink=30, noise=3.0, seed=0):
    """A light page with a dark rectangle rows box[0]:box[0]+box[2], cols box[1]:box[1]+box[3]."""
    rng = np.random.default_rng(seed)
    g = np.full((size, size), paper, dtype=np.float64) + rng.normal(0, noise, (size, size))
    r, c, h, w = box
    g[r:r + h, c:c + w] = ink
    return np.clip(g, 0, 255).astype(np.uint8)


def test_object_square_is_the_box_with_a_margin():
    g = _scan(box=(5, 20, 8, 14))
    cy, cx, side = object_square(g)
    assert (cy, cx) == (9.0, 27.0)
    assert side == pytest.approx(14 * (1 + 2 * MARGIN))
    assert square_share(g) == pytest.approx(14 * 1.2 / 40)


def test_plain_and_full_frame_images_have_nothing_to_frame():
    assert object_square(np.full((16, 16), 128, dtype=np.uint8)) is None
    stripes = (np.indices((32, 32))[1] // 4 % 2 * 255).astype(np.uint8)
    assert square_share(stripes) == 1.0


def test_frame_centres_the_object_on_its_ground_and_inverts_ink_on_paper():
    g = _scan(box=(0, 30, 10, 10))  # touching the top edge: the square reaches outside
    rgb = np.repeat(g[..., None], 3, axis=2)
    out, inverted = frame(rgb, g)
    assert inverted and object_is_darker(g)
    assert out.shape == (12, 12, 3)
    # the object (now light) sits in the middle; the padding has the (inverted) paper colour
    assert out[6, 6, 0] == 255 - 30
    assert abs(int(out[0, 0, 0]) - (255 - 220)) <= 12
    light = 255 - g
    out2, inverted2 = frame(np.repeat(light[..., None], 3, axis=2), light)
    assert not inverted2 and np.array_equal(out2, out)  # both polarities give one picture


def test_should_frame_only_when_objects_are_clearly_smaller_than_the_frame():
    assert should_frame([0.5, 0.6, 0.7])
    assert not should_frame([1.0, 1.0, 0.9, 0.5])
    assert not should_frame([])


def test_a_folder_of_scattered_objects_is_framed_and_centred(tmp_path):
    rng = np.random.default_rng(3)
    for label in ("wide", "tall"):
        (tmp_path / label).mkdir()
        for i in range(6):
            h, w = (6, 14) if label == "wide" else (14, 6)
            r, c = rng.integers(0, 40 - h), rng.integers(0, 40 - w)
            Image.fromarray(_scan(box=(r, c, h, w), seed=i)).save(tmp_path / label / f"{i}.png")
    data = load_folder(tmp_path, channels=1, image_size=16)
    assert data.framed and data.inverted.all()
    centre = []
    for img in data.images[:, 0].astype(float):
        ys, xs = np.nonzero(img > img.max() / 2)
        centre.append((ys.mean(), xs.mean()))
    assert np.allclose(np.mean(centre, axis=0), 7.5, atol=1.0)  # objects now in the middle
    assert load_folder(tmp_path, channels=1, image_size=16, framing="full").framed is False
