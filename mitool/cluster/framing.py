"""Framing: cut each image to a square around its object, so identity, not place or size, is
what the network sees.

Scans, glyphs, product shots and drawn shapes put one object on a plain ground at any
position and size. Perturbations alone cannot teach a small CNN on a CPU budget to ignore
that (28 px digits scattered over the frame stayed at chance; see docs/benchmarks.md), so,
as MNIST's authors did, each image is re-framed before it is resized: the ground is the
median of the border pixels, the object is what differs from it by clearly more than the
border's own noise, and the crop is the square around the object's box with a margin,
padded with the ground colour. The object is also made lighter than its ground (dark ink on
paper is inverted), so polarity is not what the clusters follow. A folder is framed only when its objects are clearly smaller
than the frame (``should_frame``); photos and textures that fill the frame are left as they
are. Pure numpy on uint8 arrays.
"""

from __future__ import annotations

import numpy as np

MARGIN = 0.1  # of the object's longer side, on each side of the square
FRAME_WHEN = 0.85  # frame a folder when the median object square is at most this share of the side
MIN_PIXELS = 3  # fewer object pixels than this: nothing to frame


def _border(a: np.ndarray) -> np.ndarray:
    """The outermost ring of pixels of (H, W, ...) -> (2H + 2W - 4, ...)."""
    return np.concatenate([a[0], a[-1], a[1:-1, 0], a[1:-1, -1]])


def _quantile(values: np.ndarray, q: float) -> float:
    """np.quantile's lower value, by partial sort (the loader calls this per image)."""
    flat = values.ravel()
    k = min(len(flat) - 1, max(0, int(q * (len(flat) - 1))))
    return float(np.partition(flat, k)[k])


def _object(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(signed difference from the ground (H, W), object mask (H, W)), or None."""
    g = gray.astype(np.float32)
    if min(g.shape) < 3:
        return None
    ring = _border(g)
    ground = _quantile(ring, 0.5)
    noise = 1.4826 * _quantile(np.abs(ring - ground), 0.5)  # robust std of the ground
    diff = g - ground
    dev = np.abs(diff)
    mask = dev > max(4.0 * noise + 4.0, 0.3 * _quantile(dev, 0.995))
    if int(mask.sum()) < MIN_PIXELS:
        return None
    return diff, mask


def _square(mask: np.ndarray) -> tuple[float, float, float]:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    side = max(bottom - top, right - left) * (1 + 2 * MARGIN)
    return (top + bottom) / 2, (left + right) / 2, float(side)


def object_square(gray: np.ndarray) -> tuple[float, float, float] | None:
    """(centre row, centre column, side) of the square around the object in ``gray`` (H, W),
    or None when no pixel stands out from the ground.

    The ground is the median of the border pixels; the object is every pixel further from it
    than 4 times the border's robust noise (+4 grey levels) and 30 % of the strongest
    difference; the square is around the object's box, MARGIN wider on each side.
    """
    found = _object(gray)
    return None if found is None else _square(found[1])


def square_share(gray: np.ndarray) -> float:
    """The object square's side as a share of the frame's longer side (1 = fills the frame)."""
    box = object_square(gray)
    return 1.0 if box is None else min(1.0, box[2] / max(gray.shape))


def should_frame(shares: list[float] | np.ndarray) -> bool:
    """Frame a folder when its typical object is clearly smaller than the frame."""
    return len(shares) > 0 and float(np.median(shares)) <= FRAME_WHEN


def object_is_darker(gray: np.ndarray) -> bool:
    """True when the object is darker than its ground (ink on paper)."""
    found = _object(gray)
    return found is not None and bool(found[0][found[1]].mean() < 0)


def frame(rgb: np.ndarray, gray: np.ndarray) -> tuple[np.ndarray, bool]:
    """Cut (H, W, C) uint8 to the square around its object, padded with the ground colour,
    and make the object lighter than its ground: -> (square, inverted).

    Dark ink on light paper and light ink on dark paper are the same glyph; left alone, a
    folder mixing both splits by polarity first (shapes: 0.39 accuracy kept, 0.76 inverted,
    docs/benchmarks.md). ``gray`` (H, W) is the same image's luma, used to find the object.
    Images without an object come back as they are; a square covering the whole frame is
    not cut, but is still made light-on-dark.
    """
    found = _object(gray)
    if found is None:
        return rgb, False
    diff, mask = found
    invert = bool(diff[mask].mean() < 0)
    cy, cx, side = _square(mask)
    h, w = gray.shape
    if side >= max(h, w):
        return (255 - rgb if invert else rgb), invert
    s = max(2, int(round(side)))
    top, left = int(round(cy - s / 2)), int(round(cx - s / 2))
    ring = _border(rgb)  # (P, C)
    planes = rgb.shape[2]
    ground = np.array([_quantile(ring[:, c], 0.5) for c in range(planes)], dtype=np.uint8)
    out = np.empty((s, s, planes), dtype=np.uint8)
    out[:] = ground
    src_top, src_left = max(0, top), max(0, left)
    src_bottom, src_right = min(h, top + s), min(w, left + s)
    out[src_top - top:src_bottom - top, src_left - left:src_right - left] = \
        rgb[src_top:src_bottom, src_left:src_right]
    return (255 - out if invert else out), invert
