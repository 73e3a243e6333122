"""Figures mitool writes as PNG files: neural training curves and the all-pairs MI heatmap.

matplotlib is an optional dependency (the ``plot`` extra); both functions raise a UsageError
that names the extra when it is missing, and write their file atomically. Library code may
call them; they never show a window or print.
"""

from __future__ import annotations

import math
import os

import numpy as np

from mitool.atomic import atomic_path
from mitool.errors import UsageError
from mitool.estimators.base import EstimatorResult

UNIT_FACTORS = {"nats": 1.0, "bits": 1.0 / math.log(2)}


def plot_training_curves(
    results: list[EstimatorResult],
    path: str | os.PathLike[str],
    unit: str = "nats",
    truth: float | None = None,
) -> None:
    """One panel: train (dashed) and validation (solid) estimate per evaluation step for each
    neural result that has a curve; held-out final estimates as dots at the best step.

    Each result's values are converted from its own ``unit`` to ``unit``; ``truth`` (nats)
    draws a reference line when the MI is known (synthetic data).
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise UsageError("--plot needs matplotlib: pip install 'mitool[plot]'") from exc
    if unit not in UNIT_FACTORS:
        raise UsageError(f"unknown unit {unit!r}; choose nats or bits")
    curves = [r for r in results if r.details.get("curve")]
    if not curves:
        raise UsageError("--plot needs at least one neural estimator (none produced a curve)")

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, r in enumerate(curves):
        k = UNIT_FACTORS[unit] / UNIT_FACTORS[r.unit]  # the result's unit -> the plot's
        c = colors[i % len(colors)]
        steps = [p["step"] for p in r.details["curve"]]
        ax.plot(steps, [p["train"] * k for p in r.details["curve"]], "--", color=c, alpha=0.6,
                lw=1, label=f"{r.estimator} train")
        val = [p["validation"] for p in r.details["curve"]]
        if any(v is not None for v in val):  # None when early stopping had no validation rows
            ax.plot(steps, [np.nan if v is None else v * k for v in val], "-", color=c, lw=1.5,
                    label=f"{r.estimator} validation")
        if r.mi is not None:
            ax.plot([r.details.get("best_step", steps[-1])], [r.mi * k], "o", color=c,
                    label=f"{r.estimator} held-out {r.mi * k:.3f}")
    if truth is not None:
        t = truth * UNIT_FACTORS[unit]
        ax.axhline(t, color="black", lw=1, ls=":", label=f"truth {t:.3f}")
    ax.set_xlabel("training step")
    ax.set_ylabel(f"MI estimate ({unit})")
    ax.set_title("Neural MI estimators: training curves")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp)
    finally:
        plt.close(fig)


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
