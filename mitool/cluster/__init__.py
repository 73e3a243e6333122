"""Invariant Information Clustering (IIC) of a folder of images: the package face.

``cluster(folder, k=10)`` trains and returns a ``ClusterResult``; ``assign(folder, model)``
clusters new images with a saved model. The work lives in ``api`` (entry points, model
files, writers), ``result``, ``modelfile``, ``budget``, ``threads``, ``train``, ``model``,
``augment``, ``loss``, ``images``, ``metrics`` and ``montage``.
"""

from mitool.cluster.api import (
    AugmentConfig,
    ClusterResult,
    TrainConfig,
    TrainPlan,
    assign,
    cluster,
    load_model,
    save_model,
    write_assignments,
    write_montage,
)

__all__ = [
    "AugmentConfig",
    "ClusterResult",
    "TrainConfig",
    "TrainPlan",
    "assign",
    "cluster",
    "load_model",
    "save_model",
    "write_assignments",
    "write_montage",
]
