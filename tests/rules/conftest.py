"""Fixtures for the rules tests: one SparkSession per test session, and running rules on a scenario."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from commonground.rules import RulesResult, explain_person, run_rules

from .scenario import Scenario


@dataclass
class Outcome:
    """What a rules run wrote, read back as plain rows."""

    build_dir: Path
    result: RulesResult
    indicators: list[dict[str, Any]]
    flags: list[dict[str, Any]]
    evidence: list[dict[str, Any]]

    def fired(self, person_id: str) -> set[str]:
        return {r["rule_id"] for r in self.indicators + self.flags if r["person_id"] == person_id}

    def evidence_of(self, person_id: str, rule_id: str) -> set[tuple[str, str]]:
        return {
            (e["feed"], e["record_id"])
            for e in self.evidence
            if e["person_id"] == person_id and e["rule_id"] == rule_id
        }

    def row(self, person_id: str, rule_id: str) -> dict[str, Any]:
        for r in self.indicators + self.flags:
            if r["person_id"] == person_id and r["rule_id"] == rule_id:
                return r
        raise KeyError((person_id, rule_id))

    def explain(self, person_id: str) -> str:
        return explain_person(build_dir=self.build_dir, person_id=person_id).to_text()


def read_outcome(build_dir: Path, result: RulesResult) -> Outcome:
    with duckdb.connect(str(build_dir / "rules.duckdb"), read_only=True) as con:
        tables = {}
        for name in ("indicators", "flags", "evidence"):
            cursor = con.execute(f"SELECT * FROM {name} ORDER BY ALL")
            columns = [d[0] for d in cursor.description]
            tables[name] = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    return Outcome(build_dir=build_dir, result=result, **tables)


def run_scenario(
    scenario: Scenario, build_dir: Path, *, as_of: datetime, engine: str = "duckdb", **options: Any
) -> Outcome:
    scenario.write(build_dir, omit_feeds=options.pop("omit_feeds", ()))
    result = run_rules(build_dir=build_dir, engine=engine, as_of=as_of, **options)
    return read_outcome(build_dir, result)


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local SparkSession for every Spark test (it takes seconds to start).

    A session another stage's tests already started is reused as it is (and left running).
    """
    pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        yield active
        return
    # Tiny data: one shuffle partition, no Java code generation (compiling it costs more than it
    # saves on a few rows) and a JVM that compiles itself less (C1 only): a cold run takes about
    # half the CPU. commonground's Spark engine reuses the active session.
    session = (
        SparkSession.builder.master("local[2]")
        .appName("commonground-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.sql.codegen.factoryMode", "NO_CODEGEN")
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
