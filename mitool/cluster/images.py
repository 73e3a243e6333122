"""Reading a folder of images into one uint8 array, with labels from sub-folder names.

Images stay uint8 (N, C, S, S) until a batch is augmented: 100,000 colour images of 64x64
take 1.2 GB, not 4.9 GB as float32. The working side S is chosen from what the content
needs (``choose_image_size``), not from the file size. Unreadable files are skipped and
counted (the caller turns the count into a warning); an empty folder or a folder without
images is an InputError the user can fix.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mitool.cluster.framing import frame, should_frame, square_share
from mitool.errors import InputError, UsageError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
MAX_DEFAULT_SIZE = 64  # the default working side never exceeds this (CPU budgets)
MIN_SIZE = 4
# Working sides tried by choose_image_size, and the share of detail (variance around each
# image's mean) that resizing down and back up may lose. Calibrated in docs/benchmarks.md.
CANDIDATE_SIZES = (8, 16, 24, 32, 40, 48, 64)  # the sides the model's stem is laid out for
DETAIL_LOSS = 0.10
SIZE_SAMPLE = 256  # images decoded at their own size to measure that
FRAMINGS = ("auto", "object", "full")


@dataclass
class ImageSet:
    """Images as (N, C, S, S) uint8, their paths, and labels when sub-folders exist."""

    images: np.ndarray
    paths: list[str]
    labels: np.ndarray | None  # (N,) int indices into label_names, or None
    label_names: list[str] | None
    channels: int
    image_size: int
    skipped: list[str] = field(default_factory=list)
    framed: bool = False  # each image was cut to the square around its object (framing.py)
    inverted: np.ndarray | None = None  # (N,) bool: framing made dark-on-light light-on-dark
    notes: list[str] = field(default_factory=list)  # e.g. mixed sizes, said before resizing

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


DECODE_CAP = 256  # larger files are decoded at most this big (JPEG draft mode: fast)


def _open_rgb(path: Path) -> np.ndarray | None:
    """Decode one image at its own size (at most DECODE_CAP) -> (H, W, 3) uint8, or None."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.seek(0)  # first frame of an animated GIF/WebP
            if max(im.size) > DECODE_CAP:
                im.draft("RGB", (DECODE_CAP, DECODE_CAP))
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
            if max(im.size) > DECODE_CAP:
                im.thumbnail((DECODE_CAP, DECODE_CAP), Image.Resampling.BILINEAR)
            return np.asarray(im, dtype=np.uint8)
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError, EOFError,
            Image.DecompressionBombError):
        return None


def _resize(arr: np.ndarray, size: int) -> np.ndarray:
    """(H, W, C) uint8 -> (C, S, S) uint8, Pillow's bilinear filter (antialiased when shrinking)."""
    from PIL import Image

    im = Image.fromarray(arr[..., 0] if arr.shape[2] == 1 else arr)
    if im.size != (size, size):
        im = im.resize((size, size), Image.Resampling.BILINEAR)
    out = np.asarray(im, dtype=np.uint8)
    return out[None] if out.ndim == 2 else out.transpose(2, 0, 1)


