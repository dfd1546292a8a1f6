"""Helpers for the linkage tests (imported by conftest and the test modules)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa

from commonground.linkage.parameters import ComparisonParameters, LevelParameters, ModelParameters
from commonground.linkage.prepare import INPUT_COLUMNS
from commonground.linkage.spec import ElseLevel, LinkageModelSpec, MissingLevel, default_spec
from commonground.linkage.training import TrainedModel, TrainingSummary, spec_digest

FEBRL_ENTITIES = 1200
"""FEBRL 4 entities 0..1199: 2,400 records, 1,200 true links."""


def fast_spec() -> LinkageModelSpec:
    """The repository's model with a smaller u sample, so training takes seconds."""
    spec = default_spec()
    return spec.model_copy(update={"training": spec.training.model_copy(update={"u_max_pairs": 2e5})})


def load_table(con: duckdb.DuckDBPyConnection, name: str, rows: list[dict[str, Any]]) -> None:
    columns = {c: [r.get(c) for r in rows] for c in INPUT_COLUMNS}
    con.register(f"{name}_arrow", pa.table(columns))
    con.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_arrow")
    con.unregister(f"{name}_arrow")


def illustrative_parameters(spec: LinkageModelSpec) -> ModelParameters:
    """Hand-set parameters: every agreement level is evidence for a match (m 0.95 / u 0.05
    shared among them), "different" is evidence against. For tests of levels and signs."""
    comparisons = []
    for comp in spec.comparisons:
        agreeing = [lv for lv in comp.levels if not isinstance(lv, MissingLevel | ElseLevel)]
        levels = []
        for lv in comp.levels:
            if isinstance(lv, MissingLevel):
                levels.append(LevelParameters(label=lv.label))
            elif isinstance(lv, ElseLevel):
                levels.append(LevelParameters(label=lv.label, m_probability=0.05, u_probability=0.95))
            else:
                levels.append(
                    LevelParameters(
                        label=lv.label, m_probability=0.95 / len(agreeing), u_probability=0.05 / len(agreeing)
                    )
                )
        comparisons.append(ComparisonParameters(name=comp.name, levels=tuple(levels)))
    return ModelParameters(probability_two_random_records_match=1e-4, comparisons=tuple(comparisons))


def illustrative_model(spec: LinkageModelSpec) -> TrainedModel:
    parameters = illustrative_parameters(spec)
    summary = TrainingSummary(
        trained_at=datetime(2025, 1, 1, tzinfo=UTC),
        record_count=0,
        dialect="duckdb",
        splink_version="5",
        seconds=0.0,
        deterministic_rules=(),
        deterministic_recall=0.7,
        u_max_pairs=0,
        seed=0,
        em_sessions=(),
        probability_two_random_records_match=parameters.probability_two_random_records_match,
    )
    return TrainedModel(
        spec=spec, spec_sha256=spec_digest(spec), parameters=parameters, training=summary, splink_model={}
    )
