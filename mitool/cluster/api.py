"""Invariant Information Clustering (IIC) of a folder of images: the library API.

``cluster(folder, k=10)`` trains a small CNN so that an image and a randomly perturbed copy
of it land in the same cluster (maximising the mutual information of the two assignments),
picks the sub-head with the lowest IIC loss (never by labels), and scores it against the
sub-folder labels when they exist, beside k-means on raw pixels. ``assign(folder, model)``
clusters new images with a model saved by ``save_model``. Nothing here prints or exits.
"""

from __future__ import annotations

import contextlib
import csv
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from mitool.cluster.augment import AugmentConfig
from mitool.cluster.images import ImageSet, load_folder
from mitool.cluster.loss import min_possible_loss
from mitool.cluster.metrics import (
    cluster_sizes,
    degeneracy_warnings,
    evaluate,
    kmeans_clusters,
)
from mitool.cluster.model import ModelSpec
from mitool.cluster.montage import save_montage
from mitool.cluster.train import TrainConfig
from mitool.errors import InputError, UsageError

__all__ = [
    "AugmentConfig",
    "ClusterResult",
    "TrainConfig",
    "assign",
    "cluster",
    "load_model",
    "save_model",
    "write_assignments",
    "write_montage",
]

Progress = Callable[[int, int, dict], None]
MODEL_FORMAT = "mitool-iic-model"
MODEL_FORMAT_VERSION = 1


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
    loss_history: list[float] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    lambda_entropy: float = 1.0  # the weight the losses were computed with
    images: np.ndarray | None = field(default=None, repr=False)  # (N, C, S, S) in [0, 1]
    model_state: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def n_images(self) -> int:
        return len(self.paths)

    @property
    def min_possible_loss(self) -> float:
        """The lowest loss k clusters allow at this lambda: -(2 lambda - 1) log k (lambda > 1/2)."""
        return min_possible_loss(self.k, self.lambda_entropy)

    def to_dict(self) -> dict[str, Any]:
        """The JSON report fields (see docs/cluster.md); no arrays per image."""
        return {
            "mode": self.mode,
            "n_images": self.n_images,
            "n_skipped": self.n_skipped,
            "skipped": self.skipped[:20],
            "k": self.k,
            "channels": self.channels,
            "image_size": self.image_size,
            "cluster_sizes": self.cluster_sizes,
            "chosen_subhead": self.chosen_subhead,
            "subhead_losses": self.subhead_losses,
            "loss": self.loss,
            "min_possible_loss": self.min_possible_loss,
            "lambda_entropy": self.lambda_entropy,
            "metrics": self.metrics,
            "baseline_kmeans": self.baseline_kmeans,
            "label_names": self.label_names,
            "loss_history": self.loss_history,
            "settings": self.settings,
            "seconds": self.seconds,
            "device": self.device,
            "threads": self.threads,
            "warnings": self.warnings,
        }


@contextlib.contextmanager
def _torch_threads(n: int | None, device) -> Iterator[int]:
    """Set torch's CPU thread count for the run and restore it afterwards.

    Default 1: the models are small, and on 2 cores threading overhead dominates (measured in
    benchmarks/cluster.py; up to 16x slower with 2 threads when another process is busy).
    """
    import torch

    before = torch.get_num_threads()
    chosen = n if n is not None else (1 if device.type == "cpu" else before)
    if chosen < 1:
        raise UsageError(f"--threads must be at least 1, got {chosen}")
    torch.set_num_threads(chosen)
    try:
        yield chosen
    finally:
        torch.set_num_threads(before)


def _check_k(k: int, n_images: int) -> None:
    if k < 2:
        raise UsageError(f"--k must be at least 2, got {k}")
    if k > n_images:
        raise UsageError(f"--k {k} is larger than the number of images ({n_images})")


