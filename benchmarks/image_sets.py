"""Image folders at real sizes for benchmarks/cluster.py, generated here (nothing is downloaded).

Each family writes ``<folder>/<class>/<index>.<ext>``; the class folders are labels for
scoring only. Objects move and change size in the frame, backgrounds are not black, some
families are colour, some JPEG. Every image is drawn from a seeded generator, so a family
with the same seed is the same folder on every machine.

    python benchmarks/image_sets.py digits28 out/digits28 --seed 1     # one family by hand

Families (see FAMILIES): ``digits28`` scan-like digits (scikit-learn's 8x8 digits,
upsampled and placed at a random position, size and stroke, dark on light), ``digits28-light``
(the same, light on dark, JPEG), ``shapes32`` (5 colour shapes at random position, size,
rotation and colour), ``glyphs40`` (10 letters in 16 fonts Matplotlib ships, JPEG),
``textures64`` (6 colour texture classes, JPEG).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

# ---------------------------------------------------------------- digits (scan-like)


def _digit_sources() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.images.astype(np.float32) / 16.0, d.target.astype(np.int64)  # (1797, 8, 8)


def _render_digit(src: np.ndarray, rng: np.random.Generator, size: int, light: bool) -> Image.Image:
    """One 8x8 digit as a scan: random height 11-25 px, aspect, slant, stroke, place, paper."""
    h = int(rng.integers(11, 26))
    w = max(6, int(round(h * rng.uniform(0.7, 1.0))))
    glyph = Image.fromarray((src * 255).astype(np.uint8)).resize((w, h), Image.Resampling.BICUBIC)
    glyph = glyph.rotate(float(rng.uniform(-12, 12)), resample=Image.Resampling.BILINEAR,
                         expand=True)
    ink = np.asarray(glyph, dtype=np.float32) / 255.0
    ink = np.clip(ink, 0, 1) ** rng.uniform(0.6, 1.6)  # stroke: <1 thickens, >1 thins
    gh, gw = ink.shape
    gh, gw = min(gh, size), min(gw, size)
    ink = ink[:gh, :gw]
    y, x = int(rng.integers(0, size - gh + 1)), int(rng.integers(0, size - gw + 1))
    canvas = np.zeros((size, size), dtype=np.float32)
    canvas[y:y + gh, x:x + gw] = ink
    if light:  # light ink on dark
        paper, pen = rng.uniform(0, 70), rng.uniform(170, 255)
    else:  # dark ink on light paper, as scans are
        paper, pen = rng.uniform(175, 250), rng.uniform(0, 80)
    gradient = np.linspace(-1, 1, size)[None, :] * rng.uniform(-12, 12)  # uneven lighting
    pixels = paper + gradient + (pen - paper) * canvas + rng.normal(0, rng.uniform(2, 8),
                                                                     canvas.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def make_digits(folder: Path, n: int | None = None, seed: int = 0, size: int = 28,
                light: bool = False, fmt: str = "png") -> None:
    """Scan-like digits: every source digit once (n=None: 1,797 images) or cycled to n."""
    sources, labels = _digit_sources()
    rng = np.random.default_rng(seed)
    count = len(sources) if n is None else n
    order = np.arange(count) % len(sources)
    for c in range(10):
        (folder / str(c)).mkdir(parents=True, exist_ok=True)
    for i, s in enumerate(order):
        img = _render_digit(sources[s], rng, size, light)
        _save(img, folder / str(int(labels[s])) / f"{i:05d}", fmt, rng)


# ---------------------------------------------------------------- colour shapes

SHAPES = ("circle", "square", "triangle", "cross", "star")


def _polygon(name: str, cx: float, cy: float, r: float, angle: float) -> list[tuple[float, float]]:
    if name == "square":
        pts = [(math.cos(a), math.sin(a)) for a in np.arange(4) * math.pi / 2 + math.pi / 4]
    elif name == "triangle":
        pts = [(math.cos(a), math.sin(a)) for a in np.arange(3) * 2 * math.pi / 3 - math.pi / 2]
    elif name == "star":
        pts = [((1.0 if i % 2 == 0 else 0.42) * math.cos(a), (1.0 if i % 2 == 0 else 0.42)
                * math.sin(a)) for i, a in enumerate(np.arange(10) * math.pi / 5 - math.pi / 2)]
    elif name == "cross":
        t = 0.33
        pts = [(-t, -1), (t, -1), (t, -t), (1, -t), (1, t), (t, t), (t, 1), (-t, 1), (-t, t),
               (-1, t), (-1, -t), (-t, -t)]
    else:
        raise ValueError(name)
    ca, sa = math.cos(angle), math.sin(angle)
    return [(cx + r * (ca * px - sa * py), cy + r * (sa * px + ca * py)) for px, py in pts]


def _random_colour(rng: np.random.Generator, value: tuple[int, int]) -> tuple[int, int, int]:
    hsv = (int(rng.integers(0, 256)), int(rng.integers(90, 256)), int(rng.integers(*value)))
    return Image.new("HSV", (1, 1), hsv).convert("RGB").getpixel((0, 0))


def make_shapes(folder: Path, per_class: int = 300, seed: int = 0, size: int = 32,
                fmt: str = "png") -> None:
    """Five filled shapes at random position, size (30-85 % of the side), rotation and colour,
    on a random background colour, light or dark."""
    rng = np.random.default_rng(seed)
    scale = 4
    big = size * scale
    for name in SHAPES:
        (folder / name).mkdir(parents=True, exist_ok=True)
    for i in range(per_class * len(SHAPES)):
        name = SHAPES[i % len(SHAPES)]
        dark_bg = rng.random() < 0.5
        bg = _random_colour(rng, (10, 90) if dark_bg else (170, 256))
        fg = _random_colour(rng, (150, 256) if dark_bg else (20, 140))
        img = Image.new("RGB", (big, big), bg)
        draw = ImageDraw.Draw(img)
        r = rng.uniform(0.15, 0.42) * big  # circumradius
        cx, cy = rng.uniform(r * 0.8, big - r * 0.8, size=2)
        if name == "circle":
            draw.ellipse((cx - r * 0.85, cy - r * 0.85, cx + r * 0.85, cy + r * 0.85), fill=fg)
        else:
            draw.polygon(_polygon(name, cx, cy, r, rng.uniform(0, 2 * math.pi)), fill=fg)
        img = img.resize((size, size), Image.Resampling.LANCZOS)
        _save(_add_noise(img, rng, 4), folder / name / f"{i:05d}", fmt, rng)


# ---------------------------------------------------------------- glyphs in many fonts

LETTERS = "ABEGHKMRSX"
FONT_FILES = (
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf",
    "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSansMono.ttf",
    "DejaVuSansMono-Bold.ttf", "STIXGeneral.ttf", "STIXGeneralBol.ttf", "STIXGeneralItalic.ttf",
    "cmr10.ttf", "cmss10.ttf", "cmtt10.ttf", "cmb10.ttf",
)


def _font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def make_glyphs(folder: Path, per_class: int = 150, seed: int = 0, size: int = 40,
                fmt: str = "jpg") -> None:
    """Ten capital letters in 16 fonts, random size (35-85 % of the side), place, slant,
    ink and paper grey, as lossy JPEG."""
    rng = np.random.default_rng(seed)
    fonts = [str(_font_dir() / f) for f in FONT_FILES if (_font_dir() / f).is_file()]
    scale = 4
    big = size * scale
    for letter in LETTERS:
        (folder / letter).mkdir(parents=True, exist_ok=True)
    for i in range(per_class * len(LETTERS)):
        letter = LETTERS[i % len(LETTERS)]
        font = ImageFont.truetype(fonts[int(rng.integers(len(fonts)))],
                                  int(rng.uniform(0.4, 0.95) * big))
        layer = Image.new("L", (big, big), 0)
        ImageDraw.Draw(layer).text((big / 2, big / 2), letter, fill=255, font=font, anchor="mm")
        layer = layer.rotate(float(rng.uniform(-15, 15)), resample=Image.Resampling.BILINEAR)
        box = layer.getbbox() or (0, 0, big, big)
        glyph = layer.crop(box)
        canvas = Image.new("L", (big, big), 0)
        gw, gh = glyph.size
        canvas.paste(glyph, (int(rng.integers(0, max(1, big - gw + 1))),
                             int(rng.integers(0, max(1, big - gh + 1)))))
        ink = np.asarray(canvas.resize((size, size), Image.Resampling.LANCZOS),
                         dtype=np.float32) / 255.0
        light = rng.random() < 0.3  # mostly dark on light, some light on dark
        paper = rng.uniform(10, 80) if light else rng.uniform(170, 250)
        pen = rng.uniform(170, 255) if light else rng.uniform(0, 90)
        pixels = paper + (pen - paper) * ink + rng.normal(0, 4, ink.shape)
        img = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
        _save(img, folder / letter / f"{i:05d}", fmt, rng)


# ---------------------------------------------------------------- colour textures

TEXTURES = ("stripes", "checks", "dots", "rings", "blobs", "grid")


def _texture(name: str, rng: np.random.Generator, size: int) -> np.ndarray:
    """(size, size) pattern in [0, 1] of one texture class at a random scale and angle."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    a = rng.uniform(0, math.pi)
    u = xx * math.cos(a) + yy * math.sin(a)
    v = -xx * math.sin(a) + yy * math.cos(a)
    f = rng.uniform(3, 7)  # periods across the image
    phase = rng.uniform(0, 1, size=2)
    if name == "stripes":
        return (np.sin(2 * math.pi * (f * u + phase[0])) > 0).astype(np.float32)
    if name == "checks":
        return ((np.floor(f * u + phase[0]) + np.floor(f * v + phase[1])) % 2).astype(np.float32)
    if name == "dots":
        du = (f * u + phase[0]) % 1 - 0.5
        dv = (f * v + phase[1]) % 1 - 0.5
        return (du ** 2 + dv ** 2 < rng.uniform(0.06, 0.12)).astype(np.float32)
    if name == "grid":
        du = np.abs((f * u + phase[0]) % 1 - 0.5)
        dv = np.abs((f * v + phase[1]) % 1 - 0.5)
        return ((du > 0.38) | (dv > 0.38)).astype(np.float32)
    if name == "rings":
        c = rng.uniform(0.1, 0.9, size=2)
        r = np.sqrt((xx - c[0]) ** 2 + (yy - c[1]) ** 2)
        return (np.sin(2 * math.pi * f * r) > 0).astype(np.float32)
    if name == "blobs":
        noise = rng.normal(size=(size // 8 + 1, size // 8 + 1)).astype(np.float32)
        smooth = np.asarray(Image.fromarray(noise, mode="F").resize(
            (size, size), Image.Resampling.BICUBIC))
        return (smooth > 0).astype(np.float32)
    raise ValueError(name)


def make_textures(folder: Path, per_class: int = 200, seed: int = 0, size: int = 64,
                  fmt: str = "jpg") -> None:
    """Six two-colour texture classes at random scale, angle, phase and colours, JPEG."""
    rng = np.random.default_rng(seed)
    for name in TEXTURES:
        (folder / name).mkdir(parents=True, exist_ok=True)
    for i in range(per_class * len(TEXTURES)):
        name = TEXTURES[i % len(TEXTURES)]
        pattern = _texture(name, rng, size)[..., None]  # (S, S, 1)
        c0 = np.array(_random_colour(rng, (20, 256)), dtype=np.float32)
        c1 = np.array(_random_colour(rng, (20, 256)), dtype=np.float32)
        while np.abs(c0 - c1).sum() < 120:  # two colours that can be told apart
            c1 = np.array(_random_colour(rng, (20, 256)), dtype=np.float32)
        pixels = c0 + (c1 - c0) * pattern
        img = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), mode="RGB")
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
        _save(_add_noise(img, rng, 5), folder / name / f"{i:05d}", fmt, rng)


