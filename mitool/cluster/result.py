"""What one clustering run found (``ClusterResult``), and the plain-words checks on it.

``structure_warnings`` is where "never a silent wrong number" lives for clustering: when the
chosen sub-head's two perturbed views share little information (far below log k), or some
clusters are empty, or one holds most images, the report says so and what to change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mitool.cluster.loss import min_possible_loss

# Below this share of log k the chosen sub-head's I(z; z') is "little structure found".
# Calibrated on the benchmark families in docs/benchmarks.md: runs that found the classes
# kept 0.7-0.9 of log k, runs that clustered by position or at chance below 0.5.
LITTLE_STRUCTURE = 0.5



SCHEMA_VERSION = 4  # 4: settings.standardise renamed standardize (docs/cluster.md)

@dataclass
class ClusterResult:
    """Everything one clustering run found; plain numpy/python values (JSON via ``to_dict``)."""

    paths: list[str]
    clusters: np.ndarray  # (N,) cluster index per image
    confidence: np.ndarray  # (N,) probability of that cluster
    k: int
    n_skipped: int
    skipped: list[str]
    cluster_sizes: list[int]
    chosen_subhead: int
    subhead_losses: list[float]  # IIC loss of every main sub-head on augmented pairs
    loss: float  # the chosen sub-head's loss (minimum: min_possible_loss)
    metrics: dict[str, float] | None  # accuracy / nmi / ari against folder labels
    baseline_kmeans: dict[str, float] | None
    seconds: float
    device: str
    threads: int
    warnings: list[str]
    mode: str  # "train" or "load"
    labels: np.ndarray | None = field(default=None, repr=False)
    label_names: list[str] | None = None
    channels: int = 1
    image_size: int = 0
    framed: bool = False  # images were cut to the square around their object
    loss_history: list[float] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    lambda_entropy: float = 1.0  # the weight the losses were computed with
    mutual_information: float = 0.0  # I(z; z') of the chosen sub-head on perturbed pairs, nats
    overcluster: dict[str, Any] | None = None  # the over-clustering head's answer, scored
    training: dict[str, Any] = field(default_factory=dict)  # steps, plan, early stop, threads
    images: np.ndarray | None = field(default=None, repr=False)  # (N, C, S, S) uint8
    inverted: np.ndarray | None = field(default=None, repr=False)  # (N,) made light-on-dark
    model_state: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def n_images(self) -> int:
        return len(self.paths)

    @property
    def min_possible_loss(self) -> float:
        """The lowest loss k clusters allow at this lambda: -(2 lambda - 1) log k (lambda > 1/2)."""
        return min_possible_loss(self.k, self.lambda_entropy)

    def to_dict(self) -> dict[str, Any]:
        """The versioned JSON report (see docs/cluster.md); no arrays per image."""
        from mitool import __version__

        return {
            "schema_version": SCHEMA_VERSION,
            "mitool_version": __version__,
            "command": "cluster",
            "mode": self.mode,
            "n_images": self.n_images,
            "n_skipped": self.n_skipped,
            "skipped": self.skipped[:20],
            "k": self.k,
            "channels": self.channels,
            "image_size": self.image_size,
            "framed": self.framed,
            "cluster_sizes": self.cluster_sizes,
            "chosen_subhead": self.chosen_subhead,
            "subhead_losses": self.subhead_losses,
            "loss": self.loss,
            "min_possible_loss": self.min_possible_loss,
            "lambda_entropy": self.lambda_entropy,
            "mutual_information": self.mutual_information,
            "max_mutual_information": math.log(self.k),
            "metrics": self.metrics,
            "baseline_kmeans": self.baseline_kmeans,
            "overcluster": self.overcluster,
            "label_names": self.label_names,
            "loss_history": self.loss_history,
            "training": self.training,
            "settings": self.settings,
            "seconds": self.seconds,
            "device": self.device,
            "threads": self.threads,
            "warnings": self.warnings,
        }


def structure_warnings(sizes: list[int], mutual_information: float, k: int,
                       dominant: float = 0.5) -> list[str]:
    """Plain warnings when little structure was found, clusters are empty, or one dominates."""
    warnings: list[str] = []
    total = sum(sizes)
    share = mutual_information / math.log(k) if k > 1 else 0.0
    if share < LITTLE_STRUCTURE:
        warnings.append(
            f"little structure found: two perturbed copies of an image share "
            f"{mutual_information:.2f} nats of cluster information, of log k = {math.log(k):.2f} "
            f"possible ({share:.0%}), so these clusters are not much more than chance groupings; "
            "try a smaller --k, perturbations that match how your images vary (--translate, "
            "--zoom, --rotation), or more training (--steps)"
        )
    empty = [i for i, s in enumerate(sizes) if s == 0]
    if empty:
        warnings.append(
            f"{len(empty)} of {len(sizes)} clusters are empty ({', '.join(map(str, empty[:10]))}"
            f"{', ...' if len(empty) > 10 else ''}); the folder may hold fewer groups than --k: "
            "try a smaller --k, a larger --lambda-entropy (2 or more; the default is 1.5), or more --steps"
        )
    if total and len(sizes) > 1 and max(sizes) > dominant * total:
        big = int(np.argmax(sizes))
        warnings.append(
            f"cluster {big} holds {max(sizes)} of {total} images ({max(sizes) / total:.0%}); "
            "the clustering may have collapsed: try a larger --lambda-entropy (2 or more; the default is 1.5)"
        )
    return warnings
