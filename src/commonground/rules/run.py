"""Running the rule packs on a build: ``run_rules``.

The run reads a published build (read-only), stages it (:mod:`staging`), runs each rule's query
(:mod:`compile`), aggregates indicators and flags, routes the flags (:mod:`routing_sql`), and
writes everything to ``<build_dir>/rules.duckdb``: first to a temporary file in the same folder,
then renamed over the old one, so a reader sees the previous complete output or the new one. A run
killed while writing (``kill -9`` skips its clean-up) leaves its temporary file, never read; the next
run on the build removes it (:func:`remove_leftovers`).
"""

from __future__ import annotations

import json
import os
import shutil
import time as clock
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
from sqlglot import exp

from commonground import __version__
from commonground.engine import Engine, EngineError, create_engine
from commonground.errors import UserError
from commonground.rules import outputs
from commonground.rules.compile import rule_query
from commonground.rules.packs import RuleSet, default_rules
from commonground.rules.routing_sql import route_flags
from commonground.rules.sql import Params, render
from commonground.rules.staging import BUILD_TABLES, stages

OUTPUT_FILE = "rules.duckdb"


@dataclass(frozen=True)
class RulesResult:
    """What a run produced, for the CLI to print."""

    build_dir: Path
    output: Path
    engine: str
    as_of: datetime
    indicators: int
    flags: int
    evidence: int
    persons_by_rule: Mapping[str, int]
    rule_versions: Mapping[str, int]
    unavailable_sources: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Sources the build could not feed (a partner sent no extract), with the tables missing."""
    seconds: float = 0.0
    age_unknown: int = 0
    """Persons with no date of birth on any record (#15): adults to the rules unless a record says otherwise."""
    age_unknown_said_child: int = 0
    """Of those, persons a record says were a child (counted as a child up to that record)."""
    age_unknown_by_feed: Mapping[str, int] = field(default_factory=dict)
    """Persons of unknown age with a record in each feed (a person with records in two feeds counts in both)."""

    def age_unknown_lines(self) -> list[str]:
        """The persons of unknown age, in words (empty when every person has a date of birth)."""
        if not self.age_unknown:
            return []
        lines = [f"age unknown: {age_unknown_words(self.age_unknown, self.age_unknown_said_child)}"]
        lines += [f"  with a record in {feed}: {count:,}" for feed, count in sorted(self.age_unknown_by_feed.items())]
        return lines

    def summary(self) -> str:
        lines = [
            f"rules on {self.build_dir} with {self.engine} as of {self.as_of:%Y-%m-%d %H:%M}: "
            f"{self.indicators:,} indicators, {self.flags:,} flags, {self.evidence:,} evidence records "
            f"in {self.seconds:.1f} s -> {self.output}"
        ]
        lines += [f"  {rule_id:40} {count:>9,}" for rule_id, count in sorted(self.persons_by_rule.items())]
        lines += [f"  not available: {s} (no {', '.join(t)})" for s, t in sorted(self.unavailable_sources.items())]
        lines += self.age_unknown_lines()
        return "\n".join(lines)


def age_unknown_words(persons: int, said_child: int) -> str:
    """How many persons have no date of birth on any record, and what the rules make of them, in words."""
    who = "1 person has" if persons == 1 else f"{persons:,} people have"
    said = (
        "no record says any of them was a child"
        if said_child == 0
        else f"{said_child:,} of them {'was' if said_child == 1 else 'were'} said to be a child by a record (a "
        "children's social care referral, or named as a child present at a police incident) and "
        f"{'counts' if said_child == 1 else 'count'} as one up to the day of it"
    )
    return (
        f"{who} no date of birth on any record. The rules count them as adults, never as children unless a record "
        f"says so: {said}."
    )


def run_rules(
    *,
    build_dir: Path,
    engine: str = "duckdb",
    as_of: datetime | None = None,
    rules: RuleSet | None = None,
    engine_options: Mapping[str, object] | None = None,
) -> RulesResult:
    """Run every rule pack on a build and write ``indicators``, ``flags`` and ``evidence`` to
    ``build_dir/rules.duckdb`` (atomically). ``as_of`` (default: now, local time) is the moment the
    flags are raised: records after it are ignored and RAG deadlines count from it."""
    started = clock.perf_counter()
    moment = local_moment(as_of or datetime.now())
    rule_set = rules or default_rules()
    _check_build(build_dir)
    remove_leftovers(build_dir, started_at=clock.time())
    with create_engine(engine, **dict(engine_options or {})) as db:
        schema = db.attach_build(build_dir)
        missing = [t for t in BUILD_TABLES if t not in schema]
        if missing:
            raise UserError(f"{build_dir}: not a complete build (no {', '.join(missing)} table)")
        unavailable = _stage(db, schema=schema, as_of=moment, rule_set=rule_set)
        available = frozenset(s for r in rule_set.rules for s in (e.source for e in r.evidence)) - set(unavailable)
        _evaluate(db, rule_set=rule_set, as_of=moment, available=available)
        route_flags(db, routing=rule_set.routing, as_of=moment, lookback_days=_school_lookback(rule_set))
        tables = {
            "indicators": db.fetch("rules_indicators"),
            "flags": db.fetch("rules_flag_routes"),
            "evidence": db.fetch("rules_evidence"),
        }
        unknown = _age_unknown(db)
    tables = {name: outputs.normalise(table) for name, table in tables.items()}
    tables["age_unknown"] = unknown
    tables.update(outputs.metadata_tables(rule_set))
    run_info = {
        "as_of": moment.isoformat(sep=" "),
        "engine": engine,
        "run_at": datetime.now().replace(microsecond=0).isoformat(sep=" "),
        "commonground_version": __version__,
        "routing_area": rule_set.routing.area,
        "routing_version": str(rule_set.routing.version),
        "packs": json.dumps({p.pack: p.version for p in rule_set.packs}),
        "unavailable_sources": json.dumps({k: list(v) for k, v in unavailable.items()}),
    }
    tables["rules_run"] = pa.table({"key": list(run_info), "value": list(run_info.values())})
    output = build_dir / OUTPUT_FILE
    _write_atomically(output, tables)
    counts = tables["indicators"].group_by("rule_id").aggregate([("person_id", "count")]).to_pylist()
    counts += tables["flags"].group_by("rule_id").aggregate([("person_id", "count")]).to_pylist()
    return RulesResult(
        build_dir=build_dir,
        output=output,
        engine=engine,
        as_of=moment,
        indicators=tables["indicators"].num_rows,
        flags=tables["flags"].num_rows,
        evidence=tables["evidence"].num_rows,
        persons_by_rule={row["rule_id"]: row["person_id_count"] for row in counts},
        rule_versions={r.id: r.version for r in rule_set.rules},
        unavailable_sources=unavailable,
        seconds=clock.perf_counter() - started,
        age_unknown=unknown.num_rows,
        age_unknown_said_child=unknown.num_rows - unknown["child_until"].null_count,
        age_unknown_by_feed=_count_feeds(unknown),
    )


def _age_unknown(db: Engine) -> pa.Table:
    """``person_id, child_until, feeds``: one row per person with no date of birth on any record (#15); ``feeds``
    lists the feeds of their records, comma-separated."""
    db.stage(
        "rules_age_unknown",
        render("""
            SELECT DISTINCT p.person_id, p.child_until, CAST(pr.feed AS VARCHAR) AS feed
            FROM rules_people AS p LEFT JOIN person_records AS pr ON CAST(pr.person_id AS VARCHAR) = p.person_id
            WHERE NOT p.age_known
        """),
    )
    rows = outputs.normalise(db.fetch("rules_age_unknown")).to_pylist()
    people: dict[str, tuple[datetime | None, set[str]]] = {}
    for row in rows:
        _, feeds = people.setdefault(row["person_id"], (row["child_until"], set()))
        if row["feed"] is not None:
            feeds.add(row["feed"])
    ordered = sorted(people.items())
    return pa.table(
        {
            "person_id": pa.array([pid for pid, _ in ordered], pa.string()),
            "child_until": pa.array([until for _, (until, _) in ordered], pa.timestamp("us")),
            "feeds": pa.array([",".join(sorted(feeds)) for _, (_, feeds) in ordered], pa.string()),
        }
    )


def _count_feeds(unknown: pa.Table) -> dict[str, int]:
    counts: dict[str, int] = {}
    for feeds in unknown["feeds"].to_pylist():
        for feed in filter(None, str(feeds).split(",")):
            counts[feed] = counts.get(feed, 0) + 1
    return counts


def local_moment(moment: datetime) -> datetime:
    """Records hold local (UK) wall-clock time without a zone: an aware moment is converted to it."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(ZoneInfo("Europe/London")).replace(tzinfo=None)
    return moment.replace(microsecond=0)


def _school_lookback(rule_set: RuleSet) -> int | None:
    """How far back the latest evidence of a school-notice flag can be (None: unbounded)."""
    days = [
        rule_set.rule(route.rule).raise_within_days
        for route in rule_set.routing.routes
        if route.deadline.before_next_school_day
    ]
    if not days:
        return 0
    if any(d is None for d in days):
        return None
    return max(d for d in days if d is not None)


def _check_build(build_dir: Path) -> None:
    if not build_dir.is_dir():
        raise UserError(f"{build_dir}: no such build folder")
    if not (build_dir / "build.duckdb").exists() and not any(build_dir.glob("*/*.parquet")):
        raise UserError(f"{build_dir}: not a build (no build.duckdb and no Parquet tables)")


def _stage(
    db: Engine, *, schema: dict[str, dict[str, str]], as_of: datetime, rule_set: RuleSet
) -> dict[str, tuple[str, ...]]:
    sources = tuple(dict.fromkeys(e.source for r in rule_set.rules for e in r.evidence))
    staged, unavailable = stages(schema=schema, as_of=as_of, sources=sources)
    for stage in staged:
        if stage.keep:
            db.materialise(stage.name, stage.query)
        else:
            db.stage(stage.name, stage.query)
    db.stage("rules_school_roll", _school_roll_query(schema))
    return unavailable


def _school_roll_query(schema: dict[str, dict[str, str]]) -> exp.Expr:
    roll = schema.get("feed_school_roll")
    if roll is None or "person_records" not in schema:
        return render(
            "SELECT CAST(NULL AS VARCHAR) AS person_id, CAST(NULL AS VARCHAR) AS school_urn, "
            "CAST(NULL AS DATE) AS enrolled_on, CAST(NULL AS DATE) AS left_on WHERE FALSE"
        )
    enrolled = "f.enrolled_on" if "enrolled_on" in roll else "CAST(NULL AS DATE)"
    left = "f.left_on" if "left_on" in roll else "CAST(NULL AS DATE)"
    p = Params()
    return render(
        f"SELECT CAST(pr.person_id AS VARCHAR) AS person_id, CAST(f.school_urn AS VARCHAR) AS school_urn, "
        f"{enrolled} AS enrolled_on, {left} AS left_on FROM feed_school_roll AS f "
        f"JOIN person_records AS pr ON pr.feed = {p('school_roll')} AND pr.record_id = f.record_id",
        p,
    )


def _evaluate(db: Engine, *, rule_set: RuleSet, as_of: datetime, available: frozenset[str]) -> None:
    names: list[str] = []
    for index, rule in enumerate(rule_set.rules):
        query = rule_query(rule, as_of=as_of, available=available)
        if query is None:
            continue
        name = f"rules_ev_{index}"
        try:
            db.stage(name, query)
        except EngineError as error:
            raise EngineError(
                f"rule {rule.id}: {error.reason}", statement=error.statement, engine=error.engine
            ) from error
        names.append(name)
    if names:
        union = " UNION ALL ".join(f"SELECT * FROM {n}" for n in names)
    else:
        union = (
            "SELECT CAST(NULL AS VARCHAR) AS person_id, CAST(NULL AS VARCHAR) AS rule_id, 0 AS rule_version, "
            "CAST(NULL AS VARCHAR) AS kind, 0 AS item, CAST(NULL AS VARCHAR) AS signal, CAST(NULL AS VARCHAR) AS feed, "
            "CAST(NULL AS VARCHAR) AS record_id, CAST(NULL AS VARCHAR) AS via_person_id, "
            "CAST(NULL AS TIMESTAMP) AS evidence_at WHERE FALSE"
        )
    # Computed once, then handed back to the engine as plain rows: on Spark a kept view still carries the plan of
    # every rule (dozens of self-joined stages), which each later statement would analyse again (#17: with 22 rules
    # that analysis alone ran out of memory). The evidence is small (it is written out through Arrow anyway).
    db.materialise("rules_evidence_all", render(union))
    db.register("rules_evidence", db.fetch("rules_evidence_all"))
    db.materialise(
        "rules_summary",
        render("""
            SELECT person_id, rule_id, rule_version, kind, MIN(evidence_at) AS first_evidence,
                   MAX(evidence_at) AS latest_evidence, COUNT(DISTINCT feed || '/' || record_id) AS evidence_count
            FROM rules_evidence GROUP BY person_id, rule_id, rule_version, kind
        """),
    )
    columns = "person_id, rule_id, rule_version, first_evidence, latest_evidence, evidence_count"
    for table, kind in (("rules_indicators", "indicator"), ("rules_flags", "flag")):
        p = Params()
        db.stage(table, render(f"SELECT {columns} FROM rules_summary WHERE kind = {p(kind)}", p))


def remove_leftovers(build_dir: Path, *, started_at: float) -> list[str]:
    """Remove the temporary outputs of killed rules runs on this build (``.rules.duckdb.<pid>-<hex>.tmp``, its
    ``.wal`` and DuckDB's spill folder beside it); returns their names. Only that kind of file, and only one that
    was last written before ``started_at`` (this run's start, a wall-clock time) by a process that is no longer
    running (the writer's process id is in the name): a run on the same build at the same time keeps its own.
    A name without a process id (written before they carried one) goes on its age alone."""
    removed = []
    for path in sorted(build_dir.glob(f".{OUTPUT_FILE}.*.tmp*")):
        writer = path.name.removeprefix(f".{OUTPUT_FILE}.").split(".", 1)[0]
        pid = writer.split("-", 1)[0] if "-" in writer else ""
        try:
            stale = path.stat().st_mtime < started_at and not (pid.isdecimal() and _running(int(pid)))
        except FileNotFoundError:  # its run has just removed it
            continue
        if not stale:
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path.name)
    return removed


def _running(pid: int) -> bool:
    """Whether a process with this id is running on this machine (one of another user counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write_atomically(path: Path, tables: Mapping[str, pa.Table]) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex}.tmp")
    try:
        with duckdb.connect(str(temporary)) as con:
            for name, table in tables.items():
                con.register("incoming", table)
                con.execute(f"CREATE TABLE {outputs.table_name(name)} AS SELECT * FROM incoming")
                con.unregister("incoming")
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)
        Path(f"{temporary}.wal").unlink(missing_ok=True)