def _score(data: ImageSet, clusters: np.ndarray, k: int, seed: int, baseline: bool):
    """(metrics, baseline metrics) when the folder has labels, else (None, None)."""
    if data.labels is None:
        return None, None
    metrics = evaluate(data.labels, clusters, k)
    base = None
    if baseline:
        flat = data.images.reshape(len(data.images), -1)
        base = evaluate(data.labels, kmeans_clusters(flat, k, seed), k)
    return metrics, base


def cluster(
    folder: str | os.PathLike[str],
    k: int = 10,
    *,
    overcluster: int | None = None,
    subheads: int = 5,
    epochs: int = TrainConfig.epochs,
    batch_size: int = TrainConfig.batch_size,
    repeats: int = TrainConfig.repeats,
    lr: float = TrainConfig.lr,
    lambda_entropy: float = TrainConfig.lambda_entropy,
    image_size: int | None = None,
    channels: int | None = None,
    flip: bool = False,
    translate: float | None = None,
    zoom: float | None = None,
    rotation: float | None = None,
    colour_jitter: bool | None = None,
    augment: AugmentConfig | None = None,
    widths: tuple[int, ...] | None = None,
    device: str = "auto",
    seed: int = 0,
    threads: int | None = None,
    baseline: bool = True,
    progress: Progress | None = None,
) -> ClusterResult:
    """Cluster the images under ``folder`` into ``k`` groups with IIC.

    ``overcluster`` defaults to 5k (0 disables the over-clustering head). Sub-folder names,
    when present, are used only to score the result, never to train or choose it.
    ``translate`` (fraction of the side), ``zoom`` (relative), ``rotation`` (degrees),
    ``flip`` and ``colour_jitter`` override the matching fields of ``augment``: raise
    translate/zoom when objects sit anywhere in the frame at any size.
    """
    from mitool.device import resolve_device
    from mitool.seed import seed_everything

    _check_settings(subheads, epochs, batch_size, repeats, lr, lambda_entropy, k)
    over = 5 * k if overcluster is None else overcluster
    if over < 0 or over == 1:
        raise UsageError(f"--overcluster must be 0 (off) or at least 2, got {over}")
    aug = _augment_config(augment, flip, translate, zoom, rotation, colour_jitter)
    start = time.perf_counter()
    dev = resolve_device(device)
    data = load_folder(folder, channels=channels, image_size=image_size)
    _check_k(k, len(data.paths))

    import torch

    from mitool.cluster.model import build_model
    from mitool.cluster.train import predict, score_subheads, train

    cfg = TrainConfig(epochs=epochs, batch_size=batch_size, repeats=repeats, lr=lr,
                      lambda_entropy=lambda_entropy, augment=aug)
    spec = ModelSpec(channels=data.channels, image_size=data.image_size, k=k,
                     overcluster=over, subheads=subheads,
                     widths=tuple(widths) if widths else ModelSpec.widths)
    with _torch_threads(threads, dev) as n_threads:
        seed_everything(seed)
        model = build_model(spec).to(dev)
        images = torch.from_numpy(data.images).to(dev)  # (N, C, S, S)
        heads = ("over", "main") if over > 0 else ("main",)
        history = train(model, images, cfg, heads=heads, progress=progress)
        losses = score_subheads(model, images, cfg)
        chosen = int(np.argmin(losses))
        clusters_t, confidence_t = predict(model, images, chosen)
        clusters = clusters_t.cpu().numpy().astype(np.int64)
        confidence = confidence_t.cpu().numpy().astype(np.float64)
        state = {k_: v.detach().cpu() for k_, v in model.state_dict().items()}

    if progress is not None:
        progress(1, 1, {"stage": "k-means baseline" if baseline else "scoring"})
    settings = {
        "overcluster": over, "subheads": subheads, "epochs": epochs, "batch_size": batch_size,
        "repeats": repeats, "lr": lr, "widths": list(spec.widths), "lambda_entropy": lambda_entropy, "seed": seed,
        "augment": {f: getattr(aug, f) for f in aug.__dataclass_fields__},
    }
    return _result(
        data, clusters, confidence, k, chosen, losses, seed, baseline, start, dev, n_threads,
        mode="train", loss_history=history, settings=settings, lambda_entropy=lambda_entropy,
        model_state={"spec": spec.to_dict(), "state_dict": state, "chosen_subhead": chosen,
                     "lambda_entropy": lambda_entropy, "augment": settings["augment"]},
    )


