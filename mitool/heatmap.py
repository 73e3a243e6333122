"""The all-pairs MI heatmap (matplotlib is an optional dependency)."""

from __future__ import annotations

import os

import numpy as np

from mitool.atomic import atomic_path
from mitool.errors import UsageError


def draw_heatmap(
    names: list[str], matrix: np.ndarray, path: str | os.PathLike[str], unit: str, title: str
) -> None:
    """Write a PNG heatmap of a symmetric MI matrix, atomically."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError("--heatmap needs matplotlib: pip install 'mitool[plot]'") from None
    n = len(names)
    size = min(4 + 0.35 * n, 30)
    fig, ax = plt.subplots(figsize=(size, size * 0.85))
    im = ax.imshow(np.ma.masked_invalid(matrix), cmap="viridis")
    ax.set_xticks(range(n), names, rotation=90, fontsize=8)
    ax.set_yticks(range(n), names, fontsize=8)
    if n <= 20:
        for i in range(n):
            for j in range(n):
                if np.isfinite(matrix[i, j]):
                    ax.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", fontsize=7,
                            color="white" if matrix[i, j] < np.nanmax(matrix) * 0.6 else "black")
    fig.colorbar(im, ax=ax, label=f"MI ({unit})")
    ax.set_title(title)
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
