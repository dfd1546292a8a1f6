"""From the ingest store to a published build: ``build_from_store``.

Steps (each reported to ``on_progress(stage, done, total)``): snapshot every ``feed_*`` table of
``ingest.duckdb`` into a new build; stack the person-level records into the linkage input
(``unique_id = feed:record_id``); train if asked or if no model is saved (models live in
``data_dir/analytical/models/``); predict; cluster (:mod:`.components`); give clusters stable
person ids; derive persons and households; publish atomically (:mod:`.builds`). The build is
written from a file-backed scratch DuckDB session with the ingest store (read-only) and the new
build's file attached. Only training and prediction depend on the engine (:func:`_link_duckdb`,
:func:`_link_spark`): on DuckDB Splink works in that same session (its work tables never reach the
build); on Spark the linkage input goes to Spark as Arrow, Splink's ``SparkAPI`` prepares and
predicts, and the pairs at or above the threshold come back as Arrow into the DuckDB session, so
clustering and everything after it is one code path.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from commonground.errors import UserError
from commonground.linkage import builds
from commonground.linkage.components import create_clusters
from commonground.linkage.constraints import load_constraints
from commonground.linkage.households import create_households
from commonground.linkage.person_ids import assign_person_ids
from commonground.linkage.review_band import CANDIDATES, LABELS, write_review_candidates, write_review_labels
from commonground.linkage.sources import DISPLAY_COLUMNS, events_sql, input_sql, person_feeds, quote
from commonground.linkage.spec import LinkageModelSpec, default_spec
from commonground.linkage.threshold import prior_for, review_band_weights, threshold_weight, weight_to_probability
from commonground.linkage.training import TrainedModel, rule_text

OnProgress = Callable[[str, int, int | None], None]
ENGINES = ("duckdb", "spark")
STAGES = ("read feeds", "train", "link", "person ids", "persons and households", "publish")


@dataclass(frozen=True)
class BuildSummary:
    build_id: str
    path: Path
    engine: str
    records: int
    persons: int
    links: int
    households: int
    model_version: str
    trained: bool
    threshold_match_weight: float
    person_ids: dict[str, int]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        found = asdict(self)
        found["path"] = str(self.path)
        return found


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _run(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Run a statement to completion (DuckDB 2 keeps one unfinished result per connection)."""
    con.execute(sql).fetchall()


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(con.execute(f"SELECT COUNT(*) FROM {table}").fetchall()[0][0])


def ingest_store(data_dir: Path) -> Path:
    from commonground.ingest import store_path

    return store_path(data_dir)


SCRATCH = "scratch"
"""The build's working DuckDB database and spill files, inside the build's temporary folder and
removed before the build is published."""

MEMORY_LIMIT_VARIABLE = "COMMONGROUND_LINK_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "4GB"
"""DuckDB's memory limit for a link build; past it, intermediate tables spill to disk. An
in-memory session held every table Splink writes (19 GB resident at 1,000,000 people)."""


def scratch_connection(scratch: Path) -> duckdb.DuckDBPyConnection:
    """A file-backed DuckDB session whose tables can leave memory: Splink's intermediate tables
    (the scored pairs above all) are written here and spill under the memory limit."""
    scratch.mkdir()
    return duckdb.connect(
        str(scratch / "work.duckdb"),
        config={
            "memory_limit": os.environ.get(MEMORY_LIMIT_VARIABLE, DEFAULT_MEMORY_LIMIT),
            "temp_directory": str(scratch / "spill"),
        },
    )


def build_from_store(
    *,
    data_dir: Path,
    model: TrainedModel | None = None,
    train: bool = False,
    engine: str = "duckdb",
    on_progress: OnProgress | None = None,
    spec: LinkageModelSpec | None = None,
    threshold_match_weight: float | None = None,
) -> BuildSummary:
    """Link everything ingested and publish it as a new build (``docs/builds.md``).

    ``model``: link with this model; otherwise train when ``train`` is set or no model is saved,
    else use the latest saved one. ``spec`` is the model to train (default: ``model.yaml``).
    """
    if engine not in ENGINES:
        raise UserError(f"engine {engine!r} is not available for linking yet; use: {', '.join(ENGINES)}")
    if engine == "spark":
        from commonground.linkage.spark import require_spark

        require_spark()
    started = time.perf_counter()
    progress = on_progress or (lambda stage, done, total: None)
    store = ingest_store(data_dir)
    if not store.exists():
        raise UserError(f"nothing has been ingested into {data_dir} yet: run `commonground ingest FOLDER` first")
    with builds.build_lock(data_dir):
        return _locked_build(
            data_dir=data_dir,
            store=store,
            model=model,
            train=train,
            engine=engine,
            progress=progress,
            spec=spec,
            threshold=threshold_match_weight,
            started=started,
        )