def _result(data, clusters, confidence, k, chosen, losses, seed, baseline, start, dev,
            n_threads, **extra) -> ClusterResult:
    """Score a clustering (labels, k-means baseline, degeneracy) and package the result."""
    metrics, base = _score(data, clusters, k, seed, baseline)
    sizes = cluster_sizes(clusters, k)
    return ClusterResult(
        paths=data.paths, clusters=clusters, confidence=confidence, k=k,
        n_skipped=data.n_skipped, skipped=data.skipped, cluster_sizes=sizes,
        chosen_subhead=chosen, subhead_losses=losses, loss=losses[chosen], metrics=metrics,
        baseline_kmeans=base, seconds=time.perf_counter() - start, device=str(dev),
        threads=n_threads, warnings=_skip_warnings(data) + degeneracy_warnings(sizes),
        labels=data.labels, label_names=data.label_names, channels=data.channels,
        image_size=data.image_size, images=data.images, **extra,
    )


def _augment_config(augment, flip, translate, zoom, rotation, colour_jitter) -> AugmentConfig:
    """``augment`` (or the defaults) with the explicitly given strengths, validated."""
    aug = augment or AugmentConfig()
    changes: dict[str, Any] = {"flip": flip}
    if translate is not None:
        if not 0 <= translate <= 0.5:
            raise UsageError(f"--translate must be between 0 and 0.5, got {translate}")
        changes["translate"] = translate
    if zoom is not None:
        if not 0 <= zoom < 1:
            raise UsageError(f"--zoom must be at least 0 and below 1, got {zoom}")
        changes["scale"] = (1 - zoom, 1 + zoom)
    if rotation is not None:
        if not 0 <= rotation <= 180:
            raise UsageError(f"--rotation must be between 0 and 180 degrees, got {rotation}")
        changes["rotation"] = rotation
    if colour_jitter is not None:
        changes["colour"] = colour_jitter
    return replace(aug, **changes)


def _check_settings(subheads, epochs, batch_size, repeats, lr, lambda_entropy, k) -> None:
    if k < 2:
        raise UsageError(f"--k must be at least 2, got {k}")
    for name, value in (("--subheads", subheads), ("--epochs", epochs),
                        ("--batch-size", batch_size), ("--repeats", repeats)):
        if value < 1:
            raise UsageError(f"{name} must be at least 1, got {value}")
    if not lr > 0:
        raise UsageError(f"--lr must be positive, got {lr}")
    if not lambda_entropy > 0.5:  # at or below 1/2 one single cluster is optimal (loss.py)
        raise UsageError(f"--lambda-entropy must be above 0.5, got {lambda_entropy} (at or "
                         "below 0.5 the loss is lowest with every image in one cluster)")


def _skip_warnings(data: ImageSet) -> list[str]:
    if not data.n_skipped:
        return []
    shown = ", ".join(os.path.basename(p) for p in data.skipped[:3])
    more = ", ..." if data.n_skipped > 3 else ""
    return [f"skipped {data.n_skipped} unreadable image file(s): {shown}{more}"]


