"""Invariant Information Clustering (IIC) of a folder of images: the library API.

``cluster(folder, k=10)`` trains a small CNN so that an image and a randomly perturbed copy
of it land in the same cluster (maximising the mutual information of the two assignments),
picks the sub-head with the lowest IIC loss (never by labels), and scores it against the
sub-folder labels when they exist, beside k-means on raw pixels. ``assign(folder, model)``
clusters new images with a model saved by ``save_model``. Nothing here prints or exits.
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from mitool.cluster.augment import DEFAULT_ROTATION, NUISANCE_ROTATION, AugmentConfig
from mitool.cluster.budget import TrainPlan
from mitool.cluster.images import ImageSet, load_folder
from mitool.cluster.metrics import cluster_sizes, evaluate, kmeans_clusters
from mitool.cluster.model import ModelSpec, default_stem_stride
from mitool.cluster.modelfile import load_model
from mitool.cluster.montage import save_montage
from mitool.cluster.orientation import direction_coherence, rotation_is_nuisance
from mitool.cluster.refit import RefitConfig, fit_seconds, refit_main_head
from mitool.cluster.result import ClusterResult, structure_warnings
from mitool.cluster.train import TrainConfig
from mitool.errors import InputError, UsageError, names_parameters

Progress = Callable[[int, int, dict], None]



def _threads(threads: int | None, dev):
    """(fixed thread count or None, governor or None) for the run; checks --threads."""
    from mitool.cluster.threads import ThreadGovernor, candidate_threads
    from mitool.device import available_cores

    if threads is not None:
        if threads < 1:
            raise UsageError(f"{{param}} must be at least 1, got {threads}", parameter="threads")
        return threads, None
    if dev.type != "cpu":
        return None, None
    return None, ThreadGovernor(candidate_threads(available_cores()))


class _TorchThreads:
    """Restore torch's CPU thread count after the run (the governor changes it during one)."""

    def __enter__(self):
        import torch

        self.before = torch.get_num_threads()
        return self

    def __exit__(self, *exc):
        import torch

        torch.set_num_threads(self.before)


def _check_k(k: int, n_images: int) -> None:
    if k < 2:
        raise UsageError(f"{{param}} must be at least 2, got {k}", parameter="k")
    if k > n_images:
        raise UsageError(f"{{param}} {k} is larger than the number of images ({n_images})",
                         parameter="k")


def default_head(data: ImageSet) -> str:
    """'flat' when objects are centred (framed, or tiny images such as the 8x8 digits), where
    where-is-what is information; 'pool' when whole-frame content (textures, photos) may sit
    anywhere, where position is a nuisance."""
    return "flat" if data.framed or data.image_size < 16 else "pool"


@dataclass(frozen=True)
class ImageOptions:
    """Which images train, and how they are read."""

    # working side images are resized to; None: the smallest that keeps the content's
    # detail, at most 64
    image_size: int | None = None
    # 1 (grayscale: clusters then follow shape, not hue, as in the IIC paper, which feeds
    # colour sets through grayscale Sobel filters), 3 (colour), None (follow the files)
    channels: int | None = 1
    framing: str = "auto"  # auto | object | full: cut each image to its object's square
    max_images: int | None = None  # train on a random sample, then assign every image


@dataclass(frozen=True)
class HeadOptions:
    """The network's heads."""

    overcluster: int | None = None  # clusters of the auxiliary head; None: 5k; 0: off
    subheads: int = 5  # per head; the lowest IIC loss is reported (never chosen by labels)
    head: str | None = None  # flat | pool; None: flat when framed or below 16 px, else pool
    widths: tuple[int, ...] | None = None  # conv widths (None: ModelSpec's)
    standardize: bool = True  # each image to mean 0, std 1 first: paper level, contrast
    # after training, fit fresh main heads on the learned features; any with a lower IIC
    # loss replace the worst sub-heads (frees a head stuck merging two groups)
    refit: bool = True


