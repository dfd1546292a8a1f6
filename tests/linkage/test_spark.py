"""Spark gives the same people as DuckDB: one spec, one prepare SQL (translated), one saved model.

A small synthetic area is ingested and built on DuckDB (training the model, saved), then built again
with the saved model on Spark (Splink's ``SparkAPI``, local mode) and on DuckDB; the two builds must
put the records into the same persons. Needs PySpark and Java: skipped without them, except in CI
(``CI=true``), where it fails.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from linkage_support import fast_spec

pytestmark = [pytest.mark.spark, pytest.mark.slow]

SPARK_PEOPLE = 400


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"the Spark linkage test needs {reason} in CI")
    pytest.skip(f"needs {reason}")


@pytest.fixture(scope="module")
def linkage_spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A local Spark session with Splink's jar, stopped afterwards (the rules tests start their own)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        _missing("PySpark (the spark extra)")
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        _missing("Java")
    from pyspark.sql import SparkSession

    from commonground.linkage.spark import splink_spark_session

    started_here = SparkSession.getActiveSession() is None
    # Tiny data: two shuffle partitions and no Java code generation (compiling costs more than it
    # saves on a few hundred rows).
    session = splink_spark_session(
        shuffle_partitions=2,
        checkpoint_dir=tmp_path_factory.mktemp("spark-checkpoints"),
        conf={
            "spark.sql.codegen.wholeStage": "false",
            "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
        },
    )
    yield session
    if started_here:
        session.stop()


def _persons(build: Path) -> set[frozenset[str]]:
    with duckdb.connect(str(build / "build.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT person_id, feed || ':' || record_id FROM person_records").fetchall()
    found: dict[str, set[str]] = {}
    for person_id, record in rows:
        found.setdefault(person_id, set()).add(record)
    return {frozenset(records) for records in found.values()}


def test_spark_and_duckdb_give_the_same_persons(linkage_spark: Any, tmp_path: Path) -> None:
    from commonground.ingest import ingest_directory
    from commonground.linkage.pipeline import build_from_store
    from commonground.synth import generate

    generate(people=SPARK_PEOPLE, seed=11, out=tmp_path / "area")
    data_dir = tmp_path / "data"
    ingest_directory(source=tmp_path / "area", data_dir=data_dir)
    trained = build_from_store(data_dir=data_dir, train=True, spec=fast_spec())
    assert trained.trained

    on_spark = build_from_store(data_dir=data_dir, engine="spark")
    on_duckdb = build_from_store(data_dir=data_dir, engine="duckdb")

    assert on_spark.engine == "spark" and not on_spark.trained
    assert on_spark.model_version == on_duckdb.model_version == trained.model_version
    assert on_spark.records == on_duckdb.records > SPARK_PEOPLE
    assert _persons(on_spark.path) == _persons(on_duckdb.path) == _persons(trained.path)
    assert (on_spark.persons, on_spark.links, on_spark.households) == (
        on_duckdb.persons,
        on_duckdb.links,
        on_duckdb.households,
    )
    info = json.loads((on_spark.path / "build.json").read_text())
    assert info["engine"] == "spark"
    # The build stays a DuckDB file with the same tables; the links carry the same comparison levels.
    with duckdb.connect(str(on_spark.path / "build.duckdb"), read_only=True) as con:
        spark_links = con.execute(
            "SELECT * EXCLUDE (person_id, match_weight, match_probability) FROM links ORDER BY ALL"
        ).fetchall()
        spark_weights = con.execute("SELECT unique_id_l, unique_id_r, match_weight FROM links ORDER BY 1, 2").fetchall()
    with duckdb.connect(str(on_duckdb.path / "build.duckdb"), read_only=True) as con:
        duck_links = con.execute(
            "SELECT * EXCLUDE (person_id, match_weight, match_probability) FROM links ORDER BY ALL"
        ).fetchall()
        duck_weights = con.execute("SELECT unique_id_l, unique_id_r, match_weight FROM links ORDER BY 1, 2").fetchall()
    assert len(spark_links) == len(duck_links)
    assert [row[:2] for row in spark_weights] == [row[:2] for row in duck_weights]
    for (_, _, a), (_, _, b) in zip(spark_weights, duck_weights, strict=True):
        assert a == pytest.approx(b, abs=1e-6)


def test_a_failing_spark_statement_is_reported_with_its_sql(linkage_spark: Any) -> None:
    from splink.internals.exceptions import SplinkException
    from splink.internals.pipeline import CTEPipeline

    from commonground.linkage.spark import splink_spark_api

    db_api = splink_spark_api(linkage_spark)
    pipeline = CTEPipeline()
    # Fails only when run (ANSI cast), which Spark does when Splink writes the table out.
    pipeline.enqueue_sql(
        "SELECT CAST(x AS INT) AS n FROM (SELECT EXPLODE(ARRAY('1', 'not a number')) AS x)", "__splink__df_predict"
    )
    with pytest.raises(SplinkException) as raised:
        db_api.sql_pipeline_to_splink_dataframe(pipeline)
    message = str(raised.value)
    assert "CAST(x AS INT)" in message and "CAST_INVALID_INPUT" in message


def test_spark_scores_jaro_winkler_as_duckdb_does(linkage_spark: Any) -> None:
    """The jar's Jaro-Winkler put `27 STATION CRES` / `27 MAPLE COURT` under 0.75 where DuckDB says
    0.797, so the engines could link different records; Spark now uses DuckDB's measure."""
    from commonground.linkage.spark import splink_spark_api

    splink_spark_api(linkage_spark)
    pairs = [
        ("27 STATION CRES", "27 MAPLE COURT"),
        ("MARTHA", "MARHTA"),
        ("DWAYNE", "DUANE"),
        ("JONES", "JOHNSON"),
        ("A", "B"),
        ("", "ABC"),
        ("MICHAELA", "MICHAELA"),
    ]
    rows = ", ".join(f"('{a}', '{b}')" for a, b in pairs)
    spark_scores = linkage_spark.sql(
        f"SELECT a, b, jaro_winkler(a, b) AS s FROM VALUES {rows} AS t(a, b) ORDER BY a, b"
    ).collect()
    with duckdb.connect() as con:
        duck_scores = con.execute(
            f"SELECT a, b, jaro_winkler_similarity(a, b) FROM (VALUES {rows}) AS t(a, b) ORDER BY a, b"
        ).fetchall()
    assert [(r["a"], r["b"]) for r in spark_scores] == [(a, b) for a, b, _ in duck_scores]
    for row, (_, _, expected) in zip(spark_scores, duck_scores, strict=True):
        assert row["s"] == pytest.approx(expected, abs=1e-12)
    assert linkage_spark.sql("SELECT jaro_winkler(NULL, 'A') AS s").collect()[0]["s"] is None


def test_spark_standardises_addresses_as_python_does(linkage_spark: Any) -> None:
    """Every literal row of test_standardise through the prepare step's address SQL, translated for
    Spark: the same standard form as the Python rules (and so as DuckDB, which test_standardise checks)."""
    import sqlglot
    from test_standardise import CASES

    from commonground.linkage.standardise import address_sql, placeholder_sql

    frame = linkage_spark.createDataFrame([(i, raw) for i, (raw, _) in enumerate(CASES)], "i INT, a STRING")
    frame.createOrReplaceTempView("addresses")
    sql = (
        f"SELECT i, CASE WHEN x NOT IN ({placeholder_sql()}) THEN x END AS x FROM "
        f"(SELECT i, {address_sql('a')} AS x FROM addresses) ORDER BY i"
    )
    got = linkage_spark.sql(sqlglot.transpile(sql, read="duckdb", write="spark")[0]).collect()
    assert [row["x"] for row in got] == [expected for _, expected in CASES]