def _locked_build(
    *,
    data_dir: Path,
    store: Path,
    model: TrainedModel | None,
    train: bool,
    engine: str,
    progress: OnProgress,
    spec: LinkageModelSpec | None,
    threshold: float | None,
    started: float,
) -> BuildSummary:
    previous = builds.current_build(data_dir)
    build_id = builds.new_build_id()
    folder = builds.start_folder(data_dir, build_id)
    try:
        scratch = folder / SCRATCH
        con = scratch_connection(scratch)
        try:
            info = _build(
                con,
                data_dir=data_dir,
                folder=folder,
                store=store,
                previous=previous,
                model=model,
                train=train,
                engine=engine,
                spec=spec,
                threshold=threshold,
                progress=progress,
            )
        finally:
            con.close()
            shutil.rmtree(scratch, ignore_errors=True)
        info.update(
            build_id=build_id,
            engine=engine,
            created_at=datetime.now(UTC).isoformat(),
            seconds=round(time.perf_counter() - started, 2),
        )
        builds.write_info(folder, info)
        progress("publish", 0, 1)
        final = builds.publish(data_dir, folder, build_id)
        progress("publish", 1, 1)
    except BaseException:
        builds.discard(folder)
        raise
    counts = info["row_counts"]
    return BuildSummary(
        build_id=build_id,
        path=final,
        engine=engine,
        records=counts["person_records"],
        persons=counts["persons"],
        links=counts["links"],
        households=info["household_count"],
        model_version=info["model_version"],
        trained=info["trained"],
        threshold_match_weight=info["threshold_match_weight"],
        person_ids=info["person_ids"],
        seconds=round(time.perf_counter() - started, 2),
    )


