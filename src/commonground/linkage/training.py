"""Estimate the model without labels, and keep it as versioned JSON.

The route is Splink's unsupervised one: the prior (lambda) from deterministic rules and their
believed recall; u by random sampling (pairs of random records are almost all different
people); m by expectation maximisation, one session per EM blocking rule, each estimating the
comparisons its rule does not block on. The result is a :class:`TrainedModel`: our spec, the
numbers (engine-independent), Splink's own model JSON, and a training summary.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import splink
from pydantic import BaseModel, ConfigDict
from splink import Linker
from splink.internals.splink_dataframe import SplinkDataFrame

from commonground.linkage.compile import blocking_rule_creator, settings_creator
from commonground.linkage.parameters import ModelParameters
from commonground.linkage.spec import BlockingRuleSpec, LinkageModelSpec

MODEL_FORMAT_VERSION = 1
SPLINK_LOG_LEVEL = logging.WARNING


def rule_text(rule: BlockingRuleSpec) -> str:
    """'given_name_key = and date_of_birth (year) =': a blocking rule in words, for summaries."""
    return " and ".join(f"{k.column} ({k.part.value})" if k.part else k.column for k in rule) + " equal"


def spec_digest(spec: LinkageModelSpec) -> str:
    """SHA-256 of the spec as JSON. A threshold the spec does not give is left out, so a model saved
    before the threshold could be a probability (spec version 2), or before the review band, keeps the digest it
    was saved with."""
    data = spec.model_dump(mode="json")
    for key in ("threshold_match_probability", "threshold_match_weight", "review_band_lower_probability"):
        if data.get(key) is None:
            data.pop(key, None)
    return hashlib.sha256(json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8")).hexdigest()


class EMSession(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    blocking_rule: str
    comparisons_estimated: tuple[str, ...]


class TrainingSummary(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    trained_at: datetime
    record_count: int
    records_trained_on: int | None = None
    """The sample trained on, when the input had more records than ``training.max_records``."""
    dialect: str
    splink_version: str
    seconds: float
    deterministic_rules: tuple[str, ...]
    deterministic_recall: float
    u_max_pairs: float
    seed: int
    em_sessions: tuple[EMSession, ...]
    probability_two_random_records_match: float


class TrainedModel(BaseModel):
    """Everything needed to link with a trained model again, on any backend."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["commonground-linkage-model"] = "commonground-linkage-model"
    format_version: int = MODEL_FORMAT_VERSION
    spec: LinkageModelSpec
    spec_sha256: str
    parameters: ModelParameters
    training: TrainingSummary
    splink_model: dict[str, Any]
    """Splink's own model JSON (``save_model_to_json``), SQL in ``training.dialect``."""

    @property
    def version_name(self) -> str:
        """'person-v1-20250102T030405Z': the spec's name and version and when it was trained."""
        stamp = self.training.trained_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        return f"{self.spec.name}-v{self.spec.version}-{stamp}"

    def save(self, directory: Path) -> Path:
        """Write ``<directory>/<version_name>.json``; never overwrites an earlier model."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{self.version_name}.json"
        with path.open("x", encoding="utf-8") as f:
            f.write(self.model_dump_json(indent=2))
        return path

    @classmethod
    def load(cls, path: Path) -> TrainedModel:
        model = cls.model_validate_json(path.read_text(encoding="utf-8"))
        if model.spec_sha256 != spec_digest(model.spec):
            raise ValueError(f"{path}: the spec inside the model file was changed after training")
        return model


def latest_model(directory: Path) -> TrainedModel | None:
    """The most recently trained model saved in ``directory``, or None if there is none."""
    found = [TrainedModel.load(p) for p in directory.glob("*-v*-*.json")]
    return max(found, key=lambda m: m.training.trained_at, default=None)


def count_records(prepared: SplinkDataFrame) -> int:
    rows = prepared.query_sql("SELECT COUNT(*) AS n FROM {this}").as_record_list()
    return int(rows[0]["n"])


def _sample(prepared: SplinkDataFrame, max_records: int) -> SplinkDataFrame:
    """The ``max_records`` records whose MD5 of ``unique_id`` sorts first: the same sample on every
    run and every engine, unrelated to any value compared."""
    sampled = prepared.db_api.query_sql(
        f"SELECT * FROM {prepared.physical_name} ORDER BY md5(unique_id) LIMIT {int(max_records)}"
    )
    assert isinstance(sampled, SplinkDataFrame)
    return sampled


def _fill_unseen_u(settings: dict[str, Any]) -> dict[str, Any]:
    """A level that EM saw among matches (m trained) but random sampling never drew (u unknown:
    "names swapped, and one a nickname", rarer among random pairs than 1 in millions) takes the
    smallest u of its comparison: at most that rare, so its weight is, if anything, understated.
    Without it Splink would score the level with no weight at all."""
    for comparison in settings["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        seen = [lv["u_probability"] for lv in levels if lv.get("u_probability")]
        for level in levels:
            if seen and level.get("m_probability") is not None and level.get("u_probability") is None:
                level["u_probability"] = min(seen)
    return settings


def train(spec: LinkageModelSpec, *, prepared: SplinkDataFrame) -> TrainedModel:
    """Train ``spec`` on prepared records (see :func:`commonground.linkage.prepare.prepare_records`).

    With ``training.max_records`` and more records than that, every step (prior, u, EM) uses a
    deterministic sample: sampling records keeps the share of true matches among any blocked pairs.
    """
    started = time.perf_counter()
    training = spec.training
    record_count = count_records(prepared)
    trained_on = prepared
    if training.max_records is not None and record_count > training.max_records:
        trained_on = _sample(prepared, training.max_records)
    linker = Linker(trained_on, settings_creator(spec), log_level=SPLINK_LOG_LEVEL)
    linker.training.estimate_probability_two_random_records_match(
        [blocking_rule_creator(r) for r in training.deterministic_rules],
        recall=training.deterministic_recall,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=training.u_max_pairs, seed=training.seed)
    sessions = []
    for rule in training.em_blocking_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(blocking_rule_creator(rule))
        blocked = {k.column for k in rule}
        sessions.append(
            EMSession(
                blocking_rule=rule_text(rule),
                comparisons_estimated=tuple(c.name for c in spec.comparisons if not c.columns() & blocked),
            )
        )
    splink_model = _fill_unseen_u(linker.misc.save_model_to_json())
    parameters = ModelParameters.from_splink_settings(splink_model)
    summary = TrainingSummary(
        trained_at=datetime.now(UTC),
        record_count=record_count,
        records_trained_on=None if trained_on is prepared else count_records(trained_on),
        dialect=prepared.db_api.sql_dialect.sql_dialect_str,
        splink_version=splink.__version__,
        seconds=round(time.perf_counter() - started, 2),
        deterministic_rules=tuple(rule_text(r) for r in training.deterministic_rules),
        deterministic_recall=training.deterministic_recall,
        u_max_pairs=training.u_max_pairs,
        seed=training.seed,
        em_sessions=tuple(sessions),
        probability_two_random_records_match=parameters.probability_two_random_records_match,
    )
    return TrainedModel(
        spec=spec, spec_sha256=spec_digest(spec), parameters=parameters, training=summary, splink_model=splink_model
    )
