"""Linkage: the same person across every partner's records (Splink, DuckDB now and Spark later).

The stage in order: a declarative model (:mod:`.spec`, kept in ``model.yaml``) compiled late into
Splink settings (:mod:`.compile`); prepared records (:mod:`.prepare`); unsupervised training
saved as versioned JSON (:mod:`.training`); prediction and clustering (:mod:`.predict`);
explanations of a pair (:mod:`.explain`); and evaluation against a truth (:mod:`.evaluate`).
From the ingest store to a published build (:mod:`.pipeline`): stable person ids
(:mod:`.person_ids`), households (:mod:`.households`), the atomic publish (:mod:`.builds`), and
what can be asked of a build (:mod:`.reports`).

Names are imported lazily, so ``import commonground.linkage`` does not load Splink.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from commonground.linkage.builds import Build, current_build
    from commonground.linkage.evaluate import (
        ClusterScores,
        PairwiseScores,
        SweepPoint,
        choose_threshold,
        cluster_scores,
        pairwise_scores,
        threshold_sweep,
    )
    from commonground.linkage.explain import PairExplanation, explain_pair, explain_prediction
    from commonground.linkage.pipeline import BuildSummary, build_from_store
    from commonground.linkage.predict import LinkResult, cluster_labels, link, linker_for, scored_edges
    from commonground.linkage.prepare import INPUT_COLUMNS, prepare_records
    from commonground.linkage.reports import evaluate_build, explain_link, export_households, export_persons
    from commonground.linkage.spec import LinkageModelSpec, SpecError, default_spec, load_spec
    from commonground.linkage.training import TrainedModel, latest_model, train

_WHERE = {
    "Build": "builds",
    "current_build": "builds",
    "BuildSummary": "pipeline",
    "build_from_store": "pipeline",
    "evaluate_build": "reports",
    "explain_link": "reports",
    "export_households": "reports",
    "export_persons": "reports",
    "ClusterScores": "evaluate",
    "PairwiseScores": "evaluate",
    "SweepPoint": "evaluate",
    "choose_threshold": "evaluate",
    "cluster_scores": "evaluate",
    "pairwise_scores": "evaluate",
    "threshold_sweep": "evaluate",
    "PairExplanation": "explain",
    "explain_pair": "explain",
    "explain_prediction": "explain",
    "LinkResult": "predict",
    "cluster_labels": "predict",
    "link": "predict",
    "linker_for": "predict",
    "scored_edges": "predict",
    "INPUT_COLUMNS": "prepare",
    "prepare_records": "prepare",
    "LinkageModelSpec": "spec",
    "SpecError": "spec",
    "default_spec": "spec",
    "load_spec": "spec",
    "TrainedModel": "training",
    "latest_model": "training",
    "train": "training",
}

__all__ = [
    "INPUT_COLUMNS",
    "Build",
    "BuildSummary",
    "ClusterScores",
    "LinkResult",
    "LinkageModelSpec",
    "PairExplanation",
    "PairwiseScores",
    "SpecError",
    "SweepPoint",
    "TrainedModel",
    "build_from_store",
    "choose_threshold",
    "cluster_labels",
    "cluster_scores",
    "current_build",
    "default_spec",
    "evaluate_build",
    "explain_link",
    "explain_pair",
    "explain_prediction",
    "export_households",
    "export_persons",
    "latest_model",
    "link",
    "linker_for",
    "load_spec",
    "pairwise_scores",
    "prepare_records",
    "scored_edges",
    "threshold_sweep",
    "train",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f"commonground.linkage.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'commonground.linkage' has no attribute {name!r}")
