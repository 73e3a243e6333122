"""Scoring a clustering against labels (when the folder has them) and the k-means baseline."""

from __future__ import annotations

import numpy as np


def hungarian_mapping(labels: np.ndarray, clusters: np.ndarray) -> dict[int, int]:
    """Best one-to-one map cluster -> label (maximises agreements; scipy linear_sum_assignment).

    Works for any number of clusters and labels; clusters left unmatched map to nothing.
    """
    from scipy.optimize import linear_sum_assignment

    labels = np.asarray(labels)
    clusters = np.asarray(clusters)
    if labels.shape != clusters.shape or labels.ndim != 1:
        raise ValueError("labels and clusters must be 1-D arrays of the same length")
    label_ids, label_idx = np.unique(labels, return_inverse=True)
    cluster_ids, cluster_idx = np.unique(clusters, return_inverse=True)
    counts = np.zeros((len(cluster_ids), len(label_ids)), dtype=np.int64)
    np.add.at(counts, (cluster_idx, label_idx), 1)  # (clusters, labels) contingency table
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return {int(cluster_ids[r]): int(label_ids[c]) for r, c in zip(rows, cols, strict=True)}


def hungarian_accuracy(labels: np.ndarray, clusters: np.ndarray) -> float:
    """Fraction of items whose cluster maps to their label under the best one-to-one matching."""
    labels = np.asarray(labels)
    clusters = np.asarray(clusters)
    if len(labels) == 0:
        raise ValueError("cannot score an empty clustering")
    mapping = hungarian_mapping(labels, clusters)
    mapped = np.array([mapping.get(int(c), -10**9) for c in clusters])
    hits = mapped == labels
    return float(hits.mean())


def many_to_one_accuracy(labels: np.ndarray, clusters: np.ndarray) -> float:
    """Fraction of items whose cluster's majority label is their label (the IIC paper's score
    for over-clustering: several clusters may map to one label, so it is never below the
    one-to-one accuracy and reaches 1 when every item has its own cluster)."""
    labels = np.asarray(labels)
    clusters = np.asarray(clusters)
    if labels.shape != clusters.shape or labels.ndim != 1 or len(labels) == 0:
        raise ValueError("labels and clusters must be non-empty 1-D arrays of the same length")
    _, label_idx = np.unique(labels, return_inverse=True)
    _, cluster_idx = np.unique(clusters, return_inverse=True)
    counts = np.zeros((cluster_idx.max() + 1, label_idx.max() + 1), dtype=np.int64)
    np.add.at(counts, (cluster_idx, label_idx), 1)
    return float(counts.max(axis=1).sum() / len(labels))


def evaluate(labels: np.ndarray, clusters: np.ndarray, k: int | None = None) -> dict[str, float]:
    """Accuracy (Hungarian, one-to-one), NMI and ARI of ``clusters`` against ``labels``.

    With ``k`` clusters for fewer labels, one-to-one matching leaves clusters unmatched, so
    ``many_to_one_accuracy`` is added, labelled as such (see ``many_to_one_accuracy``).
    """
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    scores = {
        "accuracy": hungarian_accuracy(labels, clusters),
        "nmi": float(normalized_mutual_info_score(labels, clusters)),
        "ari": float(adjusted_rand_score(labels, clusters)),
    }
    if k is not None and k > len(np.unique(labels)):
        scores["many_to_one_accuracy"] = many_to_one_accuracy(labels, clusters)
    return scores


def kmeans_clusters(features: np.ndarray, k: int, seed: int = 0,
                    max_fit: int = 20_000) -> np.ndarray:
    """k-means on raw pixels (N, D): the baseline that shows what IIC adds.

    Fitted on at most ``max_fit`` rows (a seeded sample) and then applied to all, in float32
    and in chunks, so 60,000 images cost seconds and no copy of the set in float64.
    """
    from sklearn.cluster import KMeans

    n = len(features)
    rng = np.random.default_rng(seed)
    fit_rows = np.sort(rng.choice(n, max_fit, replace=False)) if n > max_fit else np.arange(n)
    model = KMeans(n_clusters=k, n_init=10, random_state=seed)
    model.fit(np.asarray(features[fit_rows], dtype=np.float32))
    out = np.empty(n, dtype=np.int64)
    for a in range(0, n, 8192):
        out[a:a + 8192] = model.predict(np.asarray(features[a:a + 8192], dtype=np.float32))
    return out


def cluster_sizes(clusters: np.ndarray, k: int) -> list[int]:
    """Images per cluster, including empty clusters (length k)."""
    return np.bincount(np.asarray(clusters, dtype=np.int64), minlength=k)[:k].tolist()
