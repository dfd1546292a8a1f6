"""Evaluation measures on tiny cases worked out by hand."""

from __future__ import annotations

import pytest

from commonground.linkage.evaluate import (
    choose_threshold,
    cluster_scores,
    labels_for,
    pairwise_scores,
    sweep_table,
    threshold_sweep,
)

# Records a..e. Truth: {a, b, c} and {d, e}. Predicted: {a, b}, {c, d}, {e}.
RECORDS = ["a", "b", "c", "d", "e"]
TRUTH = ["T1", "T1", "T1", "T2", "T2"]
PREDICTED = ["P1", "P1", "P2", "P2", "P3"]


def test_pairwise_scores_by_hand() -> None:
    s = pairwise_scores(PREDICTED, TRUTH)
    # true pairs: 3 in T1 + 1 in T2; predicted pairs: ab, cd; of those only ab is true.
    assert (s.true_pairs, s.predicted_pairs, s.true_positives) == (4, 2, 1)
    assert (s.false_positives, s.false_negatives) == (1, 3)
    assert s.precision == pytest.approx(0.5)
    assert s.recall == pytest.approx(0.25)
    assert s.f1 == pytest.approx(1 / 3)


def test_perfect_and_empty_cases() -> None:
    perfect = pairwise_scores(TRUTH, TRUTH)
    assert (perfect.precision, perfect.recall, perfect.f1) == (1.0, 1.0, 1.0)
    singletons = pairwise_scores(RECORDS, TRUTH)
    assert singletons.predicted_pairs == 0 and singletons.precision == 1.0 and singletons.recall == 0.0
    assert singletons.f1 == 0.0
    with pytest.raises(ValueError, match="same records"):
        pairwise_scores(PREDICTED, TRUTH[:-1])


def test_cluster_scores_by_hand() -> None:
    s = cluster_scores(PREDICTED, TRUTH)
    assert (s.records, s.predicted_clusters, s.true_entities) == (5, 3, 2)
    assert s.exact_clusters == 0 and s.exact_cluster_share == 0.0
    assert s.split_entities == 2  # T1 over P1 and P2; T2 over P2 and P3
    assert s.merged_clusters == 1  # P2 holds c (T1) and d (T2)
    # B-cubed precision: a 2/2, b 2/2, c 1/2, d 1/2, e 1/1; recall: a 2/3, b 2/3, c 1/3, d 1/2, e 1/2.
    assert s.bcubed_precision == pytest.approx(4 / 5)
    assert s.bcubed_recall == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1 / 2 + 1 / 2) / 5)
    assert cluster_scores(TRUTH, TRUTH).exact_clusters == 2


# Records a..d. Truth: {a, b}, {c, d}. Edges from strongest: ab 10, bc 5, cd 3, ad -1.
SWEEP_EDGES = [("c", "d", 3.0), ("a", "b", 10.0), ("a", "d", -1.0), ("b", "c", 5.0)]


def test_threshold_sweep_is_connected_components_at_each_threshold() -> None:
    points = threshold_sweep(
        record_ids=["a", "b", "c", "d"], truth=["X", "X", "Y", "Y"], edges=SWEEP_EDGES, thresholds=[11, 10, 5, 3, -1]
    )
    by = {p.threshold_match_weight: p.scores for p in points}
    assert [p.threshold_match_weight for p in points] == [-1, 3, 5, 10, 11]
    assert (by[11].predicted_pairs, by[11].true_positives) == (0, 0)
    assert (by[10].predicted_pairs, by[10].true_positives) == (1, 1)  # {a, b}
    assert (by[5].predicted_pairs, by[5].true_positives) == (3, 1)  # {a, b, c}
    assert (by[3].predicted_pairs, by[3].true_positives) == (6, 2)  # {a, b, c, d}
    assert by[-1] == by[3]  # ad joins nothing new
    # the same as scoring the components directly
    assert by[5] == pairwise_scores(["1", "1", "1", "2"], ["X", "X", "Y", "Y"])


def test_choose_threshold() -> None:
    points = threshold_sweep(
        record_ids=["a", "b", "c", "d"], truth=["X", "X", "Y", "Y"], edges=SWEEP_EDGES, thresholds=[11, 10, 5, 3]
    )
    assert choose_threshold(points).threshold_match_weight == 10  # best F1: P 1, R 0.5
    assert choose_threshold(points, min_precision=0.9).threshold_match_weight == 10
    assert choose_threshold(points, min_precision=0.3).threshold_match_weight == 3
    assert "threshold  precision" in sweep_table(points)
    with pytest.raises(ValueError, match="no sweep points"):
        choose_threshold([])


def test_records_missing_from_the_truth_are_their_own_entity() -> None:
    labels = labels_for(["a", "b", "z"], {"a": 1, "b": 1})
    assert labels[0] == labels[1] != labels[2]
    assert pairwise_scores(["p", "p", "p"], labels).true_positives == 1
