"""What a run writes and how it is read: the CSV export, explanations, atomic output, missing feeds,
engine errors, values never pasted into SQL, and the same flags from DuckDB and Spark."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from sqlglot import exp

from commonground.engine import EngineError, create_engine
from commonground.errors import UserError
from commonground.rules import explain_person, export_flags, run_rules
from commonground.rules.compile import rule_query
from commonground.rules.packs import default_rules
from commonground.rules.sql import Params, render

from .conftest import Outcome, read_outcome, run_scenario
from .scenario import Scenario

AS_OF = datetime(2025, 1, 15, 10, 0)


def small_area() -> Scenario:
    """One household that fires an indicator of each kind of evidence and a flag of each deadline kind, and flags
    rated up (a recent record, another rule flagging the person) and down (nothing new for weeks)."""
    s = Scenario()
    mum = s.person("out_mum", born="1990-01-01")
    dad = s.person("out_dad", born="1988-01-01", sex="M")
    kid = s.person("out_kid", born="2014-05-01")
    teen = s.person("out_teen", born="2009-03-01", sex="M")
    s.household(
        "H_out",
        uprn="Uout",
        members=[
            (mum, "2012-01-01", None),
            (dad, "2012-01-01", "2024-06-30"),
            (kid, "2014-05-01", None),
            (teen, "2012-01-01", None),
        ],
    )
    s.school(urn="100001")
    s.enrol(kid, urn="100001", enrolled_on="2019-09-01")
    s.police_incident(at="2025-01-10 21:30", uprn="Uout", persons={mum: "victim", dad: "suspect", kid: "child_present"})
    s.mh_contact(mum, on="2023-03-01", service="crisis")
    s.treatment(dad, start="2022-01-01", end="2022-09-01", substance="opiates")
    s.prison(dad, received="2024-06-01", released="2024-06-20", remand=True)
    s.social_care(kid, on="2023-05-01", factors=["16a", "17a"], plan="neglect")
    for day in ("2024-12-01", "2024-12-20", "2025-01-09"):
        s.missing(teen, at=f"{day} 22:00")
    s.custody(teen, at="2025-01-12 15:00", offence_group="drugs_supply")
    for day in ("2025-01-01", "2025-01-04", "2025-01-08"):
        s.triage(mum, at=f"{day} 02:00", outcome="crisis_team_referral")
    s.postcode_area(postcode="AB1 2CD", decile=3)
    quiet = s.person("out_quiet", born="1970-02-02")  # self-harm seen by two agencies, nothing new for 41 days
    s.ed(quiet, at="2024-11-01 22:00", injury_intent="self_harm")
    s.custody(quiet, at="2024-12-05 01:00", vulnerabilities=["self_harm"])
    return s


@pytest.fixture(scope="module")
def area(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    return run_scenario(small_area(), tmp_path_factory.mktemp("out") / "build", as_of=AS_OF)


def test_export_has_exactly_the_agreed_columns(area: Outcome, tmp_path: Path) -> None:
    out = tmp_path / "exports" / "flags.csv"
    count = export_flags(build_dir=area.build_dir, out=out)
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["person_id", "rule_id", "kind", "first_evidence", "latest_evidence", "route_to", "due_by"]
    assert count == len(rows) - 1 == len(area.indicators) + len(area.flags)
    by_key = {(r[0], r[1]): r for r in rows[1:]}
    indicator = by_key[("out_kid", "ace.domestic_abuse")]
    assert indicator[2:] == ["indicator", "2025-01-10T21:30:00", "2025-01-10T21:30:00", "", ""]
    notice = by_key[("out_kid", "notice.school_domestic_abuse")]
    assert notice[2:] == [
        "flag",
        "2025-01-10T21:30:00",
        "2025-01-10T21:30:00",
        "school:100001/designated_safeguarding_lead",
        "2025-01-13T08:30:00",
    ]
    mash = by_key[("out_teen", "child.exploitation_risk")]
    assert mash[5:] == ["local_authority/mash", "2025-01-15T12:00:00"]
    assert {r[2] for r in rows[1:]} == {"indicator", "flag"}


def test_the_area_fires_what_it_should(area: Outcome) -> None:
    assert area.fired("out_kid") == {
        "ace.domestic_abuse",
        "ace.household_mental_illness",
        "ace.household_substance_misuse",
        "ace.household_imprisonment",
        "ace.parental_separation",
        "ace.physical_neglect",
        "ace.emotional_abuse",
        "ace.emotional_neglect",
        "notice.school_domestic_abuse",
        "child.household_adult_in_crisis",  # the mother's three crises in January, while living with the children
    }
    assert area.fired("out_teen") >= {
        "child.repeat_missing",
        "child.exploitation_risk",
        "ace.household_imprisonment",
        "child.household_adult_in_crisis",
    }
    assert area.fired("out_mum") == {"adult.repeat_mental_health_crisis"}
    assert area.fired("out_dad") == set()


def test_explanation_text(area: Outcome) -> None:
    explanation = explain_person(build_dir=area.build_dir, person_id="out_kid")
    assert len(explanation.indicators) == 8 and len(explanation.flags) == 2
    text = explanation.to_text()
    assert text.startswith("Person out_kid: 8 indicator(s), 2 flag(s) (rules as of 2025-01-15 10:00:00)")
    assert "[indicator] ace.household_imprisonment v1: Imprisonment of a household member" in text
    assert "2024-06-01  custodial_sentences/" in text and "[record of person out_dad]" in text
    assert "2024-06-30  households/H_out/out_dad/2012-01-01: an adult of parent age left" in text
    assert "Routed to school:100001/designated_safeguarding_lead, due by 2025-01-13 08:30" in text
    assert "Shared under: Victims and Prisoners Act 2024 s20" in text
    for word in ("Alex", "Example", "High Street", "AB1"):  # no identity in an explanation
        assert word not in text


def test_explaining_someone_with_nothing(area: Outcome) -> None:
    text = explain_person(build_dir=area.build_dir, person_id="out_dad").to_text()
    assert text.endswith("No rule fired for this person.")


def test_output_tables_and_run_facts(area: Outcome) -> None:
    with duckdb.connect(str(area.build_dir / "rules.duckdb"), read_only=True) as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        facts = dict(con.execute("SELECT key, value FROM rules_run").fetchall())
        versions = con.execute("SELECT DISTINCT rule_id, rule_version FROM flags ORDER BY 1").fetchall()
    assert tables == {"indicators", "flags", "evidence", "rules", "rule_evidence_items", "rules_run", "age_unknown"}
    assert facts["as_of"] == "2025-01-15 10:00:00" and facts["engine"] == "duckdb"
    assert facts["packs"] == '{"ace": 2, "adult": 3, "notices": 1}'
    assert {rule: version for rule, version in versions if version != 1} == {"child.exploitation_risk": 2}


def test_a_rerun_replaces_the_output_atomically(area: Outcome, tmp_path: Path) -> None:
    build = tmp_path / "build"
    small_area().write(build)
    first = run_rules(build_dir=build, as_of=AS_OF)
    second = run_rules(build_dir=build, as_of=datetime(2025, 1, 16, 10, 0))
    assert sorted(p.name for p in build.iterdir()) == ["build.duckdb", "build.json", "rules.duckdb"]
    assert first.output == second.output
    assert read_outcome(build, second).flags[0]["raised_at"] == datetime(2025, 1, 16, 10, 0)


def test_a_feed_the_build_lacks_is_reported_and_the_rest_run(tmp_path: Path) -> None:
    outcome = run_scenario(small_area(), tmp_path / "build", as_of=AS_OF, omit_feeds=("custodial_sentences",))
    assert outcome.result.unavailable_sources == {"custodial_sentences": ("feed_custodial_sentences",)}
    assert "ace.household_imprisonment" not in outcome.fired("out_kid")
    assert "ace.domestic_abuse" in outcome.fired("out_kid")
    assert "not available: custodial_sentences" in outcome.result.summary()


def test_a_build_published_as_parquet_folders(area: Outcome, tmp_path: Path) -> None:
    """At scale a build's tables are Parquet folders (``<table>/part-*.parquet``) beside build.json."""
    folder = tmp_path / "parquet-build"
    folder.mkdir()
    with duckdb.connect(str(area.build_dir / "build.duckdb"), read_only=True) as con:
        for (table,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall():
            (folder / table).mkdir()
            con.execute(f"COPY {table} TO '{folder / table / 'part-0.parquet'}' (FORMAT PARQUET)")
    outcome = read_outcome(folder, run_rules(build_dir=folder, as_of=AS_OF))
    assert outcome.indicators == area.indicators
    assert outcome.flags == area.flags


def test_an_aware_as_of_is_read_as_uk_local_time(tmp_path: Path) -> None:
    build = tmp_path / "build"
    small_area().write(build)
    summer = run_rules(build_dir=build, as_of=datetime(2025, 1, 15, 10, 0, tzinfo=UTC))
    assert summer.as_of == datetime(2025, 1, 15, 10, 0)  # GMT in January


def test_not_a_build(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such build folder"):
        run_rules(build_dir=tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="not a build"):
        run_rules(build_dir=tmp_path / "empty")
    with pytest.raises(UserError, match="the rules have not run on this build"):
        explain_person(build_dir=tmp_path / "empty", person_id="x")


def test_a_backend_error_carries_the_statement() -> None:
    with create_engine("duckdb") as db, pytest.raises(EngineError) as failed:
        db.execute("SELECT no_such_column FROM (SELECT 1 AS one) AS t")
    assert "no_such_column" in failed.value.reason
    assert failed.value.statement == "SELECT no_such_column FROM (SELECT 1 AS one) AS t"
    assert "-- the failing statement:" in str(failed.value)


def test_values_are_bound_as_literals_never_pasted() -> None:
    p = Params()
    hostile = "x'); DROP TABLE persons; --"
    tree = render(f"SELECT * FROM persons WHERE person_id = {p(hostile)} AND born < {p(AS_OF)}", p)
    literal = tree.find(exp.Literal)
    assert literal is not None and literal.this == hostile
    for dialect in ("duckdb", "spark"):
        sql = tree.sql(dialect)
        assert "DROP TABLE persons; --'" in sql and sql.count("persons") == 2  # quoted inside one literal
    with duckdb.connect() as con:
        con.execute("CREATE TABLE persons (person_id VARCHAR, born TIMESTAMP)")
        assert con.execute(tree.sql("duckdb")).fetchall() == []


def test_every_rule_compiles_with_no_placeholder_left() -> None:
    available = frozenset(e.source for r in default_rules().rules for e in r.evidence)
    for rule in default_rules().rules:
        query = rule_query(rule, as_of=AS_OF, available=available)
        assert query is not None and query.find(exp.Placeholder) is None, rule.id
        for dialect in ("duckdb", "spark"):
            assert "$p" not in query.sql(dialect), rule.id


@pytest.mark.spark
@pytest.mark.slow
def test_duckdb_and_spark_give_the_same_output(spark: Any, tmp_path: Path) -> None:
    outcomes = {}
    for engine in ("duckdb", "spark"):
        build = tmp_path / engine
        small_area().write(build)
        outcomes[engine] = read_outcome(build, run_rules(build_dir=build, engine=engine, as_of=AS_OF))
    on_duckdb, on_spark = outcomes["duckdb"], outcomes["spark"]
    assert on_spark.result.engine == "spark"
    assert on_spark.indicators == on_duckdb.indicators
    assert on_spark.flags == on_duckdb.flags
    assert on_spark.evidence == on_duckdb.evidence
    assert len(on_duckdb.flags) == 8 and len(on_duckdb.indicators) == 13
    reasons = " ".join(str(f["rag_reason"]) for f in on_duckdb.flags)  # the rating's every reason, on both engines
    for words in ("from 3 days ago", "another rule flags the same person", "41 days old", "already the highest"):
        assert words in reasons, words


@pytest.mark.spark
def test_a_spark_error_carries_the_statement(spark: Any) -> None:
    with create_engine("spark", session=spark) as db, pytest.raises(EngineError) as failed:
        db.execute("SELECT no_such_column FROM (SELECT 1 AS one) AS t")
    assert failed.value.engine == "spark"
    assert "no_such_column" in str(failed.value)
    assert failed.value.statement.startswith("SELECT no_such_column")
