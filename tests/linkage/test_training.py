"""Train on a FEBRL-derived area, save and reuse the model, predict, cluster, explain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from linkage_support import fast_spec
from splink import DuckDBAPI

from commonground.linkage.evaluate import (
    choose_threshold,
    cluster_scores,
    labels_for,
    pairwise_scores,
    threshold_sweep,
)
from commonground.linkage.explain import explain_pair, explain_prediction
from commonground.linkage.febrl import true_entity
from commonground.linkage.predict import LinkResult, cluster, cluster_labels, link, scored_edges
from commonground.linkage.prepare import prepare_records
from commonground.linkage.training import TrainedModel, latest_model, train

FEBRL_THRESHOLD = 3.0
"""FEBRL's own threshold (its sweep, docs/linkage.md); the model's default was chosen on the
synthetic area, a different population with a different prior."""


@pytest.fixture(scope="module")
def linked(trained: TrainedModel, febrl_db: DuckDBAPI) -> LinkResult:
    return link(trained, db_api=febrl_db, source_table="febrl", threshold_match_weight=FEBRL_THRESHOLD)


def _weight(model: TrainedModel, comparison: str, label: str) -> float:
    index = [lv.label for lv in model.spec.comparison(comparison).levels].index(label)
    weight = model.parameters.level(comparison, index).match_weight
    assert weight is not None
    return weight


def test_trained_weights_point_the_right_way(trained: TrainedModel) -> None:
    for comparison in ("given_name", "family_name", "date_of_birth", "address"):
        assert (
            _weight(trained, comparison, "different")
            < 0
            < _weight(trained, comparison, "the same" if comparison != "address" else "the same first line")
        )
    assert _weight(trained, "date_of_birth", "the same") > _weight(trained, "date_of_birth", "within a year")
    assert 0 < trained.parameters.probability_two_random_records_match < 0.01


def test_training_summary(trained: TrainedModel, febrl_rows: list[dict[str, Any]]) -> None:
    summary = trained.training
    assert summary.record_count == len(febrl_rows) == 2400
    assert summary.dialect == "duckdb" and summary.u_max_pairs == 2e5
    assert [s.blocking_rule for s in summary.em_sessions] == [
        "date_of_birth equal",
        "given_name_key and family_name_key equal",
    ]
    assert "date_of_birth" not in summary.em_sessions[0].comparisons_estimated
    assert "given_name" in summary.em_sessions[0].comparisons_estimated
    assert trained.splink_model["link_type"] == "dedupe_only"


def test_saved_as_versioned_json_and_reloaded(trained: TrainedModel, tmp_path: Path) -> None:
    path = trained.save(tmp_path)
    assert path.name.startswith("person-v3-") and path.suffix == ".json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == "commonground-linkage-model" and data["format_version"] == 1
    assert {"trained_at", "record_count", "u_max_pairs", "em_sessions"} <= set(data["training"])
    assert "comparisons" in data["splink_model"]
    assert TrainedModel.load(path) == trained
    assert latest_model(tmp_path) == trained
    with pytest.raises(FileExistsError):
        trained.save(tmp_path)
    data["spec"]["threshold_match_probability"] = 0.99999  # edited after training (still above the review band)
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match="changed after training"):
        TrainedModel.load(path)


def test_linking_meets_precision_and_recall_floors(linked: LinkResult, febrl_rows: list[dict[str, Any]]) -> None:
    ids = [r["unique_id"] for r in febrl_rows]
    truth = [true_entity(i) for i in ids]
    labels = cluster_labels(linked.clusters)
    scores = pairwise_scores(labels_for(ids, labels), truth)
    assert scores.true_pairs == 1200
    assert scores.precision >= 0.995
    # 0.95, not 0.97, since postcode is no longer compared (model.yaml): FEBRL's typo-ridden
    # addresses lean on it, our synthetic area double-counted it (docs/linkage.md).
    assert scores.recall >= 0.95
    clusters = cluster_scores(labels_for(ids, labels), truth)
    assert clusters.merged_clusters <= 3 and clusters.exact_cluster_share >= 0.95


def test_sweep_agrees_with_splink_clustering_and_finds_a_better_threshold(
    linked: LinkResult, trained: TrainedModel, febrl_rows: list[dict[str, Any]]
) -> None:
    ids = [r["unique_id"] for r in febrl_rows]
    truth = [true_entity(i) for i in ids]
    points = threshold_sweep(
        record_ids=ids, truth=truth, edges=scored_edges(linked.predictions), thresholds=np.arange(-5.0, 20.01, 0.5)
    )
    at_default = next(p for p in points if p.threshold_match_weight == FEBRL_THRESHOLD)
    splink_clusters = cluster_labels(linked.clusters)
    assert at_default.scores == pairwise_scores(labels_for(ids, splink_clusters), truth)
    best = choose_threshold(points)
    assert best.f1 >= at_default.f1 and best.f1 >= 0.99
    again = cluster(linked.linker, linked.predictions, threshold_match_weight=best.threshold_match_weight)
    assert best.scores == pairwise_scores(labels_for(ids, cluster_labels(again)), truth)


def test_a_reloaded_model_links_the_same(
    trained: TrainedModel, linked: LinkResult, febrl_db: DuckDBAPI, tmp_path: Path
) -> None:
    reloaded = TrainedModel.load(trained.save(tmp_path))
    again = link(reloaded, db_api=febrl_db, source_table="febrl")
    before, after = sorted(scored_edges(linked.predictions)), sorted(scored_edges(again.predictions))
    assert [(a, b) for a, b, _ in after] == [(a, b) for a, b, _ in before]
    assert [w for _, _, w in after] == pytest.approx([w for _, _, w in before])


def test_explanation_adds_up_to_the_match_weight(linked: LinkResult, trained: TrainedModel) -> None:
    rows = linked.predictions.as_record_list(limit=50)
    for row in rows:
        e = explain_prediction(trained, row)
        assert e.prior_match_weight + sum(c.match_weight for c in e.comparisons) == pytest.approx(e.match_weight)
    e = explain_prediction(trained, rows[0])
    assert [c.comparison for c in e.comparisons] == [c.name for c in trained.spec.comparisons]
    text = e.as_text()
    assert text.splitlines()[0].startswith(f"{e.left_id} and {e.right_id}: ")
    assert "starting point: about 1 in " in text
    again = type(e).model_validate_json(e.model_dump_json())
    assert again.model_dump(mode="json") == e.model_dump(mode="json")


def test_explain_pair_scores_two_records_as_prediction_did(
    linked: LinkResult, trained: TrainedModel, febrl_rows: list[dict[str, Any]]
) -> None:
    by_id = {r["unique_id"]: r for r in febrl_rows}
    predicted = explain_prediction(trained, linked.predictions.as_record_list(limit=1)[0])
    direct = explain_pair(linked.linker, trained, by_id[predicted.left_id], by_id[predicted.right_id])
    assert direct.match_weight == pytest.approx(predicted.match_weight)
    assert [c.level for c in direct.comparisons] == [c.level for c in predicted.comparisons]
    swapped_dates = explain_pair(
        linked.linker,
        trained,
        {"unique_id": "x", "feed": "t", "given_name_key": "ZED", "date_of_birth": "1980-03-04"},
        {"unique_id": "y", "feed": "t", "given_name_key": "ZED", "date_of_birth": "1980-04-03"},
    )
    dob = next(c for c in swapped_dates.comparisons if c.comparison == "date_of_birth")
    assert dob.level == "day and month swapped"
    assert "date of birth: day and month swapped (" in swapped_dates.as_text()
    assert swapped_dates.same_person == (swapped_dates.match_weight >= trained.spec.default_threshold_match_weight)


def test_a_larger_input_is_trained_on_a_deterministic_sample(febrl_db: DuckDBAPI) -> None:
    spec = fast_spec()
    spec = spec.model_copy(update={"training": spec.training.model_copy(update={"max_records": 1500})})
    prepared = prepare_records(db_api=febrl_db, source_table="febrl")
    first, second = train(spec, prepared=prepared), train(spec, prepared=prepared)
    assert first.training.record_count == 2400 and first.training.records_trained_on == 1500
    # The same sample every time: the same numbers.
    assert first.parameters == second.parameters
    assert _weight(first, "date_of_birth", "different") < 0 < _weight(first, "date_of_birth", "the same")


def test_an_input_within_the_limit_is_trained_on_whole(trained: TrainedModel) -> None:
    assert trained.training.records_trained_on is None
