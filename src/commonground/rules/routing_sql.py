"""Routing flags in the engine: recipient and deadline for each flag, from the routing pack.

The routing pack becomes a small table (``rules_routes``) and the school calendar another
(``rules_school_calendar``, one row per day), so the join runs where the flags are, on DuckDB or
Spark alike, and no value is written into SQL text.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pyarrow as pa

from commonground.engine import Engine
from commonground.rules.calendar import SchoolCalendar
from commonground.rules.routing import RoutingPack
from commonground.rules.sql import Params, render


def routes_table(routing: RoutingPack, *, as_of: datetime) -> pa.Table:
    rows = []
    for route in routing.routes:
        otherwise = route.otherwise
        rows.append(
            {
                "rule_id": route.rule,
                "organisation_type": route.to.organisation_type.value,
                "role": route.to.role,
                "resolve_school": route.resolve == "child_school",
                "otherwise_type": otherwise.organisation_type.value if otherwise else None,
                "otherwise_role": otherwise.role if otherwise else None,
                "rag": route.deadline.rag.value if route.deadline.rag else None,
                "rag_due_by": as_of + timedelta(hours=routing.rag_hours[route.deadline.rag])
                if route.deadline.rag
                else None,
                "school_notice": route.deadline.before_next_school_day,
            }
        )
    schema = pa.schema(
        [
            ("rule_id", pa.string()),
            ("organisation_type", pa.string()),
            ("role", pa.string()),
            ("resolve_school", pa.bool_()),
            ("otherwise_type", pa.string()),
            ("otherwise_role", pa.string()),
            ("rag", pa.string()),
            ("rag_due_by", pa.timestamp("us")),
            ("school_notice", pa.bool_()),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)


def route_flags(db: Engine, *, routing: RoutingPack, as_of: datetime, lookback_days: int | None = None) -> None:
    """Materialise ``rules_flag_routes``: every flag with its recipient, RAG and ``due_by``.

    ``lookback_days``: the school-notice flags are known to have their latest evidence within this
    many days before ``as_of`` (their ``raise_within_days``), so the calendar needs no query first.
    """
    db.register("rules_routes", routes_table(routing, as_of=as_of))
    if lookback_days is not None:
        first, last = as_of - timedelta(days=lookback_days), as_of
    else:
        span = db.execute(
            render(
                "SELECT MIN(f.latest_evidence) AS first, MAX(f.latest_evidence) AS last FROM rules_flags AS f "
                "JOIN rules_routes AS r ON r.rule_id = f.rule_id WHERE r.school_notice"
            )
        ).to_pylist()[0]
        first = span["first"] or as_of
        last = max(span["last"] or as_of, as_of)
    calendar = SchoolCalendar(routing.school_days)
    db.register(
        "rules_school_calendar", calendar.table(first.date() - timedelta(days=1), last.date() + timedelta(days=1))
    )
    db.stage(
        "rules_flag_school",
        render("""
            SELECT person_id, rule_id, school_urn FROM (
                SELECT f.person_id, f.rule_id, s.school_urn,
                       ROW_NUMBER() OVER (PARTITION BY f.person_id, f.rule_id
                                          ORDER BY s.enrolled_on DESC NULLS LAST, s.school_urn) AS rn
                FROM rules_flags AS f
                JOIN rules_routes AS r ON r.rule_id = f.rule_id AND r.resolve_school
                JOIN rules_school_roll AS s ON s.person_id = f.person_id
                     AND (s.enrolled_on IS NULL OR s.enrolled_on <= CAST(f.latest_evidence AS DATE))
                     AND (s.left_on IS NULL OR s.left_on >= CAST(f.latest_evidence AS DATE))
            ) AS ranked WHERE rn = 1
        """),
    )
    p = Params()
    db.materialise(
        "rules_flag_routes",
        render(
            f"""
            SELECT person_id, rule_id, rule_version, first_evidence, latest_evidence, evidence_count,
                   organisation_type, organisation_id, role,
                   organisation_type || COALESCE(':' || organisation_id, '') || '/' || role AS route_to,
                   rag, due_by, raised_at
            FROM (
                SELECT f.person_id, f.rule_id, f.rule_version, f.first_evidence, f.latest_evidence, f.evidence_count,
                       CASE WHEN r.resolve_school AND sc.school_urn IS NULL THEN r.otherwise_type
                            ELSE r.organisation_type END AS organisation_type,
                       CASE WHEN r.resolve_school THEN sc.school_urn END AS organisation_id,
                       CASE WHEN r.resolve_school AND sc.school_urn IS NULL THEN r.otherwise_role
                            ELSE r.role END AS role,
                       r.rag,
                       CASE WHEN r.school_notice THEN
                                CASE WHEN c.is_school_day AND f.latest_evidence < c.day_start THEN c.day_start
                                     ELSE c.next_start END
                            ELSE r.rag_due_by END AS due_by,
                       {p(as_of)} AS raised_at
                FROM rules_flags AS f
                JOIN rules_routes AS r ON r.rule_id = f.rule_id
                LEFT JOIN rules_flag_school AS sc ON sc.person_id = f.person_id AND sc.rule_id = f.rule_id
                LEFT JOIN rules_school_calendar AS c ON c.day = CAST(f.latest_evidence AS DATE)
            ) AS routed
            """,
            p,
        ),
    )
