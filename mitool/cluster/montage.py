"""A grid image with a sample of images from each cluster: how people check a clustering by eye."""

from __future__ import annotations

import os

import numpy as np

from mitool.atomic import atomic_path


def render_montage(
    images: np.ndarray,
    clusters: np.ndarray,
    confidence: np.ndarray,
    k: int,
    per_cluster: int = 12,
    tile: int | None = None,
):
    """One row per cluster: its most confident images, left to right. Returns a PIL image.

    images: (N, C, S, S) uint8 (or float in [0, 1]); clusters, confidence: (N,).
    """
    from PIL import Image, ImageDraw

    n, c, s, _ = images.shape
    tile = tile or max(s, 32)
    label_w, pad = 120, 2
    width = label_w + per_cluster * (tile + pad) + pad
    height = k * (tile + pad) + pad
    canvas = Image.new("RGB", (width, height), (40, 40, 40))
    draw = ImageDraw.Draw(canvas)
    for row in range(k):
        members = np.flatnonzero(clusters == row)
        members = members[np.argsort(-confidence[members], kind="stable")][:per_cluster]
        y = pad + row * (tile + pad)
        draw.text((6, y + tile // 2 - 6), f"cluster {row} (n={int((clusters == row).sum())})",
                  fill=(230, 230, 230))
        for col, i in enumerate(members):
            pixels = images[i] if images.dtype == np.uint8 else np.clip(
                images[i] * 255.0 + 0.5, 0, 255).astype(np.uint8)
            arr = pixels[0] if c == 1 else pixels.transpose(1, 2, 0)
            thumb = Image.fromarray(arr).convert("RGB").resize(
                (tile, tile), Image.Resampling.NEAREST
            )
            canvas.paste(thumb, (label_w + pad + col * (tile + pad), y))
    return canvas


def save_montage(path: str | os.PathLike[str], *args, **kwargs) -> None:
    """Render (see render_montage) and write a PNG atomically."""
    image = render_montage(*args, **kwargs)
    with atomic_path(path) as tmp:
        image.save(tmp, format="PNG")