def colour_axis(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 -> (H, W) uint8: each pixel projected on the image's main colour axis.

    Luma can erase a shape whose colour differs from its ground in hue but not in brightness
    (a blue star on an olive ground); the first principal axis of the pixel colours runs
    from one to the other whatever their hues, so the shape keeps its full contrast. The
    sign follows luma (brighter stays brighter); the result is stretched to 0..255. A gray
    image gives its luma back.
    """
    if _is_gray_hw(rgb):
        return rgb[..., 0].copy()
    x = rgb.reshape(-1, 3).astype(np.float32)
    centred = x - x.mean(axis=0)
    _, vectors = np.linalg.eigh(centred.T @ centred)  # ascending eigenvalues
    axis = vectors[:, -1]
    if axis @ np.array([0.299, 0.587, 0.114], dtype=np.float32) < 0:
        axis = -axis
    proj = centred @ axis
    lo, hi = float(proj.min()), float(proj.max())
    scaled = (proj - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(proj)
    return np.rint(scaled).astype(np.uint8).reshape(rgb.shape[:2])


def _is_gray_hw(rgb: np.ndarray, tolerance: int = 3) -> bool:
    """True when R, G and B agree (up to lossy-compression noise): (H, W, 3) uint8."""
    a = rgb.astype(np.int16)
    return bool(np.abs(a[..., 0] - a[..., 1]).max() <= tolerance
                and np.abs(a[..., 0] - a[..., 2]).max() <= tolerance)


def _decode(path: Path, size: int, framed: bool = False,
            planes: int = 3) -> tuple[np.ndarray, bool, bool] | None:
    """Decode, frame around the object (when ``framed``) and resize -> ((planes, S, S) uint8,
    inverted, the file is gray), or None when it cannot be decoded. One plane is the
    image's main colour axis (``colour_axis``), which also finds the object."""
    rgb = _open_rgb(path)
    if rgb is None:
        return None
    is_gray = _is_gray_hw(rgb)
    one = colour_axis(rgb) if planes == 1 or framed else None
    arr = one[..., None] if planes == 1 else rgb
    inverted = False
    if framed:
        arr, inverted = frame(arr, one)
    return _resize(arr, size), inverted, is_gray


def _luma(rgb: np.ndarray) -> np.ndarray:
    """ITU-R 601 luma of uint8 RGB (..., 3, S, S) -> (..., 1, S, S) uint8, as Pillow's "L"."""
    weights = np.array([299, 587, 114], dtype=np.uint32).reshape(3, 1, 1)
    y = (rgb.astype(np.uint32) * weights).sum(axis=-3, keepdims=True)
    return ((y + 500) // 1000).astype(np.uint8)


def detail_loss(images: np.ndarray, size: int) -> float:
    """Share of the images' detail lost by resizing to ``size`` and back: (n, S, S) gray uint8.

    Detail is the variance around each image's own mean; 0 means nothing is lost. Resizing
    uses Pillow's bilinear filter (antialiased when shrinking), as the loader does.
    """
    from PIL import Image

    n, side, _ = images.shape
    lost = kept = 0.0
    for img in images:
        x = img.astype(np.float64)
        small = Image.fromarray(img).resize((size, size), Image.Resampling.BILINEAR)
        back = np.asarray(small.resize((side, side), Image.Resampling.BILINEAR), dtype=np.float64)
        lost += float(((x - back) ** 2).sum())
        kept += float(((x - x.mean()) ** 2).sum())
    return lost / kept if kept > 0 else 0.0


def choose_image_size(images: np.ndarray, limit: int = MAX_DEFAULT_SIZE) -> int:
    """The smallest candidate side that keeps all but DETAIL_LOSS of the detail of ``images``
    ((n, S, S) gray uint8 at their own size), at most ``limit`` and at most S."""
    side = images.shape[-1]
    for size in CANDIDATE_SIZES:
        if size >= side or size > limit:
            break
        if detail_loss(images, size) <= DETAIL_LOSS:
            return size
    return int(min(side, limit))


def _survey(readable: list[tuple[Path, tuple]], native: int, framing: str,
            measure_size: bool) -> tuple[bool, int]:
    """(frame the images?, working side) from an evenly spaced sample decoded at full size.

    The side is measured on what the network will see: the framed squares (at their median
    size) when framing, else the images at the median file size.
    """
    step = max(1, len(readable) // SIZE_SAMPLE)
    sample = [a for a in (_open_rgb(p) for p, _ in readable[::step][:SIZE_SAMPLE])
              if a is not None]
    if not sample:
        return framing == "object", min(native, MAX_DEFAULT_SIZE)
    grays = [colour_axis(a) for a in sample]
    framed = framing == "object" or (framing == "auto" and should_frame(
        [square_share(g) for g in grays]))
    if not measure_size:
        return framed, 0
    if framed:
        sample = [frame(g[..., None], g)[0] for g in grays]
    else:
        sample = [g[..., None] for g in grays]
    ref = int(max(MIN_SIZE, round(float(np.median([max(a.shape[:2]) for a in sample])))))
    if ref <= CANDIDATE_SIZES[0]:
        return framed, ref
    at_ref = np.stack([_resize(a, ref)[0] for a in sample])  # (n, ref, ref)
    return framed, choose_image_size(at_ref, MAX_DEFAULT_SIZE)


def size_note(sizes: list[tuple[int, int]], side: int, framed: bool) -> str | None:
    """What happens to images of mixed sizes, with the counts (None when all are one size):
    every image becomes side x side, so a non-square one is stretched unless framing cuts
    the square around its object first."""
    from collections import Counter

    counts = Counter(sizes)
    if len(counts) < 2:
        return None
    shown = ", ".join(f"{w}x{h} ({c:,})" for (w, h), c in counts.most_common(4))
    more = f" and {len(counts) - 4} more" if len(counts) > 4 else ""
    oblong = sum(c for (w, h), c in counts.items() if w != h)
    ratios = [max(w, h) / min(w, h) for (w, h) in counts if w != h and min(w, h) > 0]
    text = f"images of {len(counts)} sizes: {shown}{more}; each is resized to {side}x{side}"
    if not oblong:
        return text
    if framed:
        return (f"{text}, after cutting the square around its object ({oblong:,} of "
                f"{len(sizes):,} are not square, up to {max(ratios):.2f}:1)")
    return (f"{text}, so the images that are not square ({oblong:,} of {len(sizes):,}, up to "
            f"{max(ratios):.2f}:1) are stretched; crop or pad them to one shape to keep their "
            "proportions")


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
    progress: Callable[[int, int, dict], None] | None = None,
    framing: str = "auto",
) -> ImageSet:
    """Read every image under ``folder``, square-resized to ``image_size`` with ``channels``.

    Defaults come from the data: 1 channel when every image is grayscale, else 3; framing
    ("auto": cut each image to the square around its object when a sample shows objects
    clearly smaller than the frame, see framing.py; "object": always; "full": never); as
    the side, the smallest that keeps the content's detail (``choose_image_size`` on the
    sample), at most 64 so a CPU run stays short.
    """
    root = Path(folder)
    if not root.exists():
        raise InputError(f"folder '{root}' does not exist")
    if not root.is_dir():
        raise InputError(f"'{root}' is not a folder; point mitool cluster at a folder of images")
    if channels is not None and channels not in (1, 3):
        raise UsageError(f"{{param}} must be 1 or 3, got {channels}",
                         parameter="channels", function="ImageOptions")
    if framing not in FRAMINGS:
        raise UsageError(f"{{param}} must be one of {', '.join(FRAMINGS)}, got '{framing}'",
                         parameter="framing", function="ImageOptions")
    if image_size is not None and not MIN_SIZE <= image_size <= 512:
        raise UsageError(f"{{param}} must be between {MIN_SIZE} and 512, got {image_size}",
                         parameter="image_size", function="ImageOptions")

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
    native = int(max(MIN_SIZE, round(float(np.median([max(h[1]) for _, h in readable])))))
    framed, measured = _survey(readable, native, framing, image_size is None)
    image_size = image_size if image_size is not None else measured

    notes = [n for n in [size_note([h[1] for _, h in readable], image_size, framed)] if n]
    if progress is not None:
        for note in notes:  # said before the (long) decoding and resizing
            progress(0, 0, {"message": note})

    # (N, 3, S, S) uint8 while the colour mode is open; 1 channel right away when it is not
    n = len(readable)
    planes = 1 if channels == 1 else 3
    images = np.empty((n, planes, image_size, image_size), dtype=np.uint8)
    gray = np.ones(n, dtype=bool)
    inverted = np.zeros(n, dtype=bool)
    kept: list[Path] = []
    for count, (path, _) in enumerate(readable):
        if progress is not None and count % 500 == 0:
            progress(count, n, {"stage": "reading images"})
        decoded = _decode(path, image_size, framed, planes)
        if decoded is None:
            skipped.append(str(path))
            continue
        i = len(kept)
        images[i], inverted[i], gray[i] = decoded
        kept.append(path)
    if not kept:
        raise InputError(f"none of the {len(candidates)} image files under '{root}' could be read")
    images = images[:len(kept)]
    if channels is None:  # gray when every image is (GIF and WebP store gray as colour)
        channels = 1 if bool(gray[:len(kept)].all()) else 3
    if channels == 1 and images.shape[1] == 3:
        images = np.concatenate([_luma(images[i:i + 4096]) for i in range(0, len(images), 4096)])
    if progress is not None:
        progress(n, n, {"stage": "reading images"})
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
        framed=framed,
        inverted=inverted[:len(kept)] if framed else None,
        notes=notes,
    )