def _build(
    con: duckdb.DuckDBPyConnection,
    *,
    data_dir: Path,
    folder: Path,
    store: Path,
    previous: builds.Build | None,
    model: TrainedModel | None,
    train: bool,
    engine: str,
    spec: LinkageModelSpec | None,
    threshold: float | None,
    progress: OnProgress,
) -> dict[str, Any]:
    _run(con, f"ATTACH {_literal(str(store))} AS ingest (READ_ONLY)")
    _run(con, f"ATTACH {_literal(str(folder / 'build.duckdb'))} AS build")
    tables = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'ingest' AND schema_name = 'main' "
            "AND table_name LIKE 'feed\\_%' ESCAPE '\\' ORDER BY table_name"
        ).fetchall()
    ]
    progress("read feeds", 0, len(tables))
    for i, table in enumerate(tables):
        _run(con, f"CREATE TABLE build.main.{quote(table)} AS SELECT * FROM ingest.main.{quote(table)}")
        progress("read feeds", i + 1, len(tables))
    batch_ids = [
        r[0]
        for r in con.execute(
            "SELECT batch_id FROM ingest.main.ingest_batches WHERE rows_accepted > 0 ORDER BY loaded_at, batch_id"
        ).fetchall()
    ]
    _run(con, "DETACH ingest")
    feeds = person_feeds(tables)
    if not feeds:
        raise UserError("the ingest store holds no person-level feed yet: ingest some partner extracts first")
    _run(con, f"CREATE TABLE source_records AS {input_sql(feeds, catalog='build')}")
    record_count = _count(con, "source_records")
    if record_count == 0:
        raise UserError("no person-level records have been ingested yet: nothing to link")

    linked = (_link_spark if engine == "spark" else _link_duckdb)(
        con, data_dir=data_dir, model=model, train=train, spec=spec, threshold=threshold, progress=progress
    )
    model, trained, threshold_used = linked.model, linked.trained, linked.threshold_match_weight
    constraints = load_constraints(data_dir)  # people's word on links (the hub's link reviews) comes first
    _, honoured = create_clusters(
        con,
        records="source_records",
        pairs=quote(linked.predictions),
        threshold_match_weight=threshold_used,
        target="record_clusters",
        held_apart=[g.records for g in constraints.held_apart],
        kept_together=[(*g.records, *g.with_) for g in constraints.kept_together],
        pairs_apart=[g.records for g in constraints.pairs_apart],
    )
    band = write_review_candidates(
        con,
        predictions=quote(linked.predictions),
        clusters="record_clusters",
        lower=linked.band_lower,
        upper=threshold_used,
        target=f"build.main.{CANDIDATES}",
    )
    labels = write_review_labels(
        con,
        constraints=constraints,
        predictions=quote(linked.predictions),
        threshold=threshold_used,
        target=f"build.main.{LABELS}",
    )
    progress("link", 1, 1)

    progress("person ids", 0, 1)
    # A cluster's id is its smallest unique_id (components.py): the key person ids are carried by.
    keys = [r[0] for r in con.execute("SELECT DISTINCT cluster_id FROM record_clusters").fetchall()]
    overlaps: list[tuple[str, str, int]] = []
    previous_ids: list[str] = []
    next_number = 1
    if previous is not None:
        _run(con, f"ATTACH {_literal(str(previous.database))} AS prev (READ_ONLY)")
        overlaps = [
            (str(a), str(b), int(n))
            for a, b, n in con.execute(
                "SELECT c.cluster_id, p.person_id, COUNT(*) FROM record_clusters AS c "
                "JOIN prev.main.person_records AS p ON p.feed || ':' || p.record_id = c.unique_id "
                "GROUP BY c.cluster_id, p.person_id"
            ).fetchall()
        ]
        previous_ids = [r[0] for r in con.execute("SELECT person_id FROM prev.main.persons").fetchall()]
        _run(con, "DETACH prev")
        next_number = int(previous.info.get("next_person_number", 1))
    assignment = assign_person_ids(clusters=keys, overlaps=overlaps, previous_ids=previous_ids, next_number=next_number)
    mapping = pa.table(
        {
            "cluster_id": pa.array(list(assignment.ids), pa.string()),
            "person_id": pa.array(list(assignment.ids.values()), pa.string()),
        }
    )
    con.register("person_id_of_cluster", mapping)
    _run(
        con,
        "CREATE TEMP TABLE record_person AS SELECT c.unique_id, m.person_id FROM record_clusters AS c "
        "JOIN person_id_of_cluster AS m ON m.cluster_id = c.cluster_id",
    )
    progress("person ids", 1, 1)

    progress("persons and households", 0, 1)
    _write_links(con, predictions=quote(linked.predictions), threshold=threshold_used)
    _write_people(con, feeds=feeds)
    create_households(
        con, target="build.main.households", events="record_events", people="record_person", births="build.main.persons"
    )
    _write_postcode_areas(con, tables)
    counts = {
        t: _count(con, f"build.main.{quote(t)}")
        for t in ["person_records", "persons", "links", "households", "postcode_areas", *tables]
    }
    household_count = _count(con, "(SELECT DISTINCT household_id FROM build.main.households)")
    _run(con, "CHECKPOINT build")
    _run(con, "DETACH build")
    progress("persons and households", 1, 1)
    return {
        "model_version": model.version_name,
        "model_spec_sha256": model.spec_sha256,
        "trained": trained,
        "blocking_rules": [rule_text(r) for r in model.spec.blocking_rules_for(record_count)],
        "threshold_match_weight": threshold_used,
        "threshold_match_probability": weight_to_probability(threshold_used),
        "probability_two_random_records_match": prior_for(model, record_count),
        "input_batch_ids": batch_ids,
        "row_counts": counts,
        "household_count": household_count,
        "person_ids": assignment.as_dict(),
        "retired_person_ids": list(assignment.retired),
        "next_person_number": assignment.next_number,
        "previous_build_id": previous.build_id if previous else None,
        "link_reviews": {
            "held_apart": len(constraints.held_apart),
            "kept_together": len(constraints.kept_together),
            "links_cut": honoured.cut,
            "links_added": honoured.added,
            "pairs_apart": len(constraints.pairs_apart),
            "links_dropped_for_pairs_apart": honoured.pairs_separated,
            "labelled_pairs": labels,
        },
        "review_band": {
            "lower_match_weight": linked.band_lower,
            "lower_match_probability": weight_to_probability(linked.band_lower),
            "candidates": band,
        },
    }


@dataclass(frozen=True)
class _Linked:
    """What the engine-specific step leaves in the DuckDB session for the rest of the build."""

    model: TrainedModel
    trained: bool
    threshold_match_weight: float
    band_lower: float
    """The review band's floor (a match weight): ``predictions`` keeps pairs down to it."""
    predictions: str
    """A table of the session: the scored pairs at or above the band's floor (``unique_id_l``,
    ``unique_id_r``, ``match_weight``, ``match_probability``, ``gamma_*``, ``mw_*``, ``bf_*``...)."""


