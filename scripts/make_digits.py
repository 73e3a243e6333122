"""Write scikit-learn's bundled handwritten digits as PNGs: sample_data/digits/<label>/<index>.png.

The 1,797 8x8 images (values 0..16) are scaled to 0..255 grayscale so ``mitool cluster
sample_data/digits --k 10`` runs out of the box; the class sub-folders serve as labels for
evaluation only. Usage: ``python scripts/make_digits.py [--out sample_data/digits]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_out = Path(__file__).resolve().parent.parent / "sample_data" / "digits"
    parser.add_argument("--out", type=Path, default=default_out, help="output folder")
    args = parser.parse_args()

    digits = load_digits()
    pixels = np.clip(np.rint(digits.images * (255.0 / 16.0)), 0, 255).astype(np.uint8)
    for index, (image, label) in enumerate(zip(pixels, digits.target, strict=True)):
        folder = args.out / str(int(label))
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / f"{index:04d}.png", optimize=True)
    print(f"wrote {len(pixels)} images to {args.out}")


if __name__ == "__main__":
    main()
