"""Reading a folder of images into one float array, with labels from sub-folder names.

Unreadable files are skipped and counted (the caller turns the count into a warning); an
empty folder or a folder without images is an InputError the user can fix.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mitool.errors import InputError, UsageError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
MAX_DEFAULT_SIZE = 64  # default --image-size is the median size, capped for CPU budgets
MIN_SIZE = 4


@dataclass
class ImageSet:
    """Images as (N, C, S, S) float32 in [0, 1], their paths, and labels when sub-folders exist."""

    images: np.ndarray
    paths: list[str]
    labels: np.ndarray | None  # (N,) int indices into label_names, or None
    label_names: list[str] | None
    channels: int
    image_size: int
    skipped: list[str] = field(default_factory=list)

    @property
    def n_skipped(self) -> int:
        return len(self.skipped)


def find_image_files(folder: Path) -> list[Path]:
    """All files with an image suffix under ``folder``, recursively, in a stable order."""
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.lower().endswith(IMAGE_SUFFIXES) and not name.startswith("."):
                found.append(Path(root) / name)
    return found


def _open_header(path: Path) -> tuple[str, tuple[int, int]] | None:
    """(mode, (width, height)) without decoding pixels, or None when Pillow cannot read it."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return im.mode, im.size
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None


def _decode(path: Path, size: int) -> np.ndarray | None:
    """Decode and resize one image -> (3, S, S) uint8 RGB, or None if it is corrupt."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.seek(0)  # first frame of an animated GIF/WebP
            im.load()
            if im.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
                arr = np.asarray(im, dtype=np.float64)
                hi = arr.max() if arr.size and arr.max() > 0 else 1.0
                im = Image.fromarray(np.clip(arr / hi * 255.0, 0, 255).astype(np.uint8))
            if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                # Composite transparent images on white, as viewers show them.
                rgba = im.convert("RGBA")
                background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                im = Image.alpha_composite(background, rgba)
            im = im.convert("RGB")
            if im.size != (size, size):
                im = im.resize((size, size), Image.Resampling.BILINEAR)
            arr = np.asarray(im, dtype=np.uint8)
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError, EOFError,
            Image.DecompressionBombError):
        return None
    return arr.transpose(2, 0, 1)


def _is_gray(rgb: np.ndarray, tolerance: int = 3) -> bool:
    """True when R, G and B agree (up to lossy-compression noise): (3, S, S) uint8."""
    as_int = rgb.astype(np.int16)
    return bool(np.abs(as_int[0] - as_int[1]).max() <= tolerance
                and np.abs(as_int[0] - as_int[2]).max() <= tolerance)


def _labels_from_folders(folder: Path, paths: list[Path]) -> tuple[np.ndarray, list[str]] | None:
    """Labels = first sub-folder name, only when every image sits in one and >= 2 exist."""
    parts = [p.relative_to(folder).parts for p in paths]
    if any(len(part) < 2 for part in parts):
        return None
    names = sorted({part[0] for part in parts})
    if len(names) < 2:
        return None
    index = {name: i for i, name in enumerate(names)}
    return np.array([index[part[0]] for part in parts], dtype=np.int64), names


def load_folder(
    folder: str | os.PathLike[str],
    channels: int | None = None,
    image_size: int | None = None,
) -> ImageSet:
    """Read every image under ``folder``, square-resized to ``image_size`` with ``channels``.

    Defaults come from the data: 1 channel when every image is grayscale, else 3; the median
    of the images' longer sides (capped at 64 so a CPU run stays short) as the size.
    """
    root = Path(folder)
    if not root.exists():
        raise InputError(f"folder '{root}' does not exist")
    if not root.is_dir():
        raise InputError(f"'{root}' is not a folder; point mitool cluster at a folder of images")
    if channels is not None and channels not in (1, 3):
        raise UsageError(f"--channels must be 1 or 3, got {channels}")
    if image_size is not None and not MIN_SIZE <= image_size <= 512:
        raise UsageError(f"--image-size must be between {MIN_SIZE} and 512, got {image_size}")

    if not any(root.iterdir()):
        raise InputError(f"folder '{root}' is empty")
    candidates = find_image_files(root)
    if not candidates:
        raise InputError(
            f"no images found under '{root}' (looked for {', '.join(IMAGE_SUFFIXES)})"
        )

    headers = [_open_header(p) for p in candidates]
    readable = [(p, h) for p, h in zip(candidates, headers, strict=True) if h is not None]
    skipped = [str(p) for p, h in zip(candidates, headers, strict=True) if h is None]
    if not readable:
        raise InputError(f"none of the {len(candidates)} image files under '{root}' could be read")
    if image_size is None:
        longest = np.median([max(h[1]) for _, h in readable])
        image_size = int(min(MAX_DEFAULT_SIZE, max(MIN_SIZE, round(float(longest)))))

    arrays: list[np.ndarray] = []
    kept: list[Path] = []
    for path, _ in readable:
        arr = _decode(path, image_size)
        if arr is None:
            skipped.append(str(path))
            continue
        arrays.append(arr)
        kept.append(path)
    if not arrays:
        raise InputError(f"none of the {len(candidates)} image files under '{root}' could be read")

    if channels is None:  # gray when every image is (GIF and WebP store gray as colour)
        channels = 1 if all(_is_gray(a) for a in arrays) else 3
    rgb = np.stack(arrays).astype(np.float32) / 255.0  # (N, 3, S, S)
    if channels == 1:  # ITU-R 601 luma, as Pillow's convert("L")
        weights = np.array([0.299, 0.587, 0.114], dtype=np.float32).reshape(1, 3, 1, 1)
        images = (rgb * weights).sum(axis=1, keepdims=True)  # (N, 1, S, S)
    else:
        images = rgb
    found = _labels_from_folders(root, kept)
    labels, names = found if found is not None else (None, None)
    return ImageSet(
        images=images,
        paths=[str(p) for p in kept],
        labels=labels,
        label_names=names,
        channels=channels,
        image_size=image_size,
        skipped=sorted(skipped),
    )