def _link_duckdb(
    con: duckdb.DuckDBPyConnection,
    *,
    data_dir: Path,
    model: TrainedModel | None,
    train: bool,
    spec: LinkageModelSpec | None,
    threshold: float | None,
    progress: OnProgress,
) -> _Linked:
    """Train if needed and score the pairs with Splink in the build's own DuckDB session."""
    from splink import DuckDBAPI

    from commonground.linkage.predict import score

    db_api = DuckDBAPI(con)
    model, trained = _model(
        db_api, data_dir=data_dir, model=model, train=train, spec=spec, progress=progress, source_table="source_records"
    )
    progress("link", 0, 1)
    lower = _band_lower(model, threshold)
    result = score(
        model,
        db_api=db_api,
        source_table="source_records",
        threshold_match_weight=threshold,
        keep_pairs_above=lower,
    )
    return _Linked(
        model=model,
        trained=trained,
        threshold_match_weight=result.threshold_match_weight,
        band_lower=lower,
        predictions=result.predictions.physical_name,
    )


def _band_lower(model: TrainedModel, threshold: float | None) -> float:
    """The review band's floor for this model and threshold (:mod:`.review_band`)."""
    return review_band_weights(model, threshold_match_weight=threshold_weight(model, threshold_match_weight=threshold))[
        0
    ]


def _link_spark(
    con: duckdb.DuckDBPyConnection,
    *,
    data_dir: Path,
    model: TrainedModel | None,
    train: bool,
    spec: LinkageModelSpec | None,
    threshold: float | None,
    progress: OnProgress,
) -> _Linked:
    """The same model, prepare SQL (translated) and Splink calls on Spark (``SparkAPI``, local mode);
    the predictions come back as Arrow into ``spark_predictions`` of the DuckDB session. Splink
    re-raises a failing Spark statement with its SQL."""
    from commonground.linkage.predict import score
    from commonground.linkage.spark import splink_spark_api

    db_api = splink_spark_api()
    source = db_api.register(con.sql("SELECT * FROM source_records").to_arrow_table())
    made = [source]
    try:
        model, trained = _model(
            db_api,
            data_dir=data_dir,
            model=model,
            train=train,
            spec=spec,
            progress=progress,
            source_table=source.physical_name,
        )
        progress("link", 0, 1)
        lower = _band_lower(model, threshold)
        result = score(
            model,
            db_api=db_api,
            source_table=source.physical_name,
            threshold_match_weight=threshold,
            keep_pairs_above=lower,
        )
        made += [result.prepared, result.predictions]
        predictions = result.predictions.as_spark_dataframe()
        kept = [
            c
            for c in predictions.columns
            if c in ("unique_id_l", "unique_id_r", "match_weight", "match_probability")
            or c.startswith(("gamma_", "mw_", "bf_"))
        ]
        con.register("spark_predictions_arrow", predictions.select(*kept).toArrow())
        _run(con, "CREATE TEMP TABLE spark_predictions AS SELECT * FROM spark_predictions_arrow")
        con.unregister("spark_predictions_arrow")
    finally:
        for frame in made:
            frame.drop_table_from_database_and_remove_from_cache()
    return _Linked(
        model=model,
        trained=trained,
        threshold_match_weight=result.threshold_match_weight,
        band_lower=lower,
        predictions="spark_predictions",
    )


def _model(
    db_api: Any,
    *,
    source_table: str,
    data_dir: Path,
    model: TrainedModel | None,
    train: bool,
    spec: LinkageModelSpec | None,
    progress: OnProgress,
) -> tuple[TrainedModel, bool]:
    from commonground.linkage.training import latest_model
    from commonground.linkage.training import train as train_model

    directory = builds.models_dir(data_dir)
    if model is None and not train and directory.exists():
        model = latest_model(directory)
    if model is not None:
        return model, False
    from commonground.linkage.prepare import prepare_records

    progress("train", 0, 1)
    model = train_model(spec or default_spec(), prepared=prepare_records(db_api=db_api, source_table=source_table))
    model.save(directory)
    progress("train", 1, 1)
    return model, True


