"""Score candidate pairs with a trained model and cluster them into people.

The input is one table of standardised person-level records from every feed (see
:mod:`commonground.linkage.prepare`), already in the backend behind ``db_api``. The output is
Splink's: pairwise predictions with match weights (and each comparison's level and weight, for
explanation), and clusters at a match-weight threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from splink import Linker
from splink.internals.database_api import DatabaseAPI
from splink.internals.splink_dataframe import SplinkDataFrame

from commonground.linkage.compile import settings_creator
from commonground.linkage.prepare import prepare_records
from commonground.linkage.threshold import prior_for, threshold_weight
from commonground.linkage.training import SPLINK_LOG_LEVEL, TrainedModel, count_records


def linker_for(model: TrainedModel, *, prepared: SplinkDataFrame) -> Linker:
    """A Splink linker for the trained model, compiled for ``prepared``'s backend, with the
    blocking rules and the prior for its number of records (``spec.blocking_rules_for``,
    :func:`.threshold.prior_for`)."""
    records = count_records(prepared)
    settings = settings_creator(
        model.spec,
        parameters=model.parameters,
        blocking_rules=model.spec.blocking_rules_for(records),
        probability_two_random_records_match=prior_for(model, records),
    )
    return Linker(prepared, settings, log_level=SPLINK_LOG_LEVEL)


@dataclass(frozen=True)
class LinkResult:
    linker: Linker
    prepared: SplinkDataFrame
    predictions: SplinkDataFrame
    """Every candidate pair at or above the spec's ``keep_pairs_above_match_weight``."""
    clusters: SplinkDataFrame
    """``cluster_id`` and the prepared record, one row per record."""
    threshold_match_weight: float


def predict(linker: Linker, model: TrainedModel, *, keep_pairs_above: float | None = None) -> SplinkDataFrame:
    """Score the candidate pairs, keeping those at or above ``keep_pairs_above`` (default: the
    spec's ``keep_pairs_above_match_weight``, low enough to sweep thresholds and explain near misses)."""
    floor = model.spec.keep_pairs_above_match_weight if keep_pairs_above is None else keep_pairs_above
    return linker.inference.predict(threshold_match_weight=floor, warning_mode="never")


def cluster(linker: Linker, predictions: SplinkDataFrame, *, threshold_match_weight: float) -> SplinkDataFrame:
    """Connected components of the pairs at or above the threshold (Splink's clustering)."""
    return linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_weight=threshold_match_weight
    )


@dataclass(frozen=True)
class Scored:
    linker: Linker
    prepared: SplinkDataFrame
    predictions: SplinkDataFrame
    threshold_match_weight: float


def score(
    model: TrainedModel,
    *,
    db_api: DatabaseAPI[Any],
    source_table: str,
    threshold_match_weight: float | None = None,
    keep_pairs_below_threshold: bool = True,
    keep_pairs_above: float | None = None,
) -> Scored:
    """Prepare the records in ``source_table`` and score their candidate pairs.

    The threshold (a match weight) defaults to the spec's: its match probability as a weight
    (chosen from evaluation); the prior inside every pair's weight is the one for this many
    records (:mod:`.threshold`). The predictions
    keep pairs down to the spec's ``keep_pairs_above_match_weight`` (for sweeps and near misses),
    or, with ``keep_pairs_below_threshold=False``, only the pairs the clusters are made of: a build
    keeps no other pair, and at 1,000,000 people writing the rest cost as much as the scoring.
    ``keep_pairs_above`` (a weight) overrides both: a build keeps the review band's pairs too.
    """
    threshold = threshold_weight(model, threshold_match_weight=threshold_match_weight)
    prepared = prepare_records(db_api=db_api, source_table=source_table)
    linker = linker_for(model, prepared=prepared)
    floor = keep_pairs_above if keep_pairs_above is not None else None if keep_pairs_below_threshold else threshold
    predictions = predict(linker, model, keep_pairs_above=floor)
    return Scored(linker=linker, prepared=prepared, predictions=predictions, threshold_match_weight=threshold)


def link(
    model: TrainedModel,
    *,
    db_api: DatabaseAPI[Any],
    source_table: str,
    threshold_match_weight: float | None = None,
    keep_pairs_below_threshold: bool = True,
) -> LinkResult:
    """:func:`score`, then Splink's clustering at the threshold (the build clusters the same pairs
    with :mod:`.components` instead, which is faster and the same on both engines)."""
    scored = score(
        model,
        db_api=db_api,
        source_table=source_table,
        threshold_match_weight=threshold_match_weight,
        keep_pairs_below_threshold=keep_pairs_below_threshold,
    )
    clusters = cluster(scored.linker, scored.predictions, threshold_match_weight=scored.threshold_match_weight)
    return LinkResult(
        linker=scored.linker,
        prepared=scored.prepared,
        predictions=scored.predictions,
        clusters=clusters,
        threshold_match_weight=scored.threshold_match_weight,
    )


def scored_edges(predictions: SplinkDataFrame) -> list[tuple[str, str, float]]:
    """``(unique_id_l, unique_id_r, match_weight)`` for every scored pair, for threshold sweeps."""
    table = predictions.query_sql("SELECT unique_id_l, unique_id_r, match_weight FROM {this}").as_dict()
    return list(zip(table["unique_id_l"], table["unique_id_r"], table["match_weight"], strict=True))


def cluster_labels(clusters: SplinkDataFrame) -> dict[str, str]:
    """``unique_id -> cluster_id`` for every record."""
    table = clusters.query_sql("SELECT unique_id, cluster_id FROM {this}").as_dict()
    return dict(zip(table["unique_id"], table["cluster_id"], strict=True))
