"""Invariant Information Clustering (IIC) of a folder of images: the package face.

``cluster(folder, k=10)`` trains and returns a ``ClusterResult``; ``assign(folder, model)``
clusters new images with a saved model. The work lives in ``api`` (entry points, model
files, writers), ``result``, ``modelfile``, ``budget``, ``threads``, ``train``, ``model``,
``augment``, ``loss``, ``images``, ``metrics`` and ``montage``.
"""

from mitool.cluster.api import (
    AugmentConfig,
    ClusterResult,
    HeadOptions,
    ImageOptions,
    TrainConfig,
    TrainPlan,
    assign,
    cluster,
    write_assignments,
    write_montage,
)
from mitool.cluster.augment import augment_config
from mitool.cluster.modelfile import load_model, save_model

__all__ = [
    "AugmentConfig",
    "ClusterResult",
    "HeadOptions",
    "ImageOptions",
    "TrainConfig",
    "TrainPlan",
    "assign",
    "augment_config",
    "cluster",
    "load_model",
    "save_model",
    "write_assignments",
    "write_montage",
]