def _write_links(con: duckdb.DuckDBPyConnection, *, predictions: str, threshold: float) -> None:
    """The accepted links, with each comparison's level and weight (never the compared values).

    Each side's feed and record id are read back from its ``unique_id`` (``feed:record_id``; a
    feed's name has no colon), not joined from the records: at 1,000,000 people there are 13.6
    million links."""
    columns = [r[0] for r in con.execute(f"DESCRIBE {predictions}").fetchall()]
    kept = [c for c in columns if c.startswith(("gamma_", "mw_", "bf_"))]
    extra = "".join(f", pr.{quote(c)}" for c in kept)
    sides = ", ".join(
        f"SPLIT_PART(pr.unique_id_{s}, ':', 1) AS feed_{s}, "
        f"SUBSTR(pr.unique_id_{s}, STRPOS(pr.unique_id_{s}, ':') + 1) AS record_id_{s}"
        for s in ("l", "r")
    )
    _run(
        con,
        f"CREATE TABLE build.main.links AS SELECT {sides}, "
        "rp.person_id, pr.unique_id_l, pr.unique_id_r, pr.match_weight, pr.match_probability"
        f"{extra} FROM {predictions} AS pr "
        "JOIN record_person AS rp ON rp.unique_id = pr.unique_id_l "
        f"WHERE pr.match_weight >= {float(threshold)!r}",
    )


def _most_frequent(column: str, *, skip_unknown_sex: bool = False) -> str:
    where = f"{quote(column)} IS NOT NULL" + (f" AND {quote(column)} <> 'U'" if skip_unknown_sex else "")
    return (
        f"SELECT person_id, value FROM (SELECT i.person_id, i.{quote(column)} AS value, ROW_NUMBER() OVER ("
        f"PARTITION BY i.person_id ORDER BY COUNT(*) DESC, i.{quote(column)}) AS rank "
        f"FROM identity AS i WHERE {where} GROUP BY i.person_id, i.{quote(column)}) WHERE rank = 1"
    )


def _write_people(con: duckdb.DuckDBPyConnection, *, feeds: list[Any]) -> None:
    _run(con, f"CREATE TEMP TABLE record_events AS {events_sql(feeds, catalog='build')}")
    _run(
        con,
        "CREATE TABLE build.main.person_records AS "
        "SELECT s.feed, s.record_id, rp.person_id, "
        "COALESCE(l.match_probability, 1.0) AS match_probability "
        "FROM source_records AS s JOIN record_person AS rp ON rp.unique_id = s.unique_id "
        "LEFT JOIN (SELECT unique_id, MAX(match_probability) AS match_probability FROM ("
        "SELECT unique_id_l AS unique_id, match_probability FROM build.main.links UNION ALL "
        "SELECT unique_id_r, match_probability FROM build.main.links) GROUP BY unique_id) AS l "
        "ON l.unique_id = s.unique_id ORDER BY rp.person_id, s.feed, s.record_id",
    )
    _run(
        con,
        "CREATE TEMP TABLE identity AS SELECT rp.person_id, i.* EXCLUDE (unique_id) "
        f"FROM ({input_sql(feeds, catalog='build', columns=DISPLAY_COLUMNS, as_text=False)}) AS i "
        "JOIN record_person AS rp ON rp.unique_id = i.unique_id",
    )
    best = {c: _most_frequent(c, skip_unknown_sex=c == "sex") for c in DISPLAY_COLUMNS}
    joins = " ".join(
        f"LEFT JOIN ({sql}) AS {quote('b_' + c)} ON {quote('b_' + c)}.person_id = s.person_id"
        for c, sql in best.items()
    )
    shown = ", ".join(
        f"COALESCE({quote('b_' + c)}.value, 'U') AS sex" if c == "sex" else f"{quote('b_' + c)}.value AS {quote(c)}"
        for c in DISPLAY_COLUMNS
    )
    _run(
        con,
        "CREATE TABLE build.main.persons AS "
        f"WITH stats AS (SELECT i.person_id, COUNT(*) AS record_count, LIST(DISTINCT i.feed ORDER BY i.feed) AS feeds, "
        "MIN(e.event_date) AS first_seen, MAX(e.event_date) AS last_seen FROM identity AS i "
        "JOIN record_events AS e ON e.feed = i.feed AND e.record_id = i.record_id GROUP BY i.person_id) "
        f"SELECT s.person_id, {shown}, s.record_count, s.feeds, s.first_seen, s.last_seen FROM stats AS s {joins} "
        "ORDER BY s.person_id",
    )


def _write_postcode_areas(con: duckdb.DuckDBPyConnection, tables: list[str]) -> None:
    if "feed_postcode_areas" in tables:
        _run(
            con,
            "CREATE TABLE build.main.postcode_areas AS SELECT postcode, area_code, deprivation_decile "
            "FROM build.main.feed_postcode_areas ORDER BY postcode",
        )
    else:
        _run(
            con,
            "CREATE TABLE build.main.postcode_areas (postcode VARCHAR, area_code VARCHAR, deprivation_decile BIGINT)",
        )