@names_parameters("cluster")
def cluster(
    folder: str | os.PathLike[str],
    k: int = 10,
    *,
    seed: int = 0,
    train: TrainConfig | None = None,
    images: ImageOptions | None = None,
    heads: HeadOptions | None = None,
    device: str = "auto",
    threads: int | None = None,
    baseline: bool = True,
    progress: Progress | None = None,
    on_plan: Callable[[TrainPlan], None] | None = None,
) -> ClusterResult:
    """Cluster the images under ``folder`` into ``k`` groups with IIC.

    Parameters
    ----------
    folder : a folder of images, searched recursively; sub-folder names are labels used
        only to score the result, never to train or choose it.
    k : the number of clusters.
    seed : seeds the network, the batches and the perturbations.
    train : optimiser, batch, budget and perturbation settings (``TrainConfig``, its
        ``augment`` an ``AugmentConfig``; ``augment.augment_config`` sets strengths).
        Training is sized by work (``budget.training_steps``) unless ``steps`` or ``epochs``
        is given, stopping early when the best sub-head's loss stops improving.
    images : which images and how they are read (``ImageOptions``).
    heads : over-clustering, sub-heads, head kind, refit (``HeadOptions``).
    device : auto | cpu | cuda.
    threads : torch CPU threads; None times the candidates during the warm-up and again
        when the machine gets busier.
    baseline : also score k-means on raw pixels when labels exist.
    progress : ``(done, total, fields)`` callback; ``on_plan`` receives the expected
        duration after a short timed warm-up.

    Returns
    -------
    ClusterResult : assignments, confidences, the chosen sub-head's loss and mutual
        information, label scores beside k-means when labels exist; ``.to_dict()`` is the
        JSON report.

    Examples
    --------
    >>> from mitool.cluster import cluster
    >>> r = cluster("sample_data/digits", k=10)
    >>> r.metrics["accuracy"] > r.baseline_kmeans["accuracy"]
    True
    >>> from mitool.cluster import TrainConfig
    >>> r = cluster("scans/", k=10, train=TrainConfig(steps=500, lr=2e-3))
    """
    from mitool.device import resolve_device
    from mitool.seed import seed_everything

    cfg = train or TrainConfig()
    img = images or ImageOptions()
    hd = heads or HeadOptions()
    _check_settings(cfg, img, hd, k)
    over = 5 * k if hd.overcluster is None else hd.overcluster
    if over < 0 or over == 1:
        raise UsageError(f"{{param}} must be 0 (off) or at least 2, got {over}",
                         function="HeadOptions", parameter="overcluster")
    if hd.head is not None and hd.head not in ("flat", "pool"):
        raise UsageError(f"{{param}} must be flat or pool, got '{hd.head}'",
                         function="HeadOptions", parameter="head")
    aug = cfg.augment
    start = time.perf_counter()
    dev = resolve_device(device)
    fixed_threads, governor = _threads(threads, dev)
    data = load_folder(folder, channels=img.channels, image_size=img.image_size,
                       progress=progress, framing=img.framing)
    _check_k(k, len(data.paths))
    directions = direction_coherence(data.images[::max(1, len(data.images) // 5000)])
    if aug.rotation is None:  # no shared direction: rotate all round
        aug = replace(aug, rotation=NUISANCE_ROTATION if rotation_is_nuisance(directions)
                      else DEFAULT_ROTATION)
    cfg = replace(cfg, augment=aug)
    max_images, refit = img.max_images, hd.refit

    import torch

    from mitool.cluster.model import build_model
    from mitool.cluster.train import train

    spec = ModelSpec(channels=data.channels, image_size=data.image_size, k=k,
                     overcluster=over, subheads=hd.subheads,
                     widths=tuple(hd.widths) if hd.widths else ModelSpec.widths,
                     stem_stride=default_stem_stride(data.image_size),
                     head=hd.head or default_head(data), standardize=hd.standardize)
    n = len(data.paths)
    with _TorchThreads():
        if fixed_threads is not None:
            torch.set_num_threads(fixed_threads)
        elif governor is not None:
            torch.set_num_threads(governor.candidates[0])
        seed_everything(seed)
        model = build_model(spec).to(dev)
        if dev.type == "cuda":
            model = model.to(memory_format=torch.channels_last)
        pixels = torch.from_numpy(data.images).to(dev)  # (N, C, S, S) uint8
        head_names = ("over", "main") if over > 0 else ("main",)
        train_index = None
        if max_images is not None and max_images < n:
            train_index = torch.randperm(n, device=dev)[:max_images]
        eval_index = _eval_index(n, cfg.eval_images, dev)
        refit_cfg = RefitConfig() if refit else None
        cost = _eval_cost(n, len(eval_index) if eval_index is not None else n, cfg, len(head_names),
                          _refit_cost(model, spec, dev, refit_cfg, n if train_index is None
                                      else len(train_index)))
        report = train(model, pixels, cfg, heads=head_names, progress=progress, on_plan=on_plan,
                       governor=governor, train_index=train_index, eval_cost=cost)
        refitted = None
        if refit_cfg is not None:
            if progress is not None:
                progress(0, 1, {"stage": "refitting heads"})
            refitted = refit_main_head(model, pixels, aug, cfg.lambda_entropy, refit_cfg,
                                       index=train_index, seed=seed)
            if progress is not None:
                progress(1, 1, {"stage": "refitting heads"})
        scored = _score_heads(model, pixels, cfg, head_names, eval_index, progress,
                              {"main": k, "over": over})
        n_threads = report.threads or torch.get_num_threads()
        state = {k_: v.detach().cpu().contiguous() for k_, v in model.state_dict().items()}

    settings = {
        "overcluster": over, "subheads": hd.subheads, "steps": cfg.steps,
        "epochs": cfg.epochs, "batch_size": cfg.batch_size, "repeats": cfg.repeats,
        "lr": cfg.lr, "widths": list(spec.widths), "stem_stride": spec.stem_stride,
        "head": spec.head, "standardize": spec.standardize,
        "lambda_entropy": cfg.lambda_entropy, "max_images": max_images,
        "framing": img.framing, "framed": data.framed, "early_stop": cfg.early_stop,
        "refit": refit, "seed": seed,
        "augment": _augment_dict(aug),
        "direction_coherence": list(directions),
    }
    training = {
        "steps": report.steps, "planned_steps": report.planned_steps,
        "stopped_early": report.stopped_early, "seconds": report.seconds,
        "expected_seconds": report.plan.expected_seconds if report.plan else None,
        "seconds_per_step": report.plan.seconds_per_step if report.plan else None,
        "n_train": len(train_index) if train_index is not None else n,
        "thread_probes": [{"step": s, "seconds_per_step": {str(t): v for t, v in tm.items()}}
                          for s, tm in report.thread_probes],
        "refit": refitted.to_dict() if refitted is not None else None,
    }
    return _result(
        data, scored, k, seed, baseline, start, dev, n_threads, progress,
        mode="train", loss_history=report.history, settings=settings, training=training,
        lambda_entropy=cfg.lambda_entropy,
        model_state={"spec": spec.to_dict(), "state_dict": state,
                     "chosen_subhead": scored["main"]["chosen"], "framed": data.framed,
                     "lambda_entropy": cfg.lambda_entropy, "augment": settings["augment"]},
    )


def _eval_index(n: int, limit: int, dev):
    """A seeded random sample of at most ``limit`` images to score sub-heads on (None: all)."""
    import torch

    return None if n <= limit else torch.randperm(n, device=dev)[:limit]


def _refit_cost(model, spec: ModelSpec, dev, cfg: RefitConfig | None,
                n_train: int) -> tuple[int, float]:
    """(images featurised, seconds fitting the fresh heads) for the forecast; (0, 0) off."""
    if cfg is None:
        return 0, 0.0
    import torch

    was_training = model.training
    model.eval()  # no batch-norm statistics updated by this probe
    with torch.no_grad():
        d = int(model.features(torch.zeros(2, spec.channels, spec.image_size, spec.image_size,
                                           device=dev)).shape[1])
    model.train(was_training)
    return cfg.views * min(n_train, cfg.max_images), fit_seconds(d, spec.k, cfg, dev)


def _eval_cost(n: int, n_eval: int, cfg: TrainConfig, n_heads: int,
               refit: tuple[int, float] = (0, 0.0)) -> Callable[[float], float]:
    """Seconds of refitting, scoring and assigning after training, from the seconds one
    training step took (plus the timed head fitting of the refit).

    A training step forwards and back-propagates 2 x batch x repeats images for one head; a
    forward pass alone costs about a third of that.
    """
    samples_per_step = 2 * cfg.batch_size * cfg.repeats
    scored = n_eval * cfg.repeats * 2 * max(1, cfg.eval_passes) + refit[0]
    return lambda per_step: per_step / 3 * (scored + n) / samples_per_step + refit[1]


def _score_heads(model, images, cfg: TrainConfig, heads, index, progress,
                 ks: dict[str, int]) -> dict[str, dict]:
    """Score every sub-head of every head, pick the lowest loss per head, assign all images."""
    from mitool.cluster.train import predict, score_subheads

    if progress is not None:
        progress(0, 1, {"stage": "scoring sub-heads"})
    scores = score_subheads(model, images, cfg, heads=heads, index=index)
    chosen = {h: int(np.argmin(scores.losses[h])) for h in heads}
    assigned = predict(model, images, chosen)
    out = {}
    for h in heads:
        clusters_t, confidence_t = assigned[h]
        out[h] = {"chosen": chosen[h], "losses": scores.losses[h], "k": ks[h],
                  "mi": scores.mutual_information[h][chosen[h]],
                  "clusters": clusters_t.cpu().numpy().astype(np.int64),
                  "confidence": confidence_t.cpu().numpy().astype(np.float64)}
    if progress is not None:
        progress(1, 1, {"stage": "scoring sub-heads"})
    return out


def _result(data: ImageSet, scored: dict, k: int, seed: int, baseline: bool, start: float,
            dev, n_threads: int, progress, **extra) -> ClusterResult:
    """Score a clustering (labels, k-means baseline, structure) and package the result."""
    main = scored["main"]
    clusters = main["clusters"]
    metrics = base = over = None
    if data.labels is not None:
        metrics = evaluate(data.labels, clusters, k)
        if baseline:
            if progress is not None:
                progress(0, 1, {"stage": "k-means baseline"})
            flat = data.images.reshape(len(data.images), -1)
            base = evaluate(data.labels, kmeans_clusters(flat, k, seed), k)
            if progress is not None:
                progress(1, 1, {"stage": "k-means baseline"})
    if "over" in scored:  # the over-clustering head's own answer: many-to-one accuracy
        o = scored["over"]
        over = {"k": o["k"], "chosen_subhead": o["chosen"], "loss": o["losses"][o["chosen"]],
                "mutual_information": o["mi"], "cluster_sizes": cluster_sizes(o["clusters"], o["k"]),
                "metrics": (evaluate(data.labels, o["clusters"], o["k"])
                            if data.labels is not None else None)}
    sizes = cluster_sizes(clusters, k)
    return ClusterResult(
        paths=data.paths, clusters=clusters, confidence=main["confidence"], k=k,
        n_skipped=data.n_skipped, skipped=data.skipped, cluster_sizes=sizes,
        chosen_subhead=main["chosen"], subhead_losses=main["losses"],
        loss=main["losses"][main["chosen"]], metrics=metrics, baseline_kmeans=base,
        seconds=time.perf_counter() - start, device=str(dev), threads=n_threads,
        warnings=_skip_warnings(data) + data.notes + structure_warnings(sizes, main["mi"], k),
        labels=data.labels, label_names=data.label_names, channels=data.channels,
        image_size=data.image_size, images=data.images, mutual_information=main["mi"],
        framed=data.framed, inverted=data.inverted,
        overcluster=over, **extra,
    )


def _augment_dict(aug: AugmentConfig) -> dict[str, Any]:
    return {f: getattr(aug, f) for f in aug.__dataclass_fields__}


# which config object holds each checked setting (how a Python caller wrote it)
OWNER = {"subheads": "HeadOptions", "steps": "TrainConfig", "epochs": "TrainConfig",
         "batch_size": "TrainConfig", "repeats": "TrainConfig", "max_images": "ImageOptions"}


def _check_settings(cfg: TrainConfig, img: ImageOptions, hd: HeadOptions, k: int) -> None:
    if k < 2:
        raise UsageError(f"{{param}} must be at least 2, got {k}", function="cluster", parameter="k")
    if cfg.steps is not None and cfg.epochs is not None:
        raise UsageError("give --steps or --epochs, not both")
    for name, value in (("subheads", hd.subheads), ("steps", cfg.steps),
                        ("epochs", cfg.epochs), ("batch_size", cfg.batch_size),
                        ("repeats", cfg.repeats), ("max_images", img.max_images)):
        if value is not None and value < 1:
            raise UsageError(f"{{param}} must be at least 1, got {value}", parameter=name,
                             function=OWNER[name])
    if img.max_images is not None and img.max_images < k:
        raise UsageError(f"{{param}} {img.max_images} is smaller than --k {k}",
                         function="ImageOptions", parameter="max_images")
    if not cfg.lr > 0:
        raise UsageError(f"{{param}} must be positive, got {cfg.lr}", function="TrainConfig", parameter="lr")
    if not cfg.lambda_entropy > 0.5:  # at or below 1/2 one single cluster is optimal (loss.py)
        raise UsageError(f"{{param}} must be above 0.5, got {cfg.lambda_entropy} (at or "
                         "below 0.5 the loss is lowest with every image in one cluster)",
                         function="TrainConfig", parameter="lambda_entropy")


def _skip_warnings(data: ImageSet) -> list[str]:
    if not data.n_skipped:
        return []
    shown = ", ".join(os.path.basename(p) for p in data.skipped[:3])
    more = ", ..." if data.n_skipped > 3 else ""
    return [f"skipped {data.n_skipped} unreadable image file(s): {shown}{more}"]


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
    fixed_threads, _ = _threads(threads, dev)
    data = load_folder(folder, channels=spec.channels, image_size=spec.image_size,
                       progress=progress,
                       framing="object" if payload.get("framed", False) else "full")

    import torch

    from mitool.cluster.model import build_model
    from mitool.cluster.train import predict, score_subheads

    with _TorchThreads():
        if dev.type == "cpu":  # forward passes only: one thread is never slow here
            torch.set_num_threads(fixed_threads or 1)
        n_threads = torch.get_num_threads()
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
        index = _eval_index(len(data.paths), cfg.eval_images, dev)
        scores = score_subheads(net, images, cfg, heads=("main",), index=index)
        clusters_t, confidence_t = predict(net, images, {"main": chosen})["main"]
    scored = {"main": {"chosen": chosen, "losses": scores.losses["main"], "k": spec.k,
                       "mi": scores.mutual_information["main"][chosen],
                       "clusters": clusters_t.cpu().numpy().astype(np.int64),
                       "confidence": confidence_t.cpu().numpy().astype(np.float64)}}
    return _result(
        data, scored, spec.k, seed, baseline and len(data.paths) >= spec.k, start, dev,
        n_threads, progress, mode="load", model_state=payload, lambda_entropy=lam,
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
    images = result.images
    if result.inverted is not None and result.inverted.any():  # show them as they came
        images = images.copy()
        images[result.inverted] = 255 - images[result.inverted]
    save_montage(path, images, result.clusters, result.confidence, result.k,
                 per_cluster=per_cluster)
