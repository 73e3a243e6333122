"""Hungarian accuracy with known permutations, NMI/ARI, sizes and degeneracy warnings."""

from __future__ import annotations

import numpy as np
import pytest

from mitool.cluster.metrics import (
    cluster_sizes,
    evaluate,
    hungarian_accuracy,
    hungarian_mapping,
    kmeans_clusters,
    many_to_one_accuracy,
)
from mitool.cluster.result import LITTLE_STRUCTURE, structure_warnings

LABELS = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 2])


def test_permuted_clusters_score_perfectly():
    perm = np.array([2, 0, 1])  # label l is called cluster perm[l]
    clusters = perm[LABELS]
    assert hungarian_accuracy(LABELS, clusters) == 1.0
    assert hungarian_mapping(LABELS, clusters) == {2: 0, 0: 1, 1: 2}
    scores = evaluate(LABELS, clusters)
    assert scores["nmi"] == pytest.approx(1.0) and scores["ari"] == pytest.approx(1.0)


def test_known_mistakes():
    clusters = np.array([5, 5, 7, 7, 7, 7, 9, 9, 9, 5])  # 2 wrong under the best matching
    assert hungarian_accuracy(LABELS, clusters) == pytest.approx(0.8)


def test_more_clusters_than_labels_counts_unmatched_as_wrong():
    clusters = np.array([0, 0, 0, 1, 1, 1, 2, 2, 3, 3])  # label 2 split in two clusters
    assert hungarian_accuracy(LABELS, clusters) == pytest.approx(0.8)


def test_many_to_one_accuracy_lets_clusters_share_a_label():
    clusters = np.array([0, 0, 0, 1, 1, 1, 2, 2, 3, 3])  # label 2 split in two clusters
    assert many_to_one_accuracy(LABELS, clusters) == 1.0  # one-to-one gives 0.8
    mixed = np.array([0, 0, 1, 1, 1, 1, 2, 2, 2, 0])  # cluster 0 = {0, 0, 2}: majority 0
    assert many_to_one_accuracy(LABELS, mixed) == pytest.approx(0.8)
    assert many_to_one_accuracy(LABELS, np.arange(10)) == 1.0  # one cluster per item
    scores = evaluate(LABELS, clusters, k=4)
    assert scores["accuracy"] == pytest.approx(0.8) and scores["many_to_one_accuracy"] == 1.0
    assert "many_to_one_accuracy" not in evaluate(LABELS, clusters, k=3)


def test_one_cluster_gets_largest_class():
    assert hungarian_accuracy(LABELS, np.zeros(10, dtype=int)) == pytest.approx(0.4)
    assert evaluate(LABELS, np.zeros(10, dtype=int))["ari"] == pytest.approx(0.0)


def test_empty_and_mismatched_inputs_raise():
    with pytest.raises(ValueError):
        hungarian_accuracy(np.array([]), np.array([]))
    with pytest.raises(ValueError):
        hungarian_accuracy(LABELS, LABELS[:5])


def test_kmeans_finds_separated_blobs():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    x = np.concatenate([c + rng.normal(size=(30, 2)) for c in centres])
    truth = np.repeat(np.arange(3), 30)
    assert hungarian_accuracy(truth, kmeans_clusters(x, 3, seed=0)) == 1.0


def test_sizes_and_structure_warnings():
    assert cluster_sizes(np.array([0, 0, 2]), 4) == [2, 0, 1, 0]
    log3 = float(np.log(3))
    assert structure_warnings([5, 5, 5], 0.9 * log3, 3) == []
    messages = structure_warnings([90, 10, 0], 0.9 * log3, 3)
    assert any("1 of 3 clusters are empty" in m for m in messages)
    assert any("cluster 0 holds 90 of 100" in m for m in messages)
    assert not any("little structure" in m for m in messages)


def test_little_structure_is_said_plainly():
    """Far below log k, the report says the clusters are not much more than chance."""
    low = structure_warnings([30, 35, 35], 0.3 * float(np.log(3)), 3)
    assert len(low) == 1 and low[0].startswith("little structure found")
    assert "(30%)" in low[0] and "--k" in low[0]
    just_enough = structure_warnings([30, 35, 35], LITTLE_STRUCTURE * float(np.log(3)) + 1e-9, 3)
    assert just_enough == []
