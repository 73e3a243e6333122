"""Benchmark `mitool cluster` (IIC) against k-means on raw pixels: accuracy, NMI, ARI, wall time.

Data sets: scikit-learn's digits (sample_data/digits, written by scripts/make_digits.py) over
several seeds, and rendered shapes (circle / square / triangle / cross with random position,
size and colour, generated here with Pillow). Runs on CPU with one torch thread by default
(the fastest setting measured on 2 cores). Results go to docs/benchmarks.md.

    python benchmarks/cluster.py                      # defaults: digits x 3 seeds + shapes
    python benchmarks/cluster.py --seeds 0 1 2 3 4 --datasets digits --epochs 40
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mitool.cluster import cluster  # noqa: E402
from mitool.cluster.metrics import evaluate, kmeans_clusters  # noqa: E402

SHAPES = ("circle", "square", "triangle", "cross")


def make_shapes(folder: Path, per_class: int = 150, size: int = 16, seed: int = 0) -> None:
    """Render shapes of random position, size and colour on a dark background, one folder each."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    scale = 4  # draw large, then downsample: smooth edges
    big = size * scale
    for name in SHAPES:
        (folder / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            img = Image.new("RGB", (big, big), tuple(int(v) for v in rng.integers(0, 50, 3)))
            draw = ImageDraw.Draw(img)
            side = rng.uniform(0.4, 0.75) * big
            x0, y0 = rng.uniform(0, big - side, size=2)
            x1, y1 = x0 + side, y0 + side
            hsv = (int(rng.integers(0, 256)), int(rng.integers(120, 256)), int(rng.integers(150, 256)))
            colour = Image.new("HSV", (1, 1), hsv).convert("RGB").getpixel((0, 0))
            if name == "circle":
                draw.ellipse((x0, y0, x1, y1), fill=colour)
            elif name == "square":
                draw.rectangle((x0, y0, x1, y1), fill=colour)
            elif name == "triangle":
                draw.polygon([((x0 + x1) / 2, y0), (x1, y1), (x0, y1)], fill=colour)
            else:
                w = side / 3
                draw.rectangle((x0 + w, y0, x1 - w, y1), fill=colour)
                draw.rectangle((x0, y0 + w, x1, y1 - w), fill=colour)
            img.resize((size, size), Image.Resampling.LANCZOS).save(folder / name / f"{i:04d}.png")


def digits_folder() -> Path:
    folder = ROOT / "sample_data" / "digits"
    if not folder.is_dir():
        sys.exit("sample_data/digits is missing: run python scripts/make_digits.py first")
    return folder


def run_one(name: str, folder: Path, k: int, seed: int, args: argparse.Namespace,
            **options) -> dict:
    """One IIC run and one k-means run (timed separately) on the same images."""
    extra = {key: getattr(args, key) for key in ("epochs", "batch_size", "repeats", "lr")
             if getattr(args, key) is not None}
    extra.update(options)
    start, cpu = time.perf_counter(), time.process_time()
    result = cluster(folder, k=k, seed=seed, threads=args.threads, baseline=False, **extra)
    iic_seconds, iic_cpu = time.perf_counter() - start, time.process_time() - cpu
    flat = result.images.reshape(len(result.images), -1)
    start, cpu = time.perf_counter(), time.process_time()
    km = evaluate(result.labels, kmeans_clusters(flat, k, seed))
    km_seconds, km_cpu = time.perf_counter() - start, time.process_time() - cpu
    row = {"data": name, "seed": seed, "iic": result.metrics, "iic_s": iic_seconds, "iic_cpu": iic_cpu,
           "kmeans": km, "kmeans_s": km_seconds, "kmeans_cpu": km_cpu, "subhead": result.chosen_subhead,
           "loss": result.loss, "n": result.n_images, "k": k}
    print(f"{name} seed {seed}: IIC acc {result.metrics['accuracy']:.3f} nmi "
          f"{result.metrics['nmi']:.3f} ari {result.metrics['ari']:.3f} ({iic_seconds:.0f} s, cpu {iic_cpu:.0f} s, "
          f"sub-head {result.chosen_subhead}, loss {result.loss:.3f} / min {-math.log(k):.3f}) | "
          f"k-means acc {km['accuracy']:.3f} nmi {km['nmi']:.3f} ari {km['ari']:.3f} "
          f"({km_seconds:.1f} s)", flush=True)
    return row


def table(rows: list[dict]) -> str:
    """Markdown table: one line per run, then the mean per data set and method."""
    lines = ["| data | seed | method | accuracy | NMI | ARI | wall (s) | CPU (s) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        for method, key in (("IIC", "iic"), ("k-means (pixels)", "kmeans")):
            m = r[key]
            lines.append(f"| {r['data']} | {r['seed']} | {method} | {m['accuracy']:.3f} | "
                         f"{m['nmi']:.3f} | {m['ari']:.3f} | {r[key + '_s']:.1f} | "
                         f"{r[key + '_cpu']:.1f} |")
    for name in dict.fromkeys(r["data"] for r in rows):
        sel = [r for r in rows if r["data"] == name]
        for method, key in (("IIC", "iic"), ("k-means (pixels)", "kmeans")):
            acc = np.array([r[key]["accuracy"] for r in sel])
            nmi = np.mean([r[key]["nmi"] for r in sel])
            ari = np.mean([r[key]["ari"] for r in sel])
            secs = np.mean([r[key + "_s"] for r in sel])
            cpu = np.mean([r[key + "_cpu"] for r in sel])
            lines.append(f"| **{name}** | mean of {len(sel)} | **{method}** | "
                         f"**{acc.mean():.3f}** (min {acc.min():.3f}) | {nmi:.3f} | {ari:.3f} | "
                         f"{secs:.1f} | {cpu:.1f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="IIC vs k-means on digits and shapes")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--shape-seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--datasets", nargs="+", default=["digits", "shapes"],
                        choices=["digits", "shapes"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--skip-default-shapes", action="store_true",
                        help="shapes only with the stronger augmentation")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--lr", type=float)
    args = parser.parse_args()

    import torch

    print(f"torch {torch.__version__}, {args.threads} thread(s), CPU", flush=True)
    rows = []
    if "digits" in args.datasets:
        for seed in args.seeds:
            rows.append(run_one("digits", digits_folder(), 10, seed, args))
    if "shapes" in args.datasets:
        with tempfile.TemporaryDirectory() as tmp:
            make_shapes(Path(tmp))
            for seed in args.shape_seeds:
                if not args.skip_default_shapes:
                    rows.append(run_one("shapes", Path(tmp), len(SHAPES), seed, args))
                rows.append(run_one("shapes, --translate 0.25 --zoom 0.2", Path(tmp),
                                    len(SHAPES), seed, args, translate=0.25, zoom=0.2))
    print()
    print(table(rows))


if __name__ == "__main__":
    main()