# ---------------------------------------------------------------- shared


def _add_noise(img: Image.Image, rng: np.random.Generator, sigma: float) -> Image.Image:
    arr = np.asarray(img, dtype=np.float32)
    return Image.fromarray(np.clip(arr + rng.normal(0, sigma, arr.shape), 0, 255)
                           .astype(np.uint8), mode=img.mode)


def _save(img: Image.Image, stem: Path, fmt: str, rng: np.random.Generator) -> None:
    if fmt == "png":
        img.save(stem.with_suffix(".png"))
    else:  # lossy JPEG at a random quality, as photos and scans come
        img.save(stem.with_suffix(".jpg"), quality=int(rng.integers(55, 91)))


# name -> (writer(folder, seed), k, what it is)
FAMILIES: dict[str, tuple[Callable[[Path, int], None], int, str]] = {
    "digits28": (lambda f, s: make_digits(f, seed=s), 10,
                 "1,797 scan-like digits, 28 px, dark on light, gray, PNG"),
    "digits28-light": (lambda f, s: make_digits(f, seed=s, light=True, fmt="jpg"), 10,
                       "1,797 digits, 28 px, light on dark, gray, JPEG"),
    "shapes32": (lambda f, s: make_shapes(f, seed=s), 5,
                 "1,500 colour shapes, 32 px, random position/size/rotation/colour, PNG"),
    "glyphs40": (lambda f, s: make_glyphs(f, seed=s), 10,
                 "1,500 letters in 16 fonts, 40 px, mostly dark on light, gray, JPEG"),
    "textures64": (lambda f, s: make_textures(f, seed=s), 6,
                   "1,200 colour textures, 64 px, JPEG"),
    "digits28-60k": (lambda f, s: make_digits(f, n=60_000, seed=s), 10,
                     "60,000 scan-like digits, 28 px (each source digit ~33 times), PNG"),
}


def ensure(name: str, root: Path, seed: int) -> Path:
    """The folder of family ``name`` for ``seed`` under ``root``, written once."""
    folder = root / f"{name}-seed{seed}"
    done = folder / ".complete"
    if not done.exists():
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
        FAMILIES[name][0](folder, seed)
        done.write_text("ok\n")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description="write one benchmark image family")
    parser.add_argument("family", choices=sorted(FAMILIES))
    parser.add_argument("root", type=Path, help="parent folder (the family goes in a sub-folder)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(ensure(args.family, args.root, args.seed))


if __name__ == "__main__":
    main()