def save_model(result: ClusterResult, path: str | os.PathLike[str]) -> None:
    """Write the trained model (state dict + plain metadata) atomically; loads with weights_only."""
    import torch

    from mitool import __version__
    from mitool.atomic import atomic_path

    if result.model_state is None:
        raise UsageError("this result holds no trained model to save")
    payload = {"format": MODEL_FORMAT, "format_version": MODEL_FORMAT_VERSION,
               "mitool_version": __version__, "label_names": result.label_names,
               **result.model_state}
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def load_model(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a ``save_model`` file safely (``weights_only=True``: no arbitrary objects)."""
    import torch

    if not os.path.exists(path):
        raise InputError(f"model file '{path}' does not exist")
    if not os.path.isfile(path):
        raise InputError(f"model file '{path}' is not a file")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - text, empty, zip or pickle junk all raise differently
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise InputError(f"'{path}' is not a mitool cluster model ({reason})") from None
    if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
        raise InputError(f"'{path}' is not a mitool cluster model")
    try:
        version = int(payload.get("format_version", 0))
        ModelSpec.from_dict(payload["spec"])
        int(payload["chosen_subhead"])
        if not isinstance(payload["state_dict"], dict):
            raise TypeError("state_dict is not a dict")
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"'{path}' is not a mitool cluster model (incomplete: {exc!r})") from None
    if version > MODEL_FORMAT_VERSION:
        raise InputError(f"'{path}' was saved by a newer mitool; upgrade to load it")
    return payload


def assign(
    folder: str | os.PathLike[str],
    model: str | os.PathLike[str] | dict[str, Any],
    *,
    device: str = "auto",
    seed: int = 0,
    threads: int | None = None,
    baseline: bool = True,
    progress: Progress | None = None,
) -> ClusterResult:
    """Cluster the images under ``folder`` with a saved model (a path or ``load_model``'s dict).

    Images are read at the model's size and channels; the reported loss is the model's chosen
    sub-head on augmented pairs of these images.
    """
    from mitool.device import resolve_device
    from mitool.seed import seed_everything

    payload = load_model(model) if not isinstance(model, dict) else model
    spec = ModelSpec.from_dict(payload["spec"])
    chosen = int(payload["chosen_subhead"])
    lam = float(payload.get("lambda_entropy", 1.0))
    aug_fields = dict(payload.get("augment") or {})
    if "scale" in aug_fields:
        aug_fields["scale"] = tuple(aug_fields["scale"])
    aug = AugmentConfig(**aug_fields)
    start = time.perf_counter()
    dev = resolve_device(device)
    data = load_folder(folder, channels=spec.channels, image_size=spec.image_size)

    import torch

    from mitool.cluster.model import build_model
    from mitool.cluster.train import predict, score_subheads

    with _torch_threads(threads, dev) as n_threads:
        seed_everything(seed)
        net = build_model(spec)
        try:
            net.load_state_dict(payload["state_dict"])
        except RuntimeError as exc:
            raise InputError(f"the model's weights do not match its metadata: {exc}") from None
        net = net.to(dev)
        images = torch.from_numpy(data.images).to(dev)
        if progress is not None:
            progress(0, 1, {"stage": "assigning"})
        cfg = TrainConfig(lambda_entropy=lam, augment=aug)
        losses = score_subheads(net, images, cfg)
        clusters_t, confidence_t = predict(net, images, chosen)
        clusters = clusters_t.cpu().numpy().astype(np.int64)
        confidence = confidence_t.cpu().numpy().astype(np.float64)
    k = spec.k
    return _result(
        data, clusters, confidence, k, chosen, losses, seed, baseline and len(data.paths) >= k,
        start, dev, n_threads, mode="load", model_state=payload, lambda_entropy=lam,
    )


def write_assignments(result: ClusterResult, path: str | os.PathLike[str]) -> None:
    """CSV with one row per image: path, cluster, confidence (written atomically)."""
    from mitool.atomic import atomic_path

    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "cluster", "confidence"])
        for p, c, conf in zip(result.paths, result.clusters, result.confidence, strict=True):
            writer.writerow([p, int(c), f"{float(conf):.4f}"])


def write_montage(
    result: ClusterResult, path: str | os.PathLike[str], per_cluster: int = 12
) -> None:
    """PNG grid with the most confident images of each cluster, one row per cluster."""
    if result.images is None:
        raise UsageError("this result holds no images to draw")
    save_montage(path, result.images, result.clusters, result.confidence, result.k,
                 per_cluster=per_cluster)
