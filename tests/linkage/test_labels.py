"""Reviewed pairs are labels (#15): m estimated from pairs decided "the same person" (Splink's
estimate_m_from_pairwise_labels) when there are enough of them, on a synthetic label set: FEBRL 4's true pairs."""

from __future__ import annotations

from typing import Any

from splink import DuckDBAPI

from commonground.linkage.labels import LabelAccuracy, m_from_labels
from commonground.linkage.prepare import prepare_records
from commonground.linkage.training import TrainedModel


def _true_pairs(ids: list[str]) -> list[tuple[str, str]]:
    return sorted((i, i.replace("-org", "-dup-0")) for i in ids if i.endswith("-org"))


def test_m_from_labels_needs_enough_labels_and_moves_m_toward_them(
    febrl_db: DuckDBAPI, febrl_rows: list[dict[str, Any]], trained: TrainedModel
) -> None:
    prepared = prepare_records(db_api=febrl_db, source_table="febrl")
    pairs = _true_pairs([str(r["unique_id"]) for r in febrl_rows])
    assert m_from_labels(trained, prepared=prepared, matches=pairs[:10], min_labels=50) is None
    relabelled = m_from_labels(trained, prepared=prepared, matches=pairs[:400], min_labels=50)
    assert relabelled is not None
    before = {c.name: [lv.m_probability for lv in c.levels] for c in trained.parameters.comparisons}
    after = {c.name: [lv.m_probability for lv in c.levels] for c in relabelled.parameters.comparisons}
    assert after != before
    for name, ms in after.items():
        known = [m for m in ms if m is not None]
        assert 0.99 <= sum(known) <= 1.01 or len(known) < len(before[name]), name
    # u and the prior are the trained ones
    assert [lv.u_probability for c in relabelled.parameters.comparisons for lv in c.levels] == [
        lv.u_probability for c in trained.parameters.comparisons for lv in c.levels
    ]
    assert relabelled.spec_sha256 == trained.spec_sha256


def test_accuracy_on_decided_pairs() -> None:
    accuracy = LabelAccuracy(true_positives=3, false_positives=1, false_negatives=6, true_negatives=10)
    assert (accuracy.decided, accuracy.agreed) == (20, 13)
    assert accuracy.precision == 0.75 and accuracy.recall == 3 / 9
    assert "agreed with the model" in accuracy.as_text()
    assert LabelAccuracy(true_positives=0, false_positives=0, false_negatives=0, true_negatives=2).precision is None
